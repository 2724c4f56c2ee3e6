"""The Summary panel shows blocks as a tree with their totals; a block's row selects it on the canvas;
the layer search finds layers inside folded blocks and opens them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from cnnstudio.core import blocks
from cnnstudio.ui.summary import BLOCK_ROLE, NODE_ROLE


def _features(window, collapsed=False):
    window.editor.select(["conv1", "pool1", "conv2", "pool2"])
    block_id = window.editor.group_selection("Features")
    if collapsed:
        window.editor.set_block_collapsed(block_id, True)
    return block_id


def _wait_rows(qtbot, model, count):
    qtbot.waitUntil(lambda: model.rowCount() == count)


def test_blocks_are_rows_holding_their_layers_with_totals(main_window, qtbot):
    block_id = _features(main_window)
    model = main_window.summary_model
    _wait_rows(qtbot, model, 9 - 4 + 1)  # 5 loose layers and the block
    block = model.index_of(block_id)
    assert block.data(BLOCK_ROLE) and block.row() == 1
    analysis = main_window.document.analysis()
    cells = [model.index(1, c).data() for c in range(7)]
    assert cells[0] == "Features" and cells[1] == "Block (4 layers)"
    assert cells[2] == "5x5x16"  # pool2's output
    assert cells[5] == f"{analysis.layers['conv1'].params + analysis.layers['conv2'].params:,}"
    assert cells[6] == main_window.summary_model.index_of("pool2").siblingAtColumn(6).data()
    assert [model.index(r, 0, block).data(NODE_ROLE) for r in range(model.rowCount(block))] == [
        "conv1", "pool1", "conv2", "pool2"]
    assert main_window.summary.table.isExpanded(block)


def test_frozen_parameters_of_a_block_are_shown(main_window, qtbot):
    block_id = _features(main_window)
    blocks.set_trainable(main_window.document.network, block_id, False)
    model = main_window.summary_model
    qtbot.waitUntil(lambda: "non-trainable" in (model.index_of(block_id).siblingAtColumn(1).data() or ""))
    assert "non-trainable" in model.index_of(block_id).data(Qt.ItemDataRole.ToolTipRole)


def test_a_folded_block_is_a_folded_row_and_clicking_it_selects_the_block(main_window, qtbot):
    block_id = _features(main_window, collapsed=True)
    table = main_window.summary.table
    model = main_window.summary_model
    qtbot.waitUntil(lambda: model.index_of(block_id).isValid() and not table.isExpanded(model.index_of(block_id)))
    main_window.editor.select([])
    index = model.index_of(block_id)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    assert main_window.editor.scene.selected_block_ids() == [block_id]
    assert main_window.editor.scene.block_view.nodes[block_id].isSelected()


def test_clicking_a_layer_inside_a_folded_block_opens_it(main_window, qtbot):
    block_id = _features(main_window, collapsed=True)
    model, table = main_window.summary_model, main_window.summary.table
    qtbot.waitUntil(lambda: model.index_of("conv2").isValid())
    table.show_layer("conv2")  # opens the row
    index = model.index_of("conv2")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    assert not main_window.document.network.blocks[block_id].collapsed
    assert main_window.editor.selected_ids() == ["conv2"]


def test_the_layer_search_finds_layers_in_folded_blocks_and_opens_them(main_window, qtbot):
    block_id = _features(main_window, collapsed=True)
    editor = main_window.editor
    assert "conv2" not in editor.scene.nodes
    editor.find_layer()
    assert "conv2  ·  Conv2D  ·  in Features" in editor.search.model.stringList()
    assert editor.search.matches("features pool") == ["pool1", "pool2"]  # by its block's name too
    editor.search.setText("conv2")
    qtbot.keyClick(editor.search, Qt.Key.Key_Return)
    assert not main_window.document.network.blocks[block_id].collapsed
    assert editor.scene.nodes["conv2"].isVisible() and editor.selected_ids() == ["conv2"]
    main_window.document.undo_stack.undo()  # the opening is one step
    assert main_window.document.network.blocks[block_id].collapsed


def test_the_inspector_shows_a_selected_block_as_a_tree_with_its_totals(main_window, qtbot):
    block_id = _features(main_window)
    main_window.editor.select_block(block_id)
    inspector = main_window.inspector
    assert inspector.showing == "block"
    analysis = main_window.document.analysis()
    params = analysis.layers["conv1"].params + analysis.layers["conv2"].params
    assert f"{params:,} parameters" in inspector.block_page.title.text()
    top = inspector.block_page.tree.topLevelItem(0)
    assert top.text(0) == "Features" and top.text(1) == "5x5x16" and top.text(2) == f"{params:,}"
    assert [top.child(i).text(0) for i in range(top.childCount())] == [
        "conv1 (Conv2D)", "pool1 (MaxPooling2D)", "conv2 (Conv2D)", "pool2 (MaxPooling2D)"]
    main_window.editor.select(["fc1"])
    assert inspector.showing == "layer"


def test_deleting_a_layer_inside_a_block_keeps_the_tree_whole(main_window, qtbot):
    block_id = _features(main_window)
    main_window.editor.select(["pool1"])
    main_window.editor.delete_selection(reconnect=False)
    model = main_window.summary_model
    qtbot.waitUntil(lambda: model.rowCount(model.index_of(block_id)) == 3)
    assert model.index_of(block_id).siblingAtColumn(1).data() == "Block (3 layers)"
    main_window.editor.select_block(block_id)
    assert main_window.inspector.block_page.tree.topLevelItem(0).childCount() == 3
    main_window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: model.rowCount(model.index_of(block_id)) == 4)
