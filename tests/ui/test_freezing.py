"""Freezing in the window: the Inspector's control per layer and per block, the selection's buttons,
the canvas menu item, undo, the counts that follow, the snowflake on the canvas and the saved file."""

from __future__ import annotations

from cnnstudio.core import blocks
from cnnstudio.core.analysis import analyze


def _counts(window) -> tuple[str, str]:
    figures = window.inspector.overview.figures
    return figures["trainable"].text(), figures["non_trainable"].text()


def test_a_layer_frozen_in_the_inspector_counts_as_non_trainable_and_undoes(main_window, qtbot):
    document = main_window.document
    conv2 = analyze(document.network).layers["conv2"].params
    main_window.editor.select(["conv2"])
    freeze = main_window.inspector.form.freeze
    assert not freeze.layer_box.isChecked() and freeze.block_box.isHidden()
    freeze.layer_box.click()
    assert not document.network.node("conv2").trainable
    assert freeze.layer_box.isChecked()
    qtbot.waitUntil(lambda: main_window.editor.scene.nodes["conv2"].frozen)
    assert "trainable" in main_window.inspector.form.computed["params"][0].text()
    main_window.editor.select([])
    total = analyze(document.network).total_params
    assert _counts(main_window) == (f"{total - conv2:,}", f"{conv2:,}")
    node = next(n for n in document.project.to_dict()["network"]["nodes"] if n["id"] == "conv2")
    assert node["trainable"] is False
    document.undo_stack.undo()
    assert document.network.node("conv2").trainable
    qtbot.waitUntil(lambda: not main_window.editor.scene.nodes["conv2"].frozen)
    assert _counts(main_window) == (f"{total:,}", "0")


def test_several_selected_layers_freeze_in_one_step_and_the_menu_item_toggles(main_window):
    document = main_window.document
    main_window.editor.select(["conv1", "conv2"])
    inspector = main_window.inspector
    assert inspector.showing == "several" and not inspector.unfreeze_all.isEnabled()
    inspector.freeze_all.click()
    assert not document.network.node("conv1").trainable and not document.network.node("conv2").trainable
    assert "non-trainable" in inspector.multi.text() and inspector.unfreeze_all.isEnabled()
    document.undo_stack.undo()
    assert document.network.node("conv1").trainable and document.network.node("conv2").trainable
    action = main_window.actions_["freeze"]
    assert action in main_window.editor.context_actions["node"]
    action.trigger()
    assert not document.network.node("conv1").trainable and not document.network.node("conv2").trainable
    action.trigger()  # all frozen: the same item unfreezes them
    assert document.network.node("conv1").trainable and document.network.node("conv2").trainable


def test_a_block_freezes_every_layer_inside_from_the_inspector(main_window, qtbot):
    document = main_window.document
    blocks.group(document.network, ["conv1", "pool1"], "Stem", block_id="stem")
    main_window.editor.select(["pool1"])
    freeze = main_window.inspector.form.freeze
    assert not freeze.block_box.isHidden() and "Stem" in freeze.block_box.text()
    freeze.block_box.click()
    assert not document.network.blocks["stem"].trainable
    assert not freeze.layer_box.isEnabled()  # the block decides while it is frozen
    qtbot.waitUntil(lambda: main_window.editor.scene.nodes["conv1"].frozen)
    conv1 = analyze(document.network).layers["conv1"]
    assert not conv1.trainable and conv1.non_trainable == conv1.params
    document.undo_stack.undo()
    assert document.network.blocks["stem"].trainable and freeze.layer_box.isEnabled()
