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
