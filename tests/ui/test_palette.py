"""The palette: every catalog layer by category, search, drag onto the canvas, double-click to append."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragMoveEvent, QDropEvent

from cnnstudio.core.catalog import CATALOG, CATEGORIES
from cnnstudio.ui.palette import LAYER_MIME, TYPE_ROLE


def test_every_catalog_layer_is_listed_under_its_category_with_icon_and_explanation(main_window):
    tree = main_window.palette_panel.tree
    groups = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert groups == list(CATEGORIES)
    listed = {}
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            item = group.child(j)
            listed[item.data(0, TYPE_ROLE)] = (group.text(0), item)
    assert set(listed) == set(CATALOG)
    for type_name, (category, item) in listed.items():
        assert category == CATALOG[type_name].category
        assert CATALOG[type_name].doc in item.toolTip(0)
        assert not item.icon(0).isNull()


def test_search_shows_only_matching_layers(main_window):
    palette = main_window.palette_panel
    palette.search.setText("pool")
    visible = palette.visible_layers()
    assert "MaxPooling2D" in visible and "GlobalAveragePooling2D" in visible
    assert "Conv2D" not in visible and "Dense" not in visible
    palette.search.setText("feature map")  # words from the explanation count too
    assert "Conv2D" in palette.visible_layers()
    palette.search.clear()
    assert set(palette.visible_layers()) == set(CATALOG)


def test_double_click_appends_after_the_selected_layer_and_the_summary_updates(main_window, qtbot):
    editor, document = main_window.editor, main_window.document
    rows_before = main_window.summary_model.rowCount()
    editor.select(["output"])
    item = main_window.palette_panel.layer_items()["Dropout"]
    main_window.palette_panel.tree.itemActivated.emit(item, 0)
    new_id = editor.selected_ids()[0]
    assert document.network.node(new_id).type == "Dropout"
    assert document.network.inputs_of(new_id) == ["output"]
    assert main_window.summary_model.rowCount() == rows_before + 1
    assert new_id in editor.scene.nodes
    assert main_window.inspector.showing == "layer"  # the new layer is selected and shown


def test_appending_in_the_middle_splices_the_layer_in(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["flatten"])
    new_id = editor.append_layer("Dropout")
    assert network.inputs_of(new_id) == ["flatten"]
    assert network.inputs_of("fc1") == [new_id]
    assert network.node("fc1").position[1] > network.node(new_id).position[1]  # pushed down to make room
    analysis = main_window.document.analysis()
    assert analysis.ok and analysis.layers[new_id].output_shape == (400,)
    main_window.document.undo_stack.undo()
    assert network.inputs_of("fc1") == ["flatten"] and new_id not in network


def _drop(view, type_name: str, scene_pos: QPointF) -> None:
    mime = view.window().palette_panel.tree.mimeData([view.window().palette_panel.layer_items()[type_name]])
    assert mime.hasFormat(LAYER_MIME)
    point = view.mapFromScene(scene_pos)
    move = QDragMoveEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dragMoveEvent(move)
    drop = QDropEvent(
        QPointF(point),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(drop)


def test_dropping_a_layer_on_empty_canvas_adds_it_there(main_window):
    view, network = main_window.editor.view, main_window.document.network
    target = main_window.editor.scene.nodes["conv1"].pos() + QPointF(600, 0)
    _drop(view, "BatchNormalization", target)
    new_id = main_window.editor.selected_ids()[0]
    node = network.node(new_id)
    assert node.type == "BatchNormalization"
    assert abs(node.position[0] - target.x()) <= 20 and abs(node.position[1] - target.y()) <= 20
    assert network.inputs_of(new_id) == []
    assert main_window.document.analysis().layers[new_id].has_error  # "has no input": shown on the layer
    assert main_window.editor.scene.nodes[new_id].severity == "error"


def test_dropping_a_layer_on_a_connection_inserts_it_there(main_window):
    view, network, scene = main_window.editor.view, main_window.document.network, main_window.editor.scene
    view.centerOn(scene.edges[("conv1", "pool1")])
    midpoint = scene.edges[("conv1", "pool1")].path().pointAtPercent(0.5)
    _drop(view, "BatchNormalization", midpoint)
    new_id = main_window.editor.selected_ids()[0]
    assert network.inputs_of(new_id) == ["conv1"]
    assert network.inputs_of("pool1") == [new_id]
    analysis = main_window.document.analysis()
    assert analysis.layers[new_id].output_shape == (28, 28, 6)
    assert analysis.layers[new_id].params == 24  # 4 per channel: gamma, beta, mean, variance
    assert ("conv1", "pool1") not in scene.edges and (new_id, "pool1") in scene.edges
    main_window.document.undo_stack.undo()
    assert network.inputs_of("pool1") == ["conv1"]


def test_palette_drag_offers_the_layer_type(main_window):
    tree = main_window.palette_panel.tree
    mime = tree.mimeData([main_window.palette_panel.layer_items()["Conv2D"]])
    assert bytes(mime.data(LAYER_MIME)).decode() == "Conv2D"
    assert tree.dragEnabled()
