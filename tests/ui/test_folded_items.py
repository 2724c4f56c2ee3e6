"""Folded blocks make no canvas items for their layers: the canvas makes them when the block opens (or
when search or the Summary opens it) and drops them when it folds, everything else working as before."""

from __future__ import annotations

from cnnstudio.core import blocks
from cnnstudio.core.templates import load_template
from cnnstudio.ui.editor.commands import RemoveCommand, SetParamCommand

from .helpers import chain_project


def shown_layers(network) -> set[str]:
    """The layers no folded block hides, worked out from the blocks alone (not from the canvas)."""
    held = blocks.parents(network)

    def hidden(member: str) -> bool:
        owner = held.get(member)
        while owner is not None:
            if network.blocks[owner].collapsed:
                return True
            owner = held.get(owner)
        return False

    return {n for n in network.nodes if not hidden(n)}


def outermost_fold(network, layer: str) -> str | None:
    held, found = blocks.parents(network), None
    owner = held.get(layer)
    while owner is not None:
        if network.blocks[owner].collapsed:
            found = owner
        owner = held.get(owner)
    return found


def assert_canvas_shows_the_fold(scene) -> None:
    """An item for each layer shown and for each connection not inside one folded block; nothing more."""
    network = scene.network
    assert set(scene.nodes) == shown_layers(network)
    inside = {(s, d) for s, d in network.edges
              if outermost_fold(network, s) is not None and outermost_fold(network, s) == outermost_fold(network, d)}
    assert set(scene.edges) == set(network.edges) - inside
    for (src, dst), edge in scene.edges.items():
        assert edge.src is scene.nodes.get(src) and edge.dst is scene.nodes.get(dst)
        assert edge.shown_src is (scene.nodes.get(src) or scene.block_view.nodes[outermost_fold(network, src)])
        assert edge.shown_dst is (scene.nodes.get(dst) or scene.block_view.nodes[outermost_fold(network, dst)])
        if edge.dst is not None:
            assert edge in edge.dst.edges_in
        if edge.src is not None:
            assert edge in edge.src.edges_out
    for item in scene.nodes.values():
        assert item.scene() is scene and all(e.key in scene.edges for e in item.edges_in + item.edges_out)
    assert set(scene.items()) >= set(scene.nodes.values()) | set(scene.edges.values())


def staged_chain(layers: int, block: int = 30, stage: int = 5):
    """``chain_project`` grouped as an imported application is: blocks of ``block`` layers in folded stages."""
    project = chain_project(layers)
    network = project.network
    chain = [n for n in network.nodes if n.startswith("layer")]
    made = [blocks.group(network, chain[i:i + block], f"block {i // block}").id for i in range(0, len(chain), block)]
    for k, i in enumerate(range(0, len(made), stage)):
        blocks.group(network, made[i:i + stage], f"stage {k}", collapsed=True)
    return project


def test_a_folded_network_makes_items_only_for_what_it_shows(make_window):
    window = make_window(staged_chain(3000))
    scene = window.editor.scene
    network = window.document.network
    folded = [b for b in network.blocks if network.blocks[b].collapsed]
    assert len(network) == 3000 and len(folded) == 20
    assert set(scene.nodes) == {"input", "pool", "drop", "output"}  # 2,996 layers in the stages: no item
    assert set(scene.block_view.nodes) == set(folded)
    assert len(scene.edges) == 23  # the chain through the 20 folded stages and the loose layers
    assert_canvas_shows_the_fold(scene)
    assert window.editor.minimap.isVisible() or window.editor.view.fits(scene.nodes_rect())


def test_opening_a_block_makes_its_items_showing_the_analysis_and_folding_drops_them(main_window):
    network = main_window.document.network
    blocks.group(network, ["conv1", "pool1", "conv2", "pool2"], "Features", collapsed=True)
    scene = main_window.editor.scene
    assert_canvas_shows_the_fold(scene)
    analysis = main_window.document.analysis()
    scene.fold_requested("features", False)
    assert_canvas_shows_the_fold(scene)
    assert scene.nodes["conv2"].shape_text == "10x10x16" and scene.nodes["conv2"].params_text
    assert scene.nodes["conv2"].shape_text == "x".join(map(str, analysis.layers["conv2"].output_shape))
    scene.set_show_shapes(True)
    scene.fold_requested("features", True)
    assert "conv2" not in scene.nodes and ("conv1", "pool1") not in scene.edges
    scene.fold_requested("features", False)
    assert scene.edges[("conv1", "pool1")].label.isVisible()  # made with the display options in force
    assert scene.edges[("conv1", "pool1")].label.text == scene.nodes["conv1"].shape_text


def test_folding_and_opening_undo_and_redo_with_the_items_following(main_window):
    network = main_window.document.network
    blocks.group(network, ["conv1", "pool1"], "First", collapsed=False)
    blocks.group(network, ["conv1", "pool1", "conv2", "pool2"], "Features", collapsed=False)
    scene, stack = main_window.editor.scene, main_window.document.undo_stack
    for block_id, collapsed in (("first", True), ("features", True), ("first", False), ("features", False)):
        scene.fold_requested(block_id, collapsed)
        assert_canvas_shows_the_fold(scene)
    assert scene.block_view.nodes.keys() == set() and {"first", "features"} <= scene.block_view.frames.keys()
    for _ in range(4):
        stack.undo()
        assert_canvas_shows_the_fold(scene)
    for _ in range(4):
        stack.redo()
        assert_canvas_shows_the_fold(scene)


def test_a_layer_folded_away_leaves_the_selection_and_edits_made_while_folded_show_when_opened(main_window, qtbot):
    network = main_window.document.network
    blocks.group(network, ["conv1", "pool1", "conv2", "pool2"], "Features")
    editor, scene = main_window.editor, main_window.editor.scene
    editor.select(["conv2"])
    scene.fold_requested("features", True)
    assert editor.selected_ids() == [] and "conv2" not in scene.nodes
    main_window.document.push(SetParamCommand(network, "conv2", "filters", 24))  # e.g. from the Summary
    main_window.actions_["freeze"].setEnabled(True)
    editor.select_block("features")
    main_window.actions_["freeze"].trigger()  # the block frozen as a whole, folded
    qtbot.waitUntil(lambda: scene.block_view.nodes["features"].info.non_trainable_params > 0)
    editor.go_to_layer("conv2")  # as Find Layer does: the block opens, the layer is selected
    assert not network.blocks["features"].collapsed and editor.selected_ids() == ["conv2"]
    item = scene.nodes["conv2"]
    assert item.frozen and item.shape_text == "10x10x24" and item.detail.startswith("24 @")
    assert_canvas_shows_the_fold(scene)


def test_renaming_and_deleting_hidden_layers_keep_the_connections_to_their_block(main_window):
    network = main_window.document.network
    blocks.group(network, ["conv1", "pool1", "conv2", "pool2"], "Features", collapsed=True)
    scene, document = main_window.editor.scene, main_window.document
    network.rename_node("pool2", "last_pool")  # a hidden layer renamed (undo of a rename made while open)
    assert ("last_pool", "flatten") in scene.edges and ("pool2", "flatten") not in scene.edges
    assert scene.edges[("last_pool", "flatten")].shown_src is scene.block_view.nodes["features"]
    assert_canvas_shows_the_fold(scene)
    main_window.editor.select_block("features")
    assert main_window.editor.delete_selection(reconnect=False)  # the block goes with its layers
    assert_canvas_shows_the_fold(scene)
    document.undo_stack.undo()  # the layers come back hidden
    assert "features" in scene.block_view.nodes and "conv1" not in scene.nodes
    assert_canvas_shows_the_fold(scene)
    scene.fold_requested("features", False)
    assert scene.nodes["conv1"].shape_text and scene.edges[("input", "conv1")].dst is scene.nodes["conv1"]
    assert_canvas_shows_the_fold(scene)


def test_a_folded_resnet_template_opens_stage_by_stage(make_window):
    project = load_template("resnet-mini")
    network = project.network
    residual = [n for n in network.nodes if n.startswith("block1")]
    blocks.group(network, residual, "Block 1", collapsed=True)
    window = make_window(project)
    scene = window.editor.scene
    assert not set(residual) & set(scene.nodes)
    assert_canvas_shows_the_fold(scene)
    window.editor.reveal(residual[-1])
    assert set(residual) <= set(scene.nodes) and "block_1" in scene.block_view.frames
    assert_canvas_shows_the_fold(scene)
    window.document.push(RemoveCommand(network, [residual[0]], (), "Delete"))
    assert_canvas_shows_the_fold(scene)
    window.document.undo_stack.undo()
    assert_canvas_shows_the_fold(scene)
