"""Training from the window: Train / Pause / Resume / Stop, live curves and filters, the run record,
the network lock, closing mid-run, NaN, errors in plain words, queued runs, and the settings form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from cnnstudio.core.project import Project, project_from_dict  # noqa: E402
from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ui.training import controller as controller_module  # noqa: E402

WAIT = 60000  # ms; a slow CI machine first imports TensorFlow


def lenet5(steps: int = 8, epochs: int = 2, **training) -> Project:
    """LeNet-5 on a slice of mnist-sample: `steps` batches of 32 per epoch."""
    project = load_template("lenet5")
    project.training.update(max_steps_per_epoch=steps, epochs=epochs, batch_size=32, **training)
    return project


def tiny(name: str) -> Project:
    """Conv2D(4) -> Flatten -> Dense on mnist-sample, 3 batches: quick to build and trace."""
    return project_from_dict({
        "format": "cnnstudio-project", "version": 1, "name": name,
        "network": {"nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [28, 28, 1]}},
            {"id": "conv", "type": "Conv2D", "params": {"filters": 4, "kernel_size": 3, "strides": 2}},
            {"id": "flat", "type": "Flatten", "params": {}},
            {"id": "out", "type": "Dense", "params": {"units": 10, "activation": "softmax"}}],
            "edges": [["input", "conv"], ["conv", "flat"], ["flat", "out"]]},
        "dataset": {"name": "mnist-sample", "permute_pixels": None},
        "training": {"epochs": 1, "batch_size": 32, "max_steps_per_epoch": 3, "validation_split": 0.02}})


@pytest.fixture
def window(make_window):
    def open_on(project: Project):
        w = make_window(project)
        w.docks["training"].raise_()  # the Training dock shares its place with the Inspector
        return w

    return open_on


def train_to_the_end(qtbot, w):
    with qtbot.waitSignal(w.features.training.runFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(w.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    return Path(finished.args[0])


def test_training_lenet5_from_the_gui_feeds_the_curves_filters_and_run_record(window, qtbot):
    w = window(lenet5())
    locks = []
    w.document.lockedChanged.connect(locks.append)
    batches, epochs, snapshots = [], [], []
    w.features.training.batch.connect(batches.append)
    w.features.training.epoch.connect(epochs.append)
    w.features.training.snapshot.connect(snapshots.append)
    run_dir = train_to_the_end(qtbot, w)
    assert locks == [True, False] and not w.document.locked
    assert batches and [e.epoch for e in epochs] == [1, 2] and snapshots
    view = w.features.training_view
    assert len(view.curves.batches) == len(batches) and len(view.curves.epochs) == 2
    view.curves.redraw_now()
    assert len(view.curves.smooth_loss.getData()[0]) == len(batches)
    assert view.live.snapshots_shown >= 1 and view.live.filters_image.image.shape[1] > 5
    assert {"model.keras", "metrics.csv", "run.json", "project.cnnproj"} <= {p.name for p in run_dir.iterdir()}
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    assert w.model_source.run_dir == run_dir
    assert w.features.training_panel.run_bar.value() == 1000 and w.features.training_panel.train_button.isEnabled()
    w.document.replace_project(load_template("mlp"))  # another project: the old run's curves go
    assert len(view.curves.batches) == 0 and len(view.curves.epochs) == 0 and view.live.layer is None


def test_pause_holds_the_batches_and_resume_carries_on(window, qtbot):
    w = window(lenet5(steps=2000, epochs=1))
    panel, seen = w.features.training_panel, []
    w.features.training.batch.connect(seen.append)
    with qtbot.waitSignal(w.features.training.batch, timeout=WAIT):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(w.features.training.message, check_params_cb=lambda text: text == "paused", timeout=WAIT):
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.pause_button.text() == "Resume" and w.features.training.is_paused
    held = len(seen)  # every batch before the trainer held has been reported: events arrive in order
    with qtbot.waitSignal(w.features.training.message, check_params_cb=lambda text: text == "resumed", timeout=WAIT):
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert len(seen) == held  # no batch while paused: the next one comes after "resumed"
    qtbot.waitUntil(lambda: len(seen) > held + 1, timeout=WAIT)
    assert seen[-1].batch > seen[held - 1].batch
    with qtbot.waitSignal(w.features.training.runFinished, timeout=WAIT):
        w.features.training.stop()


def test_stop_ends_the_run_and_keeps_the_weights_trained_so_far(window, qtbot):
    w = window(lenet5(steps=2000, epochs=3))
    with qtbot.waitSignal(w.features.training.batch, timeout=WAIT):
        w.features.training.start()
    assert w.document.locked
    with qtbot.waitSignal(w.features.training.runFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(w.features.training_panel.stop_button, Qt.MouseButton.LeftButton)
    run_dir = Path(finished.args[0])
    assert w.features.training.last_result.stopped_reason == "stopped"
    assert (run_dir / "model.keras").is_file()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    assert not w.document.locked and w.model_source.run_dir == run_dir


def test_closing_mid_run_asks_stops_saves_and_leaves_no_thread(window, qtbot, monkeypatch):
    w = window(lenet5(steps=2000, epochs=3))
    answers = iter([False, True])
    asked = []
    monkeypatch.setattr(controller_module, "ask_stop_and_close", lambda parent: asked.append(1) or next(answers))
    with qtbot.waitSignal(w.features.training.batch, timeout=WAIT):
        w.features.training.start()
    w.close()  # Cancel: the window stays and training goes on
    assert w.isVisible() and w.features.training.is_running
    with qtbot.waitSignal(w.features.training.batch, timeout=WAIT):
        pass
    started = []
    w.features.training.runFinished.connect(started.append)
    w.close()  # Stop and close: it closes once the trainer has saved
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT)
    assert len(asked) == 2 and started
    assert (Path(started[0]) / "model.keras").is_file()
    assert w.ml_transport.shutdown(timeout_ms=0)  # nothing of the window is left running in the worker


def test_a_nan_loss_is_shown_where_it_happened(window, qtbot):
    w = window(lenet5(steps=30, epochs=2, optimizer="sgd", learning_rate=10.0, normalization="none"))
    with qtbot.waitSignal(w.features.training.resultReady, timeout=WAIT) as ended:
        w.features.training.start()
    assert ended.args[0].stopped_reason == "diverged"
    view, panel = w.features.training_view, w.features.training_panel
    assert view.banner.isVisible() and "NaN" in view.banner.text() and "learning rate" in view.banner.text()
    assert view.curves.stop_marks and panel.problem_label.isVisible() and "NaN" in panel.problem_label.text()
    assert "NaN" in w.statusBar().currentMessage()
    assert not w.document.locked


def test_a_network_that_does_not_fit_the_data_is_refused_in_plain_words(window, qtbot):
    w = window(lenet5())
    wrong = lenet5()
    wrong.network.set_param("output", "units", 3)
    with qtbot.waitSignal(w.features.training.failed, timeout=WAIT) as failed:
        assert w.features.training.start(wrong) is True  # the data check runs on the ML thread
    assert failed.args[0] == ("Cannot train LeNet-5: node 'output': outputs 3 values but the data has 10 classes; "
                              "set units to 10")
    assert not w.document.locked and not w.features.training.is_running
    assert w.features.training_panel.problem_label.isVisible()
    empty = Project(name="Empty", network=type(wrong.network)())
    with qtbot.waitSignal(w.features.training.failed, timeout=1000) as refused:
        assert w.features.training.start(empty) is False
    assert "the network is empty" in refused.args[0]


def test_runs_started_while_one_trains_are_queued_and_run_in_turn(window, qtbot):
    w = window(tiny("first"))
    w.features.training.evaluate_test = False
    finished, names = [], []
    w.features.training.runFinished.connect(finished.append)
    w.features.training.runStarting.connect(lambda request: names.append(request.project.name))
    assert w.features.training.start() and w.features.training.start(tiny("second"), label="plain")
    assert w.features.training.queued == 1 and w.document.locked
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=WAIT)
    assert names == ["first", "second"] and finished[0] != finished[1]
    assert not w.document.locked and w.features.training.queued == 0 and w.model_source.run_dir == finished[1]


def test_the_settings_form_writes_the_project_and_follows_a_new_one(window, qtbot):
    w = window(lenet5())
    form, document = w.features.training_panel.form, w.document
    form.fields["optimizer"].setCurrentText("sgd")
    assert form.form.isRowVisible(form.fields["momentum"]) and not form.form.isRowVisible(form.fields["weight_decay"])
    form.fields["learning_rate"].setValue(0.05)
    form.fields["learning_rate"].stepBy(1)
    form.fields["epochs"].setValue(12)
    form.early_check.setChecked(True)
    form.fields["schedule"].setCurrentText("step")
    form._schedule_fields["factor"].setValue(0.25)
    form.fields["max_steps_per_epoch"].setValue(0)
    training = document.project.training
    assert training["optimizer"] == "sgd" and training["learning_rate"] == 0.1 and training["epochs"] == 12
    assert training["early_stopping"] == 3 and training["schedule"] == "step"
    assert training["schedule_params"] == {"factor": 0.25} and training["max_steps_per_epoch"] is None
    assert document.is_modified and w.findChild(type(w.features.training_panel), "trainingPanel") is w.features.training_panel
    fresh = load_template("mlp")
    fresh.training["epochs"] = 7
    document.replace_project(fresh)
    assert form.fields["epochs"].value() == 7 and form.fields["optimizer"].currentText() == "adam"
    assert form.fields["schedule"].currentText() == "constant" and not form._schedule_fields


def test_a_run_can_start_from_the_weights_of_the_run_the_views_show(window, qtbot):
    w = window(tiny("tiny"))
    w.features.training.evaluate_test = False
    panel = w.features.training_panel
    assert panel.from_weights.isHidden()  # no trained run yet
    first = train_to_the_end(qtbot, w)
    assert not panel.from_weights.isHidden() and panel.from_weights.text() == f"Start from the weights of {first.name}"
    panel.from_weights.setChecked(True)
    second = train_to_the_end(qtbot, w)
    taken = json.loads((second / "run.json").read_text())["initial_weights"]
    assert taken["layers_taken"] == 2 and Path(taken["path"]).parent == first
    assert any("started from the weights of" in text for text in w.messages.texts())
