"""The fine-tuning recipe: the head trains with the backbone frozen, then the top layers of the backbone
train too at a lower learning rate, in one run whose counts in each phase are Keras's."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import project_from_dict
from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
from cnnstudio.ml.training.settings import TrainingSettings

RECIPE = {"head_epochs": 2, "unfreeze_top": 12, "rate_factor": 0.1}


def stripes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32x32 colour pictures: horizontal or vertical stripes (2 classes)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 32, 32, 3)).astype(np.float32)
    for i, c in enumerate(y):
        if c:
            x[i, ::4] += 0.7
        else:
            x[i, :, ::4] += 0.7
    return x.clip(0, 1), y


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    x, y = stripes(48, 1)
    xt, yt = stripes(16, 2)
    path = tmp_path_factory.mktemp("data") / "stripes.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return f"npz:{path}"


def backbone_project(dataset: str, **training) -> object:
    return project_from_dict({
        "format": "cnnstudio-project", "version": 2, "name": "finetune",
        "network": {"nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}},
            {"id": "base", "type": "MobileNetV2", "params": {"weights": None, "alpha": 0.35}},
            {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
            {"id": "out", "type": "Dense", "params": {"units": 2, "activation": "softmax"}}],
            "edges": [["image", "base"], ["base", "pool"], ["pool", "out"]]},
        "dataset": {"name": dataset},
        "training": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 3,
                     "validation_split": 0.25, "seed": 0, "fine_tune": RECIPE, **training}})


def keras_guide_counts(top: int) -> list[tuple[int, int]]:
    """(trainable, non-trainable) in each phase, done by hand as Keras's transfer-learning guide does."""
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(base(inputs)))
    model = keras.Model(inputs, outputs)

    def counts() -> tuple[int, int]:
        return (sum(int(np.prod(w.shape)) for w in model.trainable_weights),
                sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))

    base.trainable = False
    phases = [counts()]
    base.trainable = True
    for layer in base.layers[:-top]:
        layer.trainable = False
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    phases.append(counts())
    return phases


def test_the_recipe_trains_one_run_in_two_phases_with_keras_counts(data, tmp_path):
    project = backbone_project(data)
    messages: list[str] = []
    trainer = Trainer(project, run_dir=tmp_path / "run", callbacks=TrainingCallbacks(on_message=messages.append))
    result = trainer.run()

    assert result.epochs == 3  # one run: the curves go on through the phase change
    info = json.loads((Path(result.run_dir) / "run.json").read_text())
    phases = info["fine_tune_phases"]
    assert [(p["phase"], p["first_epoch"], p["epochs"]) for p in phases] == [(1, 1, 2), (2, 3, 1)]
    assert phases[1]["learning_rate"] == pytest.approx(0.001)
    assert info["settings"]["fine_tune"] == RECIPE
    expected = keras_guide_counts(12)
    assert [(p["trainable_params"], p["non_trainable_params"]) for p in phases] == expected
    assert expected[1][0] > expected[0][0]  # more trains in phase 2, but not everything
    assert expected[1][1] > 0

    frozen = project.network.copy()
    frozen.set_trainable("base", False)
    core = analyze(frozen)
    assert (core.trainable_params, core.non_trainable_params) == expected[0]

    said = [m for m in messages if m.startswith("fine-tuning")]
    assert len(said) == 2 and "phase 2 of 2 from epoch 3" in said[1] and "BatchNormalization stays frozen" in said[1]
    rows = (Path(result.run_dir) / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3
    base = trainer.model.get_layer("base")
    batch_norms = [layer for layer in base.layers[-1].layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert batch_norms and not any(layer.trainable for layer in batch_norms)


def test_a_recipe_needs_a_backbone_and_epochs_for_both_phases(data):
    from cnnstudio.ml.training.preparation import precheck

    with pytest.raises(UserError, match="head_epochs"):
        TrainingSettings.from_dict({"epochs": 2, "fine_tune": {"head_epochs": 2, "unfreeze_top": 3}})
    with pytest.raises(UserError, match="fine_tune"):
        TrainingSettings.from_dict({"epochs": 3, "fine_tune": {"head_epochs": 1, "top": 3}})
    project = backbone_project(data)
    project.network.remove_node("base")
    project.network.connect("image", "pool")
    with pytest.raises(UserError, match="pretrained backbone"):
        precheck(project, TrainingSettings.from_project(project), data)


def test_the_exported_script_fine_tunes_to_the_same_weights_as_the_app(data, tmp_path):
    """Same project, same seed: the script runs the same two phases and ends with the app's weights,
    also when early stopping ends the head's phase (here after epoch 2 of 3: the loss rose)."""
    import subprocess
    import sys

    from cnnstudio.ml.codegen import generate_script

    project = backbone_project(data, epochs=4, learning_rate=0.1, early_stopping=1,
                               fine_tune={**RECIPE, "head_epochs": 3})
    messages: list[str] = []
    trainer = Trainer(project, run_dir=tmp_path / "run", callbacks=TrainingCallbacks(on_message=messages.append))
    result = trainer.run()
    ended = ("fine-tuning, phase 1 of 2 ended early after epoch 2: validation loss did not improve for 1 epoch; "
             "kept the weights of epoch 1, the best; phase 2 starts now, from epoch 3")
    assert ended in messages and any("phase 2 of 2 from epoch 3" in m for m in messages)
    assert result.epochs == 3  # the second phase keeps its one epoch: the run ends sooner
    phases = json.loads((Path(result.run_dir) / "run.json").read_text())["fine_tune_phases"]
    assert [(p["first_epoch"], p["epochs"], p.get("ended_early_after_epoch")) for p in phases] == [
        (1, 2, 2), (3, 1, None)]
    script = tmp_path / "train_finetune.py"
    script.write_text(generate_script(project.network, name=project.name, dataset=project.dataset,
                                      training=project.training))
    result = subprocess.run([sys.executable, str(script), "--save", str(tmp_path / "script.keras")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    expected = keras_guide_counts(12)
    assert ended in result.stdout
    for (trainable, frozen), first in zip(expected, (1, 3), strict=True):
        assert f"fine-tuning from epoch {first}:" in result.stdout
        assert f"{trainable:,} trainable and {frozen:,} non-trainable parameters" in result.stdout
    scripted = keras.models.load_model(tmp_path / "script.keras")
    for mine, theirs in zip(trainer.model.get_weights(), scripted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_early_stopping_in_a_phase_moves_the_later_phases_up_keeping_their_length():
    from cnnstudio.ml.training.callbacks import after_early_stop, training_phases

    phases = training_phases(10, {"head_epochs": 4, "unfreeze_top": 5, "rate_factor": 0.5})
    assert phases == [(0, 4, 1.0, None), (4, 10, 0.5, 5)]
    assert after_early_stop(phases, 0, 1) == [(0, 2, 1.0, None), (2, 8, 0.5, 5)]


def test_cnnstudio_train_follows_the_recipe_and_takes_the_top_layers_from_the_command_line(data, tmp_path, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.project import save_project

    project = backbone_project(data)
    project.training["fine_tune"] = {**RECIPE, "unfreeze_top": 5}
    path = tmp_path / "finetune.cnnproj"
    save_project(project, path)
    code = main(["train", str(path), "--fine-tune-top", "12", "--run-dir", str(tmp_path / "run"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "fine-tuning, phase 2 of 2 from epoch 3: the top 12 layers" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["epochs"] == 3
    phases = json.loads((tmp_path / "run" / "run.json").read_text())["fine_tune_phases"]
    assert [(p["trainable_params"], p["non_trainable_params"]) for p in phases] == keras_guide_counts(12)


def test_cnnstudio_train_refuses_the_recipe_without_a_backbone_in_one_line(tmp_path, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.project import save_project
    from tests.ml.test_trainer import tiny_project, write_quadrants

    path = tmp_path / "tiny.cnnproj"
    save_project(tiny_project("npz:" + str(write_quadrants(tmp_path))), path)
    assert main(["train", str(path), "--fine-tune-top", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "pretrained backbone" in err[0]
    assert main(["train", str(path), "--fine-tune-top", "-1"]) == 2
    assert "--fine-tune-top is -1" in capsys.readouterr().err


class Crash(Exception):
    """The process "dies" right after an epoch was checkpointed."""


def test_a_run_interrupted_in_phase_two_resumes_in_phase_two(data, tmp_path):
    from cnnstudio.ml.training.callbacks import parameter_counts

    def crash_after_third(report):
        if report.epoch == 3:
            raise Crash

    run = tmp_path / "run"
    with pytest.raises(Crash):
        Trainer(backbone_project(data, epochs=4), run_dir=run,
                callbacks=TrainingCallbacks(on_epoch=crash_after_third)).run()
    messages: list[str] = []
    trainer = Trainer(backbone_project(data, epochs=4), run_dir=run,
                      callbacks=TrainingCallbacks(on_message=messages.append))
    result = trainer.run()
    assert result.epochs == 4 and any("resuming" in m and "after epoch 3" in m for m in messages)
    assert not any(m.startswith("fine-tuning") for m in messages)  # no phase begins again
    assert parameter_counts(trainer.model) == keras_guide_counts(12)[1]
    info = json.loads((run / "run.json").read_text())
    assert [p["phase"] for p in info["fine_tune_phases"]] == [1, 2] and info["resumed_after_epochs"] == [3]
