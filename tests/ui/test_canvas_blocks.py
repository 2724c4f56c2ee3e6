"""Blocks on the canvas: a collapsed block is one node with its ports, shape and parameters, an
expanded one a labelled frame; folding is undoable, saved, and hides layers without deleting them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from cnnstudio.core import blocks
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import load_template
from cnnstudio.ui.editor.block_items import BlockFrameItem, BlockNodeItem

from .helpers import click, drag


def _features(window, collapsed=False):
    """Group LeNet's convolutions and poolings into a block called Features (through the network)."""
    network = window.document.network
    blocks.group(network, ["conv1", "pool1", "conv2", "pool2"], "Features", collapsed=collapsed)
    return network


def test_an_expanded_block_is_a_labelled_frame_around_its_layers(main_window):
    network = _features(main_window)
    scene = main_window.editor.scene
    frame = scene.block_view.frames["features"]
    assert isinstance(frame, BlockFrameItem) and frame.name == "Features"
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        assert frame.rect.contains(scene.nodes[layer].sceneBoundingRect().center())
        assert scene.nodes[layer].isVisible()
    assert not frame.rect.contains(scene.nodes["flatten"].pos())
    assert frame.info is not None and frame.info.params == sum(
        main_window.document.analysis().layers[n].params for n in ("conv1", "conv2"))
    assert network.blocks["features"].collapsed is False


def test_a_collapsed_block_is_one_node_and_the_connections_attach_to_it(main_window):
    _features(main_window)
    scene = main_window.editor.scene
    input_y, flatten_y = scene.nodes["input"].pos().y(), scene.nodes["flatten"].pos().y()
    scene.fold_requested("features", True)
    node = scene.block_view.nodes["features"]
    assert isinstance(node, BlockNodeItem) and node.isVisible()
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        assert layer not in scene.nodes  # hidden (no item until the block opens), not deleted
        assert layer in main_window.document.network.nodes
    assert scene.edges[("input", "conv1")].shown_dst is node
    assert scene.edges[("pool2", "flatten")].shown_src is node
    assert ("conv1", "pool1") not in scene.edges
    assert node in (e.shown_dst for e in node.edges_in)
    # the rows below move up: the block takes one row
    assert scene.nodes["flatten"].pos().y() < flatten_y
    assert scene.nodes["input"].pos().y() == input_y
    assert node.pos().y() < scene.nodes["flatten"].pos().y()
    assert node.info.output_shapes == [main_window.document.analysis().layers["pool2"].output_shape]
    assert "params" in node.toolTip()


def test_folding_is_undoable_and_saved_in_the_project(main_window, tmp_path):
    network = _features(main_window)
    scene = main_window.editor.scene
    scene.fold_requested("features", True)
    assert network.blocks["features"].collapsed
    main_window.document.undo_stack.undo()
    assert not network.blocks["features"].collapsed
    assert "features" not in scene.block_view.nodes and "features" in scene.block_view.frames
    assert scene.nodes["conv1"].isVisible()
    main_window.document.undo_stack.redo()
    assert "features" in scene.block_view.nodes
    path = tmp_path / "folded.cnnproj"
    main_window.save_as(path)
    saved = load_project(path)
    assert saved.network.blocks["features"].collapsed is True


def test_double_click_and_the_chevron_fold_and_open(main_window, qtbot):
    _features(main_window)
    scene, view = main_window.editor.scene, main_window.editor.view
    frame = scene.block_view.frames["features"]
    view.centerOn(frame.chevron_rect().center())
    click(view, frame.chevron_rect().center())
    assert main_window.document.network.blocks["features"].collapsed
    node = scene.block_view.nodes["features"]
    view.centerOn(node)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(node.pos()))
    assert not main_window.document.network.blocks["features"].collapsed
    scene.fold_requested("features", True)
    node_again = scene.block_view.nodes["features"]
    view.centerOn(node_again)
    click(view, node_again.mapToScene(node_again.chevron_rect().center()))
    assert not main_window.document.network.blocks["features"].collapsed


def test_moves_made_while_folded_are_saved_unfolded(main_window):
    _features(main_window)
    network = main_window.document.network
    scene = main_window.editor.scene
    fc1_saved = network.node("fc1").position
    scene.fold_requested("features", True)
    item = scene.nodes["fc1"]
    scene.select_nodes(["fc1"])
    main_window.editor.nudge(40.0, 0.0)
    assert network.node("fc1").position == (fc1_saved[0] + 40.0, fc1_saved[1])
    assert item.pos().y() == scene.block_view.shown_y(fc1_saved[1])


def test_dragging_a_collapsed_block_moves_all_its_layers(main_window, qtbot):
    network = _features(main_window, collapsed=True)
    scene, view = main_window.editor.scene, main_window.editor.view
    node = scene.block_view.nodes["features"]
    before = {n: network.node(n).position for n in ("conv1", "pool2")}
    view.centerOn(node)
    start = node.mapToScene(QPointF(40, 20))
    drag(view, start, start + QPointF(200, 0))
    qtbot.waitUntil(lambda: network.node("conv1").position != before["conv1"])
    for layer, (x, y) in before.items():
        assert network.node(layer).position == (x + 200, y)


def test_a_project_opens_with_its_blocks_folded(make_window, qtbot):
    project = load_template("lenet5")
    blocks.group(project.network, ["conv1", "pool1", "conv2", "pool2"], "Features", collapsed=True)
    window = make_window(project)
    scene = window.editor.scene
    qtbot.waitUntil(lambda: "features" in scene.block_view.nodes)
    assert "conv2" not in scene.nodes


def test_a_selected_block_stays_selected_when_folded_or_opened(main_window):
    _features(main_window)
    scene = main_window.editor.scene
    main_window.editor.select_block("features")
    scene.fold_requested("features", True)
    assert scene.selected_block_ids() == ["features"] and scene.block_view.nodes["features"].isSelected()
    scene.fold_requested("features", False)
    assert scene.selected_block_ids() == ["features"]


def test_a_block_selected_on_the_canvas_is_frozen_and_unfrozen_as_a_whole(main_window):
    from cnnstudio.ui.inspector.freezing import is_frozen

    network = _features(main_window, collapsed=True)
    main_window.editor.select_block("features")
    freeze = main_window.actions_["freeze"]
    assert freeze.isEnabled()
    freeze.trigger()
    assert is_frozen(network, "features") and not is_frozen(network, "fc1")
    info = main_window.document.analysis()
    assert info.non_trainable_params >= info.layers["conv1"].params + info.layers["conv2"].params
    freeze.trigger()
    assert not is_frozen(network, "features")
    main_window.document.undo_stack.undo()
    assert is_frozen(network, "features")
