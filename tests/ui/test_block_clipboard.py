"""Copy, Cut, Duplicate, Paste and Delete with a block selected on the canvas (folded or open): the whole
block goes, with its layers, inner connections, nested blocks and repeats, as one undo step each."""

from __future__ import annotations

from cnnstudio.core import blocks

FEATURES = ["conv1", "pool1", "conv2", "pool2"]


def folded_features(window) -> tuple[str, str]:
    """Features [Stem [conv1, pool1], conv2, pool2], folded, selected on the canvas."""
    editor = window.editor
    editor.select(["conv1", "pool1"])
    stem = editor.group_selection("Stem")
    editor.scene.select_nodes(["conv2", "pool2"], block_ids=[stem])
    features = editor.group_selection("Features")
    editor.set_block_collapsed(features, True)
    editor.select_block(features)
    return features, stem


def test_duplicate_with_a_folded_block_selected_copies_the_block_whole(main_window):
    network, stack = main_window.document.network, main_window.document.undo_stack
    features, stem = folded_features(main_window)
    layers_before = len(network)
    assert main_window.actions_["duplicate"].isEnabled()
    main_window.actions_["duplicate"].trigger()
    copy = next(b for b in blocks.top_level(network) if b != features)
    assert network.blocks[copy].name == "Features (copy)" and network.blocks[copy].collapsed
    copied = blocks.layers_in(network, copy)
    assert copied == ["conv1_1", "pool1_1", "conv2_1", "pool2_1"] and len(network) == layers_before + 4
    assert network.inputs_of("pool1_1") == ["conv1_1"] and network.inputs_of("conv2_1") == ["pool1_1"]
    inner = next(m for m in network.blocks[copy].members if m in network.blocks)
    assert network.blocks[inner].name == "Stem (copy)" and blocks.layers_in(network, inner) == ["conv1_1", "pool1_1"]
    assert main_window.editor.scene.selected_block_ids() == [copy]  # the copy is what is selected now
    assert copy in main_window.editor.scene.block_view.nodes  # shown folded, as one node
    (x, y), (copy_x, copy_y) = network.node("conv1").position, network.node("conv1_1").position
    assert abs(copy_y - y) <= 20 and copy_x > x + 150  # beside the original (on the grid), not over it
    stack.undo()
    assert len(network) == layers_before and set(network.blocks) == {features, stem}


def test_copy_and_paste_of_an_open_block_frame_keeps_its_grouping(main_window, qtbot):
    network, editor = main_window.document.network, main_window.editor
    editor.select(["conv1", "pool1"])
    stem = editor.group_selection("Stem")
    editor.select_block(stem)  # its frame, open
    assert main_window.actions_["copy"].isEnabled()
    main_window.actions_["copy"].trigger()
    qtbot.waitUntil(main_window.actions_["paste"].isEnabled)
    main_window.actions_["paste"].trigger()
    (pasted,) = [b for b in network.blocks if b != stem]
    assert blocks.layers_in(network, pasted) == ["conv1_1", "pool1_1"]
    assert pasted in editor.scene.block_view.frames and editor.scene.selected_block_ids() == [pasted]
    main_window.document.undo_stack.undo()
    assert list(network.blocks) == [stem] and "conv1_1" not in network.nodes


def test_cut_of_a_folded_block_takes_it_away_and_paste_brings_it_back(main_window, qtbot):
    network, stack = main_window.document.network, main_window.document.undo_stack
    features, stem = folded_features(main_window)
    main_window.actions_["cut"].trigger()
    assert not set(FEATURES) & set(network.nodes) and not network.blocks
    qtbot.waitUntil(main_window.actions_["paste"].isEnabled)
    main_window.actions_["paste"].trigger()
    assert set(FEATURES) <= set(network.nodes)  # the ids were free again
    assert blocks.layers_in(network, features) == FEATURES and network.blocks[features].name == "Features"
    assert network.blocks[features].members == ["conv2", "pool2", stem]
    stack.undo()  # the paste
    stack.undo()  # the cut
    assert blocks.layers_in(network, features) == FEATURES and set(network.blocks) == {features, stem}


def test_delete_of_a_selected_block_removes_the_block_too_and_undo_restores_both(main_window):
    network, stack = main_window.document.network, main_window.document.undo_stack
    features, stem = folded_features(main_window)
    main_window.actions_["delete"].trigger()
    assert not set(FEATURES) & set(network.nodes) and not network.blocks
    assert stack.undoText() == "Delete Features"
    assert "blocks" not in network.to_dict()
    stack.undo()
    assert blocks.layers_in(network, features) == FEATURES and blocks.layers_in(network, stem) == ["conv1", "pool1"]
    assert features in main_window.editor.scene.block_view.nodes
    stack.redo()
    assert not network.blocks


def test_a_copied_repeat_copy_still_names_the_block_it_repeats(make_window):
    from cnnstudio.core.templates import load_template

    window = make_window(load_template("resnet-mini"))
    editor, network = window.editor, window.document.network
    editor.select(["block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2", "block1_bn2", "block1_add",
                   "block1_out"])
    stage = editor.group_selection("Stage 1")
    (copy,) = editor.repeat_block(1)
    editor.select_block(copy)
    pasted = editor.duplicate_selection()
    (duplicate,) = [b for b in network.blocks if b not in (stage, copy)]
    assert network.blocks[duplicate].extra["copy_of"] == stage and len(pasted) == 7
    assert all(e.node in pasted for e in window.document.analysis().errors)  # only the unconnected copy


def test_a_frozen_layer_pasted_stays_frozen(main_window, qtbot):
    network, editor = main_window.document.network, main_window.editor
    network.set_trainable("conv1", False)
    editor.select(["conv1"])
    main_window.actions_["copy"].trigger()
    qtbot.waitUntil(main_window.actions_["paste"].isEnabled)
    (pasted,) = editor.paste()
    assert network.node(pasted).trainable is False and "trainable" not in network.node(pasted).extra
    assert pasted in blocks.frozen_layers(network)
