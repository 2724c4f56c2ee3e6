"""Run records: what a run directory holds, where it goes, and that nothing earlier is ever lost."""

from __future__ import annotations

import datetime
import errno
import json

import numpy as np
import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import load_template
from cnnstudio.ml import runs
from cnnstudio.ml.runs import METRICS_HEADER, RunRecord, default_run_dir, read_metrics
from tests.ml.test_trainer import tiny_project, train, write_quadrants


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> str:
    return "npz:" + str(write_quadrants(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="module")
def finished(npz, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "first"
    trainer, result = train(tiny_project(npz, epochs=2, max_steps_per_epoch=4), run_dir=run)
    return run, trainer, result


def test_run_directory_holds_the_contract_files(finished):
    run, trainer, result = finished
    assert result.run_dir == run
    for name in ("model.keras", "metrics.csv", "project.cnnproj", "run.json",
                 "checkpoints/last.npz", "checkpoints/best.npz", "checkpoints/best.keras"):
        assert (run / name).is_file(), name
    events = sorted(p.parent.name for p in run.glob("logs/*/events.out.tfevents.*"))
    assert events == ["train", "validation"]
    assert not list(run.rglob(".*.tmp")) and not list(run.rglob(".*.keras"))  # no temporary leftovers


def test_metrics_csv_has_a_row_per_epoch(finished):
    run, _, result = finished
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy" == ",".join(METRICS_HEADER)
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert [r["loss"] for r in rows] == pytest.approx([e.loss for e in result.history])
    assert [r["val_accuracy"] for r in rows] == pytest.approx([e.val_accuracy for e in result.history])


def test_project_snapshot_and_run_json(finished, npz):
    run, trainer, result = finished
    snapshot = load_project(run / "project.cnnproj")
    assert snapshot.network.to_dict() == tiny_project(npz).network.to_dict()
    assert snapshot.dataset["name"] == npz and snapshot.training["max_steps_per_epoch"] == 4
    info = runs.read_run_info(run)
    assert info["format"] == "cnnstudio-run" and info["status"] == "finished"
    assert info["settings"]["optimizer"] == "adam" and info["settings"]["epochs"] == 2
    assert info["epochs_completed"] == 2 and info["test"]["accuracy"] == pytest.approx(result.test_accuracy)
    assert info["dataset"]["num_train"] == 256 and info["dataset"]["class_names"] == ["0", "1", "2", "3"]
    assert info["loss"] == {"name": "sparse_categorical_crossentropy", "from_logits": False}
    assert {"cnnstudio", "tensorflow", "keras", "python", "numpy"} <= set(info["versions"])
    assert info["seconds"] > 0 and info["started"] and info["finished"] and info["strategy"]["replicas"] == 1


def test_saved_model_is_the_trained_one(finished):
    import keras

    run, trainer, _ = finished
    saved = keras.models.load_model(run / "model.keras")
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype=np.float32)
    np.testing.assert_allclose(saved.predict(x, verbose=0), trainer.model.predict(x, verbose=0), atol=1e-6)
    assert saved.loss is not None  # compiled: ready for evaluate()


def test_default_run_dir_is_beside_the_project(tmp_path, monkeypatch):
    project = load_template("lenet5")
    when = datetime.datetime(2025, 3, 4, 5, 6, 7)
    monkeypatch.chdir(tmp_path)
    assert default_run_dir(project, "lenet5", when) == tmp_path / "runs" / "lenet5-20250304-050607"
    project.path = tmp_path / "work" / "digits.cnnproj"
    first = default_run_dir(project, now=when)
    assert first == tmp_path / "work" / "runs" / "digits-20250304-050607"
    first.mkdir(parents=True)
    assert default_run_dir(project, now=when).name == "digits-20250304-050607-2"


def test_a_folder_that_is_not_a_run_is_never_touched(tmp_path, npz):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a CNN Studio run"):
        RunRecord.open(folder, tiny_project(npz))
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_an_interrupted_run_of_another_network_is_not_resumed(tmp_path, npz):
    run = tmp_path / "run"
    record = RunRecord.open(run, tiny_project(npz))
    record.write_info(status="running")
    record.checkpoints.folder.mkdir()
    state = json.dumps({"format": "cnnstudio-checkpoint", "version": 1, "epoch": 1})
    np.savez(record.checkpoints.last, state=np.array(state))
    record.close()
    again = RunRecord.open(run, tiny_project(npz))
    assert again.resumable
    again.close()
    other = tiny_project(npz)
    other.network.set_param("conv", "filters", 8)
    with pytest.raises(UserError, match="different network"):
        RunRecord.open(run, other)


def test_disk_full_keeps_the_previous_checkpoint_and_says_so(npz, tmp_path, monkeypatch):
    from cnnstudio.core import files
    from cnnstudio.ml.trainer import TrainingCallbacks
    from cnnstudio.ml.training import checkpoints

    run = tmp_path / "run"
    real = files.atomic_write_bytes
    saved = {"last.npz": 0}

    def atomic_write_bytes(path, data, durable=True):
        if path.name == "last.npz":
            if saved["last.npz"] >= 1:  # the disk fills up once epoch 1's checkpoint is saved
                raise OSError(errno.ENOSPC, "No space left on device")
            saved["last.npz"] += 1
        real(path, data, durable=durable)

    monkeypatch.setattr(files, "atomic_write_bytes", atomic_write_bytes)
    with pytest.raises(UserError) as caught:
        train(tiny_project(npz, epochs=3, max_steps_per_epoch=3), run_dir=run, callbacks=TrainingCallbacks())
    message = str(caught.value)
    assert "the disk is full" in message and "last.npz" in message and "kept" in message
    assert "it needs about" in message and ("KiB free" in message or "MiB free" in message)  # the space needed
    state = checkpoints.Checkpoints(run / "checkpoints").load_state()
    assert state["epoch"] == 1  # epoch 1's checkpoint is whole, ready to resume
    assert not list((run / "checkpoints").glob(".*.tmp"))


def test_a_new_run_never_changes_an_earlier_one(finished, npz):
    run, _, _ = finished
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    second = run.parent / "second"
    train(tiny_project(npz, epochs=1, max_steps_per_epoch=2), run_dir=second)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert runs.list_runs(run.parent)[0] == second and set(runs.list_runs(run.parent)) == {run, second}


def test_run_json_is_strict_json(finished):
    run, _, _ = finished
    json.loads((run / "run.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in run.json"))


def test_a_run_directory_in_use_is_refused_and_a_stale_lock_taken_over(tmp_path, npz):
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    first = RunRecord.open(run, tiny_project(npz))
    first.write_info(status="running")
    assert (run / ".lock").read_text().strip() == str(os.getpid())
    with pytest.raises(UserError, match=f"in use: another training run \\(process {os.getpid()}\\)"):
        RunRecord.open(run, tiny_project(npz))
    first.close()
    assert not (run / ".lock").exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (run / ".lock").write_text(dead.stdout)  # left by a process that was killed
    RunRecord.open(run, tiny_project(npz)).close()  # taken over
    assert not list(run.glob(".lock*"))


def test_run_files_get_the_permissions_of_the_project_snapshot(finished):
    run, _, _ = finished
    mode = (run / "project.cnnproj").stat().st_mode & 0o777
    for name in ("run.json", "metrics.csv", "model.keras", "checkpoints/last.npz", "checkpoints/best.keras",
                 "val_predictions.npz"):
        assert (run / name).stat().st_mode & 0o777 == mode, name


def test_each_epochs_validation_predictions_are_kept(finished):
    from cnnstudio.core.runs import read_val_predictions

    run, trainer, result = finished
    epochs, labels = read_val_predictions(run)
    assert sorted(epochs) == [1, 2] and labels.shape == (trainer.dataset.num_validation,)
    np.testing.assert_array_equal(labels, trainer.dataset.labels("validation"))
    predicted, confidence = epochs[2]
    assert predicted.dtype == np.uint8 and confidence.dtype == np.float16 and predicted.shape == labels.shape
    x, _ = trainer.dataset.arrays("validation")
    probabilities = trainer.model.predict(x, verbose=0)
    np.testing.assert_array_equal(predicted, probabilities.argmax(1))  # the last epoch: the final weights
    np.testing.assert_allclose(confidence, probabilities.max(1), atol=1e-3)
    assert np.mean(predicted == labels) == pytest.approx(result.history[-1].val_accuracy)
    assert read_val_predictions(run.parent / "nothing") == ({}, pytest.approx(np.zeros(0)))


def test_tensorboard_reads_the_event_files(finished):
    import tensorflow as tf

    run, _, result = finished
    [events] = run.glob("logs/validation/events.out.tfevents.*")
    seen = {}
    for raw in tf.data.TFRecordDataset(str(events)):  # checks every record's CRC
        event = tf.compat.v1.Event.FromString(raw.numpy())
        for value in event.summary.value:
            seen.setdefault(value.tag, []).append((event.step, value.simple_value))
    assert [step for step, _ in seen["epoch_loss"]] == [1, 2]
    assert [v for _, v in seen["epoch_loss"]] == pytest.approx([e.val_loss for e in result.history], rel=1e-6)
