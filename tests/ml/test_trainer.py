"""The trainer: reports, pause/resume/stop, NaN handling, seeds, checkpoints and resume, snapshots."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.errors import DatasetError, UserError
from cnnstudio.core.project import project_from_dict
from cnnstudio.ml.training.reporting import DIVERGED, EARLY_STOPPING, FINISHED, STOPPED
from cnnstudio.ml.training.settings import TrainingSettings, choose_loss

# ---------------------------------------------------------------------- helpers (used by other test files)


def quadrant_arrays(n: int, seed: int, side: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 8x8 images whose class (0-3) is the quadrant that is brighter: quick to learn."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.uniform(0, 0.6, (n, side, side)).astype(np.float32)
    half = side // 2
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        x[i, r * half:(r + 1) * half, col * half:(col + 1) * half] += 0.4
    return x.clip(0, 1), y


def write_quadrants(folder: Path, n_train: int = 320, n_test: int = 80) -> Path:
    x, y = quadrant_arrays(n_train, 1)
    xt, yt = quadrant_arrays(n_test, 2)
    path = folder / "quadrants.npz"
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


def tiny_project(dataset: str, *, units: int = 4, shape=(8, 8, 1), **training) -> object:
    """A small conv net (Conv2D 4x3x3 -> Flatten -> Dense softmax) on `dataset`."""
    settings = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2,
                "validation_split": 0.2, "seed": 0, **training}
    return project_from_dict({
        "format": "cnnstudio-project", "version": 1, "name": "tiny",
        "network": {"nodes": [
            {"id": "input", "type": "Input", "params": {"shape": list(shape)}},
            {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
            {"id": "flat", "type": "Flatten", "params": {}},
            {"id": "out", "type": "Dense", "params": {"units": units, "activation": "softmax"}}],
            "edges": [["input", "conv"], ["conv", "flat"], ["flat", "out"]]},
        "dataset": {"name": dataset, "permute_pixels": None},
        "training": settings})


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> str:
    return "npz:" + str(write_quadrants(tmp_path_factory.mktemp("data")))


def train(project, **kwargs):
    from cnnstudio.ml.trainer import Trainer

    trainer = Trainer(project, **kwargs)
    return trainer, trainer.run()


# ---------------------------------------------------------------------- reports


@pytest.fixture(scope="module")
def reference(npz):
    """One 2-epoch run with every report switched on, shared by the tests that read it."""
    from cnnstudio.ml.trainer import TrainingCallbacks

    got = {"batches": [], "epochs": [], "snapshots": [], "messages": []}
    callbacks = TrainingCallbacks(on_batch=got["batches"].append, on_epoch=got["epochs"].append,
                                  on_snapshot=got["snapshots"].append, on_message=got["messages"].append)
    got["trainer"], got["result"] = train(tiny_project(npz), callbacks=callbacks, report_every=0.0,
                                          snapshot_every=0.0, snapshot_layers=["conv", "out"],
                                          probe_images=np.zeros((3, 8, 8, 1), np.float32))
    return got


def test_callbacks_fire_with_sane_values(reference):
    batches, epochs, result = reference["batches"], reference["epochs"], reference["result"]
    assert result.stopped_reason == FINISHED and result.epochs == 2
    assert [e.epoch for e in epochs] == [1, 2] and all(e.epochs == 2 for e in epochs)
    per_epoch = math.ceil(256 / 16)
    assert len(batches) == 2 * per_epoch
    assert [b.batch for b in batches[:per_epoch]] == list(range(1, per_epoch + 1))
    for b in batches:
        assert b.batches == per_epoch and b.loss > 0 and 0 <= b.accuracy <= 1
        assert b.images_per_second > 0 and b.seconds >= 0
    for e in epochs:
        assert e.loss > 0 and 0 <= e.accuracy <= 1 and e.val_loss > 0 and 0 <= e.val_accuracy <= 1
        assert e.learning_rate == pytest.approx(0.01) and e.seconds > 0 and e.images_per_second > 0
    assert epochs[1].loss < epochs[0].loss  # it learns
    assert batches[per_epoch - 1].loss == pytest.approx(epochs[0].loss)  # the last batch report is the epoch mean
    assert 0.5 <= result.test_accuracy <= 1 and result.test_loss > 0 and result.seconds > 0
    assert result.history == epochs and result.run_dir is None
    assert set(result.to_json()) >= {"test_loss", "test_accuracy", "epochs", "seconds", "run_dir"}


def test_snapshots_carry_weights_and_probe_activations(reference):
    snapshots = reference["snapshots"]
    assert len(snapshots) == 32 and (snapshots[0].epoch, snapshots[0].batch) == (1, 1)
    snap = snapshots[-1]
    assert [w.shape for w in snap.weights["conv"]] == [(3, 3, 1, 4), (4,)]
    assert snap.activations["conv"].shape == (3, 6, 6, 4) and snap.activations["out"].shape == (3, 4)
    assert not np.array_equal(snapshots[0].weights["conv"][0], snap.weights["conv"][0])  # weights moved


def test_same_seed_gives_the_same_curves(npz, reference):
    again = train(tiny_project(npz))[1]  # no reports this time: they must not change anything
    first = reference["result"]
    assert [e.loss for e in again.history] == [e.loss for e in first.history]
    assert [e.val_loss for e in again.history] == [e.val_loss for e in first.history]
    assert again.test_loss == first.test_loss


# ---------------------------------------------------------------------- settings at work


def test_top_k_accuracy_counts_the_true_class_among_the_k_best(npz):
    trainer, result = train(tiny_project(npz, epochs=1, metrics=["accuracy", "top_k"], top_k=2,
                                         max_steps_per_epoch=3))
    x, y = trainer.dataset.test_arrays()
    ranked = np.argsort(-trainer.model.predict(x, verbose=0), axis=1)
    assert result.test_accuracy == pytest.approx(np.mean(ranked[:, 0] == y), abs=1e-9)
    assert result.test_top_k_accuracy == pytest.approx(np.mean((ranked[:, :2] == y[:, None]).any(1)), abs=1e-9)
    assert result.test_top_k_accuracy > result.test_accuracy
    epoch = result.history[0]
    assert epoch.top_k_accuracy >= epoch.accuracy and epoch.val_top_k_accuracy >= epoch.val_accuracy


def test_one_hot_labels_give_the_same_curves_as_class_numbers(npz, reference):
    _, one_hot = train(tiny_project(npz, loss="categorical_crossentropy"))
    assert [e.loss for e in one_hot.history] == pytest.approx([e.loss for e in reference["result"].history],
                                                              rel=1e-5)
    assert one_hot.test_loss == pytest.approx(reference["result"].test_loss, rel=1e-5)


@pytest.mark.parametrize("activation, units, classes", [("softmax", 4, 4), (None, 4, 4), ("sigmoid", 1, 2)])
def test_test_loss_is_the_loss_keras_computes_for_the_output_layer(tmp_path, activation, units, classes):
    import keras

    x, y = quadrant_arrays(240, 1)
    xt, yt = quadrant_arrays(60, 2)
    y, yt = y % classes, yt % classes
    np.savez(tmp_path / "data.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    project = tiny_project(f"npz:{tmp_path / 'data.npz'}", units=units, epochs=2)
    project.network.set_param("out", "activation", activation)
    trainer, result = train(project)
    pred = trainer.model.predict(xt[..., None], verbose=0)
    if classes == 2:
        expected = keras.losses.binary_crossentropy(yt[:, None].astype(np.float32), pred)
        correct = (pred[:, 0] > 0.5) == yt
    else:
        expected = keras.losses.sparse_categorical_crossentropy(yt, pred, from_logits=activation is None)
        correct = pred.argmax(1) == yt
    assert result.test_loss == pytest.approx(float(np.mean(expected)), rel=1e-4)
    assert result.test_accuracy == pytest.approx(float(np.mean(correct)), abs=1e-9)
    assert result.test_accuracy > 0.7  # it learned


def test_step_schedule_sets_the_rate_of_each_epoch(npz):
    trainer, result = train(tiny_project(npz, epochs=3, max_steps_per_epoch=2, schedule="step",
                                         schedule_params={"every": 1, "factor": 0.5}))
    import keras

    assert [e.learning_rate for e in result.history] == pytest.approx([0.01, 0.005, 0.0025])
    assert isinstance(trainer.rate, keras.optimizers.schedules.ExponentialDecay)  # a real Keras schedule
    assert float(trainer.optimizer.learning_rate) == pytest.approx(0.00125)  # the rate of the next step


def test_early_stopping_ends_the_run_and_keeps_the_best_epochs_weights(tmp_path):
    rng = np.random.default_rng(0)  # labels that are pure noise: validation loss soon rises
    np.savez(tmp_path / "noise.npz", x_train=rng.random((200, 8, 8)).astype(np.float32),
             y_train=rng.integers(0, 4, 200), x_test=rng.random((40, 8, 8)).astype(np.float32),
             y_test=rng.integers(0, 4, 40))
    trainer, result = train(tiny_project(f"npz:{tmp_path / 'noise.npz'}", epochs=30, early_stopping=2,
                                         validation_split=0.3))
    val = [e.val_loss for e in result.history]
    best = int(np.argmin(val)) + 1
    assert result.stopped_reason == EARLY_STOPPING and result.epochs == best + 2 < 30
    assert result.best_epoch == best and "kept the weights of epoch" in result.message
    assert trainer.evaluate("validation")["loss"] == pytest.approx(val[best - 1], rel=1e-5)


# ---------------------------------------------------------------------- control


def test_pause_holds_batches_and_resume_continues(npz):
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks

    events = []  # batches and messages, in the order the trainer reported them
    started, paused = threading.Event(), threading.Event()

    def on_batch(report):
        events.append(report.batch)
        started.set()

    def on_message(text):
        events.append(text)
        if text == "paused":
            paused.set()

    trainer = Trainer(tiny_project(npz, epochs=1), report_every=0.0,
                      callbacks=TrainingCallbacks(on_batch=on_batch, on_message=on_message))
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("result", trainer.run()))
    worker.start()
    assert started.wait(60)
    trainer.pause()
    assert paused.wait(60) and worker.is_alive()  # it holds, after at most the batch under way
    trainer.resume()
    worker.join(60)
    assert not worker.is_alive()
    held = events[events.index("paused"):events.index("resumed") + 1]
    assert held == ["paused", "resumed"]  # not one batch while paused
    batches = [e for e in events if isinstance(e, int)]
    assert outcome["result"].stopped_reason == FINISHED and batches[-1] == 16


def test_stop_keeps_the_weights_learned_so_far(npz, tmp_path):
    import keras

    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks

    def on_batch(report):
        if report.batch == 5:
            trainer.stop()

    trainer = Trainer(tiny_project(npz, epochs=3), run_dir=tmp_path / "run",
                      callbacks=TrainingCallbacks(on_batch=on_batch), report_every=0.0)
    result = trainer.run()
    assert result.stopped_reason == STOPPED and result.epochs == 0 and "stopped" in result.message
    assert result.test_accuracy is not None
    saved = keras.models.load_model(tmp_path / "run" / "model.keras")
    for a, b in zip(saved.get_weights(), trainer.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == STOPPED


def test_nan_loss_stops_clearly_and_keeps_the_last_good_weights(tmp_path):
    from cnnstudio.ml.data.arrays import ArrayDataset
    from cnnstudio.ml.data.options import LoadOptions
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks

    x, y = quadrant_arrays(320, 1)
    x[200:] = 3e38  # these images overflow the network: loss becomes inf/NaN
    xt, yt = quadrant_arrays(40, 2)
    data = ArrayDataset.from_arrays("poisoned", ("a", "b", "c", "d"), x, y, xt, yt,
                                    LoadOptions(validation_split=0.0, normalization="none"))
    messages = []
    project = tiny_project("npz:unused.npz", epochs=3, validation_split=0.0, normalization="none")
    trainer = Trainer(project, dataset=data, run_dir=tmp_path / "run",
                      callbacks=TrainingCallbacks(on_message=messages.append))
    result = trainer.run()
    assert result.stopped_reason == DIVERGED
    assert "NaN" in result.message and "last good weights" in result.message and messages[-1] == result.message
    assert all(np.isfinite(w).all() for w in trainer.model.get_weights())
    assert np.isfinite(trainer.model.predict(xt[..., None], verbose=0)).all()
    assert math.isfinite(result.test_loss)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == DIVERGED and "NaN" in info["message"]


# ---------------------------------------------------------------------- checkpoints


class Crash(Exception):
    pass


def test_interrupted_run_resumes_from_its_last_checkpoint(npz, tmp_path, reference):
    from cnnstudio.ml.trainer import TrainingCallbacks

    def crash_after_first(report):
        if report.epoch == 1:
            raise Crash  # the process "dies" right after epoch 1 was checkpointed

    run = tmp_path / "run"
    with pytest.raises(Crash):
        train(tiny_project(npz), run_dir=run, callbacks=TrainingCallbacks(on_epoch=crash_after_first))
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    messages = []
    _, resumed = train(tiny_project(npz), run_dir=run, callbacks=TrainingCallbacks(on_message=messages.append))
    assert any("resuming" in m and "after epoch 1" in m for m in messages)
    assert resumed.epochs == 2 and [e.epoch for e in resumed.history] == [1, 2]
    # Same weights, optimizer state and data order: the curve of an unbroken run.
    straight = reference["result"]
    assert [e.loss for e in resumed.history] == pytest.approx([e.loss for e in straight.history], rel=1e-6)
    assert resumed.test_loss == pytest.approx(straight.test_loss, rel=1e-6)
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and len(lines) == 3
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == FINISHED and info["resumed_after_epochs"] == [1]


def test_the_checkpoint_budget_writes_every_epoch_unless_writing_takes_more_than_its_share():
    from cnnstudio.ml.training.checkpoints import CheckpointBudget

    now = [100.0]
    budget = CheckpointBudget(share=0.05, clock=lambda: now[0])
    assert budget.due(cost=5.0)  # the first epoch's are always written
    budget.wrote()
    now[0] += 0.5
    assert budget.due(cost=0.01)  # 10 ms of writing after 0.5 s of training: 2 %, every epoch
    assert not budget.due(cost=0.01, busy=True)  # never while the writer is still at the last ones
    assert not budget.due(cost=1.0)  # 1 s of writing for 0.5 s of training: wait
    now[0] += 19.4
    assert not budget.due(cost=1.0)
    now[0] += 0.2
    assert budget.due(cost=1.0)  # 20 s on: writing takes 5 % of the time


def test_checkpoints_held_by_the_budget_are_written_whole_when_the_run_ends_or_stops(npz, tmp_path, monkeypatch):
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
    from cnnstudio.ml.training import checkpoints

    written = []  # the epoch of each last.npz handed to the writer
    write_last = checkpoints.Checkpoints.write_last
    monkeypatch.setattr(checkpoints.Checkpoints, "write_last", lambda self, arrays: (
        written.append(json.loads(str(arrays["state"]))["epoch"]), write_last(self, arrays))[-1])
    # a disk so slow that only the first epoch's checkpoints are due while training goes on
    monkeypatch.setattr(checkpoints.CheckpointBudget, "due", lambda self, cost, busy=False: self.written_at is None)
    _, result = train(tiny_project(npz, epochs=3), run_dir=tmp_path / "run")
    assert result.epochs == 3 and written == [1, 3]  # the last one waited for the end of the run, whole
    state = checkpoints.Checkpoints(tmp_path / "run" / "checkpoints").load_state()
    assert state["epoch"] == 3 and len(state["history"]) == 3
    best = checkpoints.Checkpoints(tmp_path / "run" / "checkpoints").load_best()
    assert best is not None and state["best"]["epoch"] >= 1

    written.clear()
    trainer = Trainer(tiny_project(npz, epochs=4), run_dir=tmp_path / "stopped",
                      callbacks=TrainingCallbacks(on_epoch=lambda r: r.epoch == 3 and trainer.stop()))
    assert trainer.run().stopped_reason == STOPPED
    assert written == [1, 3]  # stopped in epoch 4: epoch 3's, held, are written as the run stops

    def on_message(text):
        if text == "paused":
            at_pause.extend(written)
            trainer.resume()

    written.clear()
    at_pause: list = []
    trainer = Trainer(tiny_project(npz, epochs=3), run_dir=tmp_path / "paused", callbacks=TrainingCallbacks(
        on_epoch=lambda r: r.epoch == 2 and trainer.pause(), on_message=on_message))
    assert trainer.run().epochs == 3
    assert at_pause == [1, 2] and written == [1, 2, 3]  # a paused run's checkpoint is its newest epoch's

    def crash_after_third(report):
        if report.epoch == 3:
            raise Crash

    written.clear()
    with pytest.raises(Crash):
        train(tiny_project(npz, epochs=4), run_dir=tmp_path / "crashed", callbacks=TrainingCallbacks(
            on_epoch=crash_after_third))
    assert written == [1, 3]  # an error ends the run: what was held is written before it is reported
    messages = []
    _, resumed = train(tiny_project(npz, epochs=4), run_dir=tmp_path / "crashed",
                       callbacks=TrainingCallbacks(on_message=messages.append))
    assert any("after epoch 3" in m for m in messages) and resumed.epochs == 4


def test_a_finished_run_directory_is_never_reused(npz, tmp_path):
    run = tmp_path / "run"
    train(tiny_project(npz, epochs=1, max_steps_per_epoch=2), run_dir=run)
    before = (run / "model.keras").read_bytes()
    with pytest.raises(UserError, match="finished run; choose another --run-dir"):
        train(tiny_project(npz, epochs=1), run_dir=run)
    assert (run / "model.keras").read_bytes() == before


# ---------------------------------------------------------------------- starting from trained weights


@pytest.fixture(scope="module")
def pretrained(npz, tmp_path_factory):
    """A finished 2-epoch run (from fresh weights) to fine-tune from."""
    run = tmp_path_factory.mktemp("runs") / "pretrained"
    return run, train(tiny_project(npz), run_dir=run)[1]


def test_fine_tuning_continues_from_a_lower_loss_than_a_fresh_start(npz, pretrained, tmp_path):
    from cnnstudio.ml.trainer import TrainingCallbacks

    run, fresh = pretrained
    messages = []
    _, tuned = train(tiny_project(npz, epochs=1), run_dir=tmp_path / "tuned", initial_weights=run,
                     callbacks=TrainingCallbacks(on_message=messages.append))
    assert "started from the weights of run pretrained: 2 of 2 layers" in messages
    assert tuned.history[0].loss < fresh.history[0].loss
    assert tuned.history[0].loss < 1.1 * fresh.history[-1].loss  # it goes on where the first run ended
    info = json.loads((tmp_path / "tuned" / "run.json").read_text())
    assert info["initial_weights"]["layers_taken"] == 2 and info["initial_weights"]["source"] == "run pretrained"
    assert info["initial_weights"]["path"] == str(run / "model.keras") and tuned.initial_weights["fresh"] == []


def test_layers_that_do_not_match_by_name_or_shape_start_fresh(npz, pretrained):
    import keras

    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.training.initial_weights import copy_matching_weights

    run, _ = pretrained
    source = keras.models.load_model(run / "model.keras")
    renamed = tiny_project(npz)
    renamed.network.rename_node("conv", "features")
    model = build_model(renamed.network, "renamed")
    taken = copy_matching_weights(model, run / "model.keras")
    assert taken.taken == ("out",) and [f.layer for f in taken.fresh] == ["features"]
    assert taken.describe() == ("started from the weights of run pretrained: 1 of 2 layers; "
                                "fresh weights for features (not in the source)")
    for mine, theirs in zip(model.get_layer("out").get_weights(), source.get_layer("out").get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(model.get_layer("features").get_weights()[0], source.get_layer("conv").get_weights()[0])
    wider = tiny_project(npz)
    wider.network.set_param("conv", "filters", 8)
    none = copy_matching_weights(build_model(wider.network, "wider"), run / "model.keras")
    assert none.taken == () and none.describe().startswith("none of the 2 layers with weights match")
    assert none.fresh[0].reason == "weights 3x3x1x4 + 4 there, 3x3x1x8 + 8 here"


def test_initial_weights_that_are_missing_are_refused_before_training(npz, tmp_path):
    with pytest.raises(UserError, match="cannot start from the weights of .*nope.keras: no such file"):
        train(tiny_project(npz), initial_weights=tmp_path / "nope.keras")
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(UserError, match="not a Keras model"):
        train(tiny_project(npz), initial_weights=tmp_path / "notes.txt")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK broken")
    with pytest.raises(UserError, match="cannot be read as a Keras model"):
        train(tiny_project(npz), initial_weights=broken)


def test_a_dataset_download_is_reported_in_tenths(monkeypatch):
    import cnnstudio.ml.data as data
    from cnnstudio.ml.data.arrays import ArrayDataset
    from cnnstudio.ml.data.options import LoadOptions
    from cnnstudio.ml.trainer import TrainingCallbacks

    def downloading(name, progress=None, **options):
        for fraction in (0.01, 0.05, 0.33, 0.38, 0.71, 1.0):
            progress(fraction)
        x = np.random.default_rng(0).random((60, 28, 28), dtype=np.float32)
        return ArrayDataset.from_arrays(name, tuple("0123456789"), x, np.arange(60) % 10, None, None,
                                        LoadOptions(validation_split=0.0))

    monkeypatch.setattr(data, "load_dataset", downloading)
    messages = []
    train(tiny_project("mnist", units=10, shape=(28, 28, 1), epochs=1, validation_split=0.0),
          callbacks=TrainingCallbacks(on_message=messages.append), evaluate_test=False)
    assert [m for m in messages if m.startswith("downloading")] == [
        f"downloading 'mnist' into Keras's cache: {p}%" for p in (0, 30, 70, 100)]


# ---------------------------------------------------------------------- bad input


def test_input_shape_mismatch_is_reported_with_what_would_fit():
    from cnnstudio.core.templates import load_template

    project = load_template("lenet5")
    project.dataset["name"] = "cifar10"
    with pytest.raises(DatasetError) as caught:
        train(project)  # refused from the dataset's description: nothing is downloaded
    message = str(caught.value)
    assert "28x28x1" in message and "32x32x3" in message and "[32, 32, 3]" in message


def test_labels_and_outputs_mismatch_names_the_layer(npz):
    with pytest.raises(UserError, match="out.*3 values.*4 classes.*units to 4"):
        train(tiny_project(npz, units=3))


def test_too_large_model_is_refused_with_the_figure(npz):
    project = tiny_project(npz)
    for name in ("wide1", "wide2"):  # a million by a million weights: about 16 TB to train
        project.network.add_node("Dense", {"units": 1_000_000}, node_id=name)
    project.network.disconnect("flat", "out")
    for src, dst in (("flat", "wide1"), ("wide1", "wide2"), ("wide2", "out")):
        project.network.connect(src, dst)
    with pytest.raises(UserError, match=r"too large to train here: it needs about [\d,.]+ GB"):
        train(project)


def test_unknown_dataset():
    from cnnstudio.core.templates import load_template

    project = load_template("lenet5")
    project.dataset["name"] = "imagenet"
    with pytest.raises(DatasetError, match="unknown dataset 'imagenet'"):
        train(project)


def test_snapshot_of_an_unknown_layer(npz):
    from cnnstudio.ml.trainer import TrainingCallbacks

    with pytest.raises(UserError, match="no such layer"):
        train(tiny_project(npz, epochs=1), callbacks=TrainingCallbacks(on_snapshot=print),
              snapshot_layers=["nope"])


# ---------------------------------------------------------------------- settings (no TensorFlow)


def test_settings_from_project_with_overrides_and_checks(npz):
    project = tiny_project(npz, momentum=0.9, optimizer="sgd", metrics=["accuracy", "top_k"])
    settings = TrainingSettings.from_project(project, epochs=7, batch_size=None)
    assert settings.epochs == 7 and settings.batch_size == 16 and settings.momentum == 0.9
    assert settings.metrics == ("accuracy", "top_k")
    with pytest.raises(UserError, match='training "optimizer" is \'lion\''):
        TrainingSettings.from_project(tiny_project(npz, optimizer="lion"))
    with pytest.raises(UserError, match='"schedule_params"'):
        TrainingSettings(schedule="step", schedule_params={"gamma": 2}).check()


def test_loss_follows_the_output_layer():
    assert choose_loss("auto", "softmax", 10, 10).from_logits is False
    assert choose_loss("auto", None, 10, 10).from_logits is True
    binary = choose_loss("auto", "sigmoid", 1, 2)
    assert binary.binary and binary.name == "binary_crossentropy"
    with pytest.raises(UserError, match="set its units to 4"):
        choose_loss("auto", "softmax", 3, 4)
    with pytest.raises(UserError, match="relu"):
        choose_loss("auto", "relu", 4, 4)


def test_schedules_are_keras_schedule_objects_stepped_per_batch():
    from cnnstudio.ml.training.callbacks import learning_rate_schedule, rate_at

    step = learning_rate_schedule(0.1, "step", {"every": 2, "factor": 0.5}, 5, steps_per_epoch=10)
    assert [rate_at(step, 10 * e) for e in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    cosine = learning_rate_schedule(0.1, "cosine", {}, 4, steps_per_epoch=10)
    assert [rate_at(cosine, 10 * e) for e in range(4)] == pytest.approx([0.1, 0.0854, 0.05, 0.0146], abs=1e-4)
    assert rate_at(cosine, 5) < 0.1  # lowered step by step, not once an epoch
    assert learning_rate_schedule(0.1, "plateau", {}, 4, steps_per_epoch=10) == 0.1


def test_plateau_rule_and_early_stopping_follow_keras():
    import keras

    from cnnstudio.ml.training.callbacks import schedule_callbacks

    plateau, stopper = schedule_callbacks("plateau", {"patience": 1, "factor": 0.1}, 2, "val_loss")
    assert isinstance(plateau, keras.callbacks.ReduceLROnPlateau) and plateau.min_delta == 1e-4
    assert plateau.patience == 1 and plateau.factor == pytest.approx(0.1) and plateau.min_lr == pytest.approx(1e-6)
    assert isinstance(stopper, keras.callbacks.EarlyStopping) and stopper.patience == 2
    assert stopper.restore_best_weights and stopper.monitor == "val_loss"
    assert schedule_callbacks("constant", {}, None, "loss") == []


def test_a_plateau_lowers_the_rate_and_says_so(npz):
    from cnnstudio.ml.trainer import TrainingCallbacks

    messages = []
    _, result = train(tiny_project(npz, epochs=4, max_steps_per_epoch=2, schedule="plateau", learning_rate=1.0,
                                   schedule_params={"patience": 1, "factor": 0.1}),
                      callbacks=TrainingCallbacks(on_message=messages.append))
    rates = [e.learning_rate for e in result.history]
    assert rates[0] == pytest.approx(1.0) and rates[-1] < 1.0  # a rate of 1 soon stops helping
    assert any("learning rate lowered to" in m for m in messages)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"])
def test_every_optimizer_takes_a_step(name):
    import keras

    from cnnstudio.ml.training.callbacks import make_optimizer

    optimizer = make_optimizer(name, 0.1, momentum=0.5 if name == "sgd" else 0)
    weight = keras.Variable(np.ones(3, np.float32))
    optimizer.apply_gradients([(np.ones(3, np.float32), weight)])
    assert np.all(np.asarray(weight) < 1)
    optimizer.apply_gradients([(np.full(3, np.nan, np.float32), weight)])  # a NaN step is skipped
    assert np.all(np.isfinite(np.asarray(weight)))
    if name == "sgd":
        assert optimizer.inner_optimizer.momentum == 0.5


# ---------------------------------------------------------------------- more training settings


def test_class_weights_balanced_and_by_name():
    from cnnstudio.ml.training.callbacks import class_weights

    labels = np.array([0, 0, 0, 1])
    assert class_weights(labels, None, ("a", "b")) is None
    assert class_weights(labels, "balanced", ("a", "b")) == pytest.approx({0: 4 / 6, 1: 2.0})
    assert class_weights(labels, {"b": 3, "0": 0.5}, ("a", "b")) == {0: 0.5, 1: 3.0}


def test_mixed_precision_and_class_weights_train_and_leave_keras_as_it_was(npz):
    import keras

    trainer, result = train(tiny_project(npz, epochs=1, max_steps_per_epoch=4, mixed_precision="bfloat16",
                                         class_weight="balanced"))
    assert result.stopped_reason == FINISHED and math.isfinite(result.test_loss)
    assert trainer.model.get_layer("conv").compute_dtype == "bfloat16"
    assert trainer.model.get_layer("conv").kernel.dtype == "float32"  # weights stay in full precision
    assert keras.mixed_precision.dtype_policy().name == "float32"  # the next model is built as usual


@pytest.mark.parametrize("key, value", [("mixed_precision", "float8"), ("class_weight", "rare"),
                                        ("class_weight", {"0": -1})])
def test_bad_precision_or_class_weights_are_refused_by_name(npz, key, value):
    from cnnstudio.core.errors import ProjectError

    with pytest.raises(UserError, match=f'"{key}"'):
        TrainingSettings.from_project(tiny_project(npz, **{key: value}))
    raw = tiny_project(npz).to_dict()
    raw["training"][key] = value
    with pytest.raises(ProjectError, match=f'training "{key}"'):
        project_from_dict(raw)


def test_a_folder_of_pictures_streams_through_worker_threads(tmp_path):
    from PIL import Image

    x, y = quadrant_arrays(120, 5)
    for i, (image, label) in enumerate(zip(x, y, strict=True)):
        folder = tmp_path / "pictures" / f"q{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255).astype(np.uint8)).save(folder / f"{i}.png")
    project = tiny_project(f"folder:{tmp_path / 'pictures'}", epochs=2, learning_rate=0.02)
    trainer, result = train(project, run_dir=tmp_path / "run")
    assert result.stopped_reason == FINISHED and result.epochs == 2
    assert result.history[-1].loss < result.history[0].loss and result.test_accuracy is not None
    batches = trainer.dataset.fit_batches("train", 16, shuffle=True, seed=0)
    assert batches.workers > 1 and batches[0][0].shape == (16, 8, 8, 1)
