"""Group into Block (Ctrl+G), Ungroup (Ctrl+Shift+G) and Repeat Block…: undoable, refusals in plain words."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from cnnstudio.core import blocks
from cnnstudio.core.templates import load_template


def test_ctrl_g_groups_the_selection_under_the_name_asked(main_window, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Features", True))
    editor = main_window.editor
    editor.select(["conv1", "pool1", "conv2", "pool2"])
    main_window.actions_["group"].trigger()
    network = main_window.document.network
    assert network.blocks["features"].name == "Features"
    assert blocks.layers_in(network, "features") == ["conv1", "pool1", "conv2", "pool2"]
    assert "features" in editor.scene.block_view.frames
    assert editor.scene.selected_block_ids() == ["features"]
    main_window.document.undo_stack.undo()
    assert not network.blocks and not editor.scene.block_view.frames
    main_window.document.undo_stack.redo()
    assert "features" in network.blocks


def test_a_group_that_would_make_a_loop_is_refused_in_plain_words(main_window):
    messages = []
    main_window.editor.message.connect(lambda _kind, text: messages.append(text))
    main_window.editor.select(["conv1", "conv2"])  # pool1 lies between them
    assert main_window.editor.group_selection("Broken") is None
    assert not main_window.document.network.blocks
    assert "Cannot group these layers" in messages[-1] and "'pool1'" in messages[-1] and "loop" in messages[-1]
    assert not main_window.document.undo_stack.canUndo()


def test_a_group_cutting_a_block_in_two_is_refused(main_window):
    messages = []
    main_window.editor.message.connect(lambda _kind, text: messages.append(text))
    main_window.editor.select(["conv1", "pool1"])
    main_window.editor.group_selection("A")
    main_window.editor.select(["pool1", "conv2"])
    assert main_window.editor.group_selection("B") is None
    assert "cut the block 'A' in two" in messages[-1]


def test_ungroup_keeps_the_layers_and_undo_brings_the_block_back(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["conv1", "pool1"])
    editor.group_selection("Stem")
    editor.select(["conv1"])  # a layer inside: its block is the one ungrouped
    main_window.actions_["ungroup"].trigger()
    assert not network.blocks and "conv1" in network.nodes
    main_window.document.undo_stack.undo()
    assert blocks.layers_in(network, "stem") == ["conv1", "pool1"]


def test_grouping_a_collapsed_block_with_layers_nests_it(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["conv1", "pool1"])
    inner = editor.group_selection("Inner")
    editor.set_block_collapsed(inner, True)
    editor.scene.select_nodes(["conv2"], block_ids=[inner])
    outer = editor.group_selection("Outer")
    assert network.blocks[outer].members == ["conv2", inner]


def test_repeat_block_adds_copies_of_a_resnet_stage(make_window, monkeypatch):
    window = make_window(load_template("resnet-mini"))
    editor, network = window.editor, window.document.network
    stage = ["block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2", "block1_bn2", "block1_add", "block1_out"]
    editor.select(stage)
    editor.group_selection("Stage 1")
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (2, True))
    layers_before = len(network)
    window.actions_["repeat_block"].trigger()
    assert len(network) == layers_before + 2 * len(stage)
    assert [network.blocks[b].name for b in blocks.top_level(network)] == ["Stage 1", "Stage 1 (2)", "Stage 1 (3)"]
    assert network.inputs_of("block2_conv1") == ["block1_out_3"]
    assert window.document.analysis().ok
    window.document.undo_stack.undo()
    assert len(network) == layers_before and list(network.blocks) == ["stage_1"]


def test_repeating_a_block_that_changes_its_shape_is_refused(main_window):
    messages = []
    main_window.editor.message.connect(lambda _kind, text: messages.append(text))
    main_window.editor.select(["conv1", "pool1"])
    main_window.editor.group_selection("Stem")
    assert main_window.editor.repeat_block(2) == []
    assert "Cannot repeat Stem" in messages[-1] and "match its input" in messages[-1]


def test_deleting_a_folded_block_deletes_its_layers_and_undo_brings_them_back(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["conv1", "pool1", "conv2", "pool2"])
    block_id = editor.group_selection("Features")
    editor.set_block_collapsed(block_id, True)
    editor.select_block(block_id)
    assert main_window.actions_["delete_plain"].isEnabled()
    main_window.actions_["delete_plain"].trigger()
    assert not {"conv1", "pool1", "conv2", "pool2"} & set(network.nodes)
    main_window.document.undo_stack.undo()
    assert {"conv1", "pool1", "conv2", "pool2"} <= set(network.nodes)
    assert blocks.layers_in(network, block_id) == ["conv1", "pool1", "conv2", "pool2"]
