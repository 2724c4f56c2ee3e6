"""The Training settings' fine-tuning recipe: offered when the network has a pretrained backbone,
written into the project as training.fine_tune, and left out of the file when switched off."""

from __future__ import annotations

from cnnstudio.core.project import Project, project_from_dict
from cnnstudio.core.templates import load_template


def backbone_project() -> Project:
    return project_from_dict({
        "format": "cnnstudio-project", "version": 2, "name": "finetune",
        "network": {"nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}},
            {"id": "base", "type": "MobileNetV2", "params": {"weights": None, "alpha": 0.35}},
            {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
            {"id": "out", "type": "Dense", "params": {"units": 10, "activation": "softmax"}}],
            "edges": [["image", "base"], ["base", "pool"], ["pool", "out"]]},
        "dataset": {"name": "mnist-sample"},
        "training": {"epochs": 4}})


def test_the_recipe_is_offered_only_with_a_backbone(make_window):
    w = make_window(load_template("lenet5"))
    row = w.features.training_panel.form.fine_tune
    assert not row.check.isEnabled() and "Pretrained" in row.note.text()
    assert "fine_tune" not in w.document.project.training


def test_the_recipe_is_written_into_the_project_and_said_in_words(make_window):
    w = make_window(backbone_project())
    form, training = w.features.training_panel.form, None
    row = form.fine_tune
    assert row.check.isEnabled() and row.numbers.isHidden()
    row.check.setChecked(True)
    training = w.document.project.training
    assert training["fine_tune"] == {"head_epochs": 1, "unfreeze_top": 20, "rate_factor": 0.1}
    row.head.setValue(2)
    row.top.setValue(30)
    assert w.document.project.training["fine_tune"]["head_epochs"] == 2
    assert w.document.project.training["fine_tune"]["unfreeze_top"] == 30
    assert "Epochs 1-2: the head trains, base frozen; epochs 3-4: its top 30 layers" in row.note.text()
    form.fields["epochs"].setValue(2)
    assert "must be more than" in row.note.text()
    row.check.setChecked(False)
    assert "fine_tune" not in w.document.project.training
    w.document.undo_stack.clear()
    fresh = backbone_project()
    fresh.training["fine_tune"] = {"head_epochs": 3, "unfreeze_top": 5, "rate_factor": 0.5}
    w.document.replace_project(fresh)
    assert row.check.isChecked() and row.head.value() == 3 and row.top.value() == 5 and row.factor.value() == 0.5


def test_the_window_fine_tunes_in_one_run_and_says_when_the_phase_changes(make_window, qtbot, tmp_path):
    import json

    import numpy as np

    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.random((16, 32, 32, 3), np.float32), y_train=np.arange(16) % 10,
             x_test=rng.random((10, 32, 32, 3), np.float32), y_test=np.arange(10))
    project = backbone_project()
    project.dataset = {"name": f"npz:{data}"}
    project.training.update(epochs=2, batch_size=8, validation_split=0.0,
                            fine_tune={"head_epochs": 1, "unfreeze_top": 10, "rate_factor": 0.1})
    w = make_window(project)
    training, said = w.features.training, []
    w.context.messages.shown.connect(lambda _severity, text: said.append(text))
    with qtbot.waitSignal(training.runFinished, timeout=180000) as finished:
        assert training.start()
    phases = [t for t in said if "fine-tuning, phase" in t]
    assert len(phases) == 2 and "phase 2 of 2 from epoch 2" in phases[1]
    info = json.loads((finished.args[0] / "run.json").read_text())
    assert info["epochs_completed"] == 2 and len(info["fine_tune_phases"]) == 2
