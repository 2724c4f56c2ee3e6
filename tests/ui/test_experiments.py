"""Experiments in the window: defined from the open project, trained run by run, stopped, resumed, given
more runs and read, with verdicts; the list survives a restart."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.runs import read_run_info
from cnnstudio.core.templates import load_template
from cnnstudio.ui.experiments.choices import read_values, varying_choices
from cnnstudio.ui.experiments.controller import IDLE, PAUSED, Budget

RUN_TIMEOUT_MS = 240_000
ROWS = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """The runs folder the window uses (the preference), empty."""
    from cnnstudio.ui import preferences

    folder = tmp_path / "runs"
    folder.mkdir()
    original = preferences.get
    monkeypatch.setattr(preferences, "get", lambda key: str(folder) if key == "runs_folder" else original(key))
    return folder


@pytest.fixture
def window(make_window, runs_dir):
    window = make_window(load_template("lenet5"))
    window.features.experiments.controller.evaluate_test = False  # the verdicts then use validation accuracy
    return window


def tiny_dialog(experiments, **values):
    dialog = experiments.new_experiment()
    for key, text in values.items():
        dialog.add(key.replace("__", "."), text)
    dialog.epochs.setValue(1)
    dialog.batches.setValue(2)
    return dialog


# ---------------------------------------------------------------------- what can vary
def test_what_can_vary_comes_from_the_training_settings_the_dataset_and_the_catalog():
    project = load_template("lenet5")
    choices = {c.key: c for c in varying_choices(project)}
    assert choices["training.optimizer"].choices[:2] == ("sgd", "adam")
    conv = choices["conv1.filters"]
    assert conv.group == "conv1 (Conv2D)" and conv.current == 6 and ">= 1" in conv.hint
    assert choices["conv1.padding"].choices == ("valid", "same")
    assert choices["dataset.permute_pixels"].suggestion() == "none, 1234"
    assert "input.shape" not in choices  # the Input follows the data
    assert read_values(project, "conv1.filters", "6, 16") == ([6, 16], "")
    values, problem = read_values(project, "conv1.filters", "6, 0")
    assert values == [6, 0] and "conv1.filters=0" in problem and ">= 1" in problem
    assert "learning_rate" in read_values(project, "training.learning_rate", "0.001, -1")[1]
    assert "10 classes" in read_values(project, "output.units", "5")[1]  # the network must still fit its data
    assert "twice" in read_values(project, "training.batch_size", "32, 32")[1]


def test_the_dialog_checks_values_as_they_are_typed_and_previews_the_runs(window):
    dialog = tiny_dialog(window.features.experiments, training__learning_rate="0.001, 0.004", conv1__filters="6, 16")
    dialog.seeds.setValue(3)
    assert "4 settings × 3 seeds = <b>12 runs</b>" in dialog.preview.text()
    assert dialog.create_and_train.isEnabled()
    dialog.row("conv1.filters").set_text("6, 16, 0")
    assert "conv1.filters=0" in dialog.problem.text() and not dialog.create_and_train.isEnabled()
    assert "must be >= 1" in dialog.findChild(type(dialog.problem), "problem_conv1.filters").text()
    dialog.row("conv1.filters").set_text("6, 16")
    dialog.list_mode.setChecked(True)  # the first values together, the second together
    assert "2 settings × 3 seeds" in dialog.preview.text()
    assert "learning_rate=0.004, conv1.filters=16" in dialog.preview.text()
    dialog.random_mode.setChecked(True)
    dialog.random_count.setValue(3)
    assert "3 settings × 3 seeds" in dialog.preview.text()
    dialog.close()


def test_a_choice_menu_fills_the_values(window):
    dialog = tiny_dialog(window.features.experiments, conv1__activation="relu")
    row = dialog.row("conv1.activation")
    tanh = next(a for a in row.pick.menu().actions() if a.text() == "tanh")
    tanh.trigger()
    assert row.edit.text() == "relu, tanh" and row.values == ["relu", "tanh"]
    dialog.close()


# ---------------------------------------------------------------------- defined, run, stopped, resumed, read
def test_an_experiment_is_defined_run_stopped_resumed_extended_and_read(window, qtbot, runs_dir):
    experiments = window.features.experiments
    controller, view, panel = experiments.controller, experiments.view, experiments.panel
    dialog = tiny_dialog(experiments, training__learning_rate="0.001, 0.02")
    dialog.seeds.setValue(2)
    started = []
    controller.runStarted.connect(lambda folder, s: started.append(s.run.index))

    def stop_at_the_second_run(folder, s):
        if s.run.index == 2:
            controller.pause()  # held before its next batch ...
            assert controller.state == PAUSED and view.pause_button.text() == "Resume Run"
            controller.stop()  # ... and stopped: its record is kept, it trains again on resume

    controller.runStarted.connect(stop_at_the_second_run)
    with qtbot.waitSignal(controller.sessionEnded, timeout=RUN_TIMEOUT_MS) as ended:
        dialog.create_and_train.click()
        assert not dialog.isVisible()
    controller.runStarted.disconnect(stop_at_the_second_run)
    folder = ended.args[0]
    assert folder.parent == runs_dir and "stopped by request" in ended.args[1]
    assert controller.state == IDLE and started == [1, 2]
    experiment = Experiment.open(folder)
    assert [r.status for r in experiment.runs] == ["finished", "stopped", "pending", "pending"]
    assert [r.seed for r in experiment.runs] == [0, 0, 1, 1]
    assert read_run_info(experiment.run_path(experiment.runs[0]))["status"] == "finished"
    assert view.folder == folder and window.tabs.currentWidget() is view
    assert "4 runs planned: 1 trained, 3 to train" in view.summary.text()
    assert view.train_button.text() == "Resume" and view.train_button.isEnabled()
    qtbot.waitUntil(lambda: [e.trained for e in panel.entries] == [1])
    assert panel.table.item(0, 6).text() == "3 to train"

    with qtbot.waitSignal(controller.sessionEnded, timeout=RUN_TIMEOUT_MS) as ended:
        view.train_button.click()  # Resume: the stopped run is trained again in a new folder
    assert "every run is trained" in ended.args[1]
    experiment = Experiment.open(folder)
    assert [r.status for r in experiment.runs] == ["finished"] * 4 and started == [1, 2, 2, 3, 4]
    assert experiment.runs[1].earlier == ["run-002"] and experiment.runs[1].run_dir == "run-002-2"

    # read: the settings over their seeds, sortable; curves with a band; the verdict and its test
    assert view.settings_model.rowCount() == 2 and view.runs_model.rowCount() == 4
    assert view.settings_model.headers[:3] == ["learning_rate", "Seeds", "Test acc (mean)"]
    assert [view.settings_model.cells[r][1][0] for r in range(2)] == ["2", "2"]
    proxy = view.settings_proxy
    view.settings_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(2)] == ["0.001", "0.02"]
    view.settings_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 0).data() for r in range(2)] == ["0.02", "0.001"]
    assert len(view.curves.lines) == 2 and len(view.curves.bands) == 2
    assert view.results.metric.name == "validation accuracy"
    (verdict,) = view.verdicts.verdicts
    assert "validation accuracy" in verdict.text and verdict.test == "Welch's t-test"
    assert "Welch's t-test" in view.verdicts.test.text() and verdict.text in view.verdicts.text.text()
    view.settings_table.selectAll()  # two settings chosen: their own verdict first
    assert view.verdicts.chosen is not None and view.verdicts.sentences[0] == view.verdicts.chosen.text
    view.tables.setCurrentWidget(view.runs_table)
    selection = view.runs_table.selectionModel()
    selection.clearSelection()
    for row in (0, 1):
        selection.select(view.runs_proxy.index(row, 0), ROWS)
    assert "cannot tell" in view.verdicts.sentences[0]  # two runs: one seed each

    # add runs: a third seed for both settings, planned now and trained later
    dialog = experiments.add_runs(folder)
    assert not dialog.choice.isVisible() and dialog.seeds.minimum() == 2
    dialog.seeds.setValue(3)
    assert "adds <b>2 runs</b>" in dialog.preview.text()
    dialog.create_only.click()
    experiment = Experiment.open(folder)
    assert [r.status for r in experiment.runs][-2:] == ["pending", "pending"] and experiment.spec.seeds == 3
    assert "6 runs planned: 4 trained, 2 to train" in view.summary.text()
    assert not controller.is_running


def test_the_experiments_panel_lists_them_after_a_restart_and_opens_one(make_window, runs_dir, tmp_path):
    project = load_template("lenet5")
    experiment = Experiment.create(runs_dir / "lenet5-exp-20261201-100000", project,
                                   ExperimentSpec(vary=(Variation("conv1.filters", (6, 16)),), seeds=2))
    for run in experiment.runs[:2]:  # as if an earlier session had trained two runs
        run.status, run.test_accuracy, run.seconds = "finished", 0.9 + run.values["conv1.filters"] / 1000, 3.0
    experiment.save()
    (runs_dir / "not-an-experiment").mkdir()
    window = make_window(project)
    panel = window.features.experiments.panel
    assert [e.folder for e in panel.entries] == [experiment.folder]
    cells = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert cells[:4] == ["lenet5-exp-20261201-100000", "LeNet-5", "conv1.filters", "2 of 4"]
    assert cells[4] == "conv1.filters=16: 91.6% (1 seeds)" and cells[6] == "2 to train"
    panel.select(experiment.folder)
    panel.open_button.click()
    view = window.features.experiments.view
    assert window.tabs.currentWidget() is view and view.folder == experiment.folder
    assert "2 trained, 2 to train" in view.summary.text() and view.settings_model.rowCount() == 2
    assert "one seed each" in view.verdicts.sentences[0]


def test_an_experiment_that_cannot_train_is_refused_in_the_dialog_and_nothing_is_written(window, runs_dir):
    dialog = tiny_dialog(window.features.experiments, output__units="10")
    dialog.row("output.units").set_text("10")
    dialog.add("dataset.name", "mnist-sample, cifar10")
    assert "cifar10" in dialog.problem.text() and not dialog.create_and_train.isEnabled()
    assert list(runs_dir.iterdir()) == []
    dialog.close()


def test_a_run_budget_trains_part_now(window, qtbot):
    experiments = window.features.experiments
    project = window.document.project.copy()
    project.training.update({"epochs": 1, "max_steps_per_epoch": 2})
    folder = experiments.controller.create(project, ExperimentSpec(vary=(Variation("conv1.filters", (4, 6)),)))
    saved = json.loads((folder / "experiment.json").read_text())
    assert saved["keys"] == ["conv1.filters"] and len(saved["runs"]) == 2
    with qtbot.waitSignal(experiments.controller.sessionEnded, timeout=RUN_TIMEOUT_MS) as ended:
        assert experiments.controller.start(folder, Budget(runs=1))
    assert "the budget of 1 run is spent; 1 to train" in ended.args[1]
    assert [r.status for r in Experiment.open(folder).runs] == ["finished", "pending"]


def test_a_regression_experiment_is_ranked_and_shown_by_its_test_mae(make_window, runs_dir):
    project = load_template("lenet5")
    experiment = Experiment.create(runs_dir / "lenet5-exp-20261202-100000", project,
                                   ExperimentSpec(vary=(Variation("conv1.filters", (6, 16)),), seeds=2))
    for run in experiment.runs:  # lower MAE is better: the 16-filter runs are the best
        run.status, run.task, run.seconds = "finished", "regression", 3.0
        run.test_mae = 0.5 - run.values["conv1.filters"] / 100 + run.seed / 1000
        run.test_loss = run.test_mae
    experiment.save()
    window = make_window(project)
    panel = window.features.experiments.panel
    assert panel.table.item(0, 4).text() == "conv1.filters=16: test MAE 0.3405 (2 seeds)"
    panel.select(experiment.folder)
    panel.open_button.click()
    view = window.features.experiments.view
    model = view.settings_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "Test MAE (mean)" in headers and not any("acc (mean)" in h for h in headers)
    column = headers.index("Test MAE (mean)")
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["16", "6"]  # best (lowest) first
    assert model.data(model.index(0, column)) == "0.3405"
    assert "test MAE 0.3405" in view.summary.text()
    runs_headers = [view.runs_model.headerData(c, Qt.Orientation.Horizontal)
                    for c in range(view.runs_model.columnCount())]
    assert "Test MAE" in runs_headers
