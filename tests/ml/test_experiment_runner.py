"""The experiment runner: normal run records, the same results as a plain Trainer, budgets, stop, resume."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_results import load_results
from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.runs import read_metrics, read_run_info
from cnnstudio.ml.experiments import (
    BUDGET_MINUTES,
    BUDGET_RUNS,
    STOPPED,
    Budget,
    ExperimentCallbacks,
    ExperimentRunner,
    check_spec,
)
from tests.ml.test_trainer import tiny_project, write_quadrants


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return tiny_project("npz:" + str(write_quadrants(tmp_path_factory.mktemp("data"))), epochs=2)


def spec(seeds=1, filters=(2, 4)):
    return ExperimentSpec(vary=(Variation("conv.filters", filters),), seeds=seeds)


def test_every_run_is_a_normal_run_record_and_results_follow(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec(seeds=2))
    seen = []
    outcome = ExperimentRunner(experiment, callbacks=ExperimentCallbacks(
        on_run_started=lambda run, position, count: seen.append((run.index, position, count)))).run()
    assert outcome.reason == "finished" and outcome.left == 0 and len(outcome.trained) == 4
    assert seen == [(1, 1, 4), (2, 2, 4), (3, 3, 4), (4, 4, 4)]
    for run in experiment.runs:
        path = experiment.run_path(run)
        info = read_run_info(path)
        assert info["status"] == "finished" and info["settings"]["seed"] == run.seed
        assert (path / "model.keras").is_file() and len(read_metrics(path)) == 2
        assert json.loads((path / "project.cnnproj").read_text())["network"]["nodes"][1]["params"]["filters"] == \
            run.values["conv.filters"]
    saved = json.loads((tmp_path / "exp" / "experiment.json").read_text())
    assert [r["status"] for r in saved["runs"]] == ["finished"] * 4
    assert all(0 <= r["test_accuracy"] <= 1 and r["seconds"] > 0 for r in saved["runs"])
    results = load_results(Experiment.open(tmp_path / "exp"))
    assert len(results.settings) == 2 and len(results.verdicts) == 1 and results.verdicts[0].test is not None


def test_a_run_in_an_experiment_learns_what_a_plain_trainer_learns(project, tmp_path):
    from cnnstudio.core.experiment_spec import apply_values
    from cnnstudio.ml.trainer import Trainer

    experiment = Experiment.create(tmp_path / "exp", project, spec(filters=(4, 2)))
    ExperimentRunner(experiment).run()  # the second run reuses the dataset the first one loaded
    alone = Trainer(apply_values(project, {"conv.filters": 2}, seed=0), run_dir=tmp_path / "alone").run()
    second = experiment.runs[1]
    assert second.test_loss == pytest.approx(alone.test_loss, rel=1e-5)
    ours, theirs = read_metrics(experiment.run_path(second)), read_metrics(tmp_path / "alone")
    assert [v for row in ours for v in row.values()] == pytest.approx([v for row in theirs for v in row.values()],
                                                                      rel=1e-5)


def test_a_run_budget_trains_some_now_and_the_rest_on_resume(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec(seeds=2))
    outcome = ExperimentRunner(experiment, budget=Budget(runs=3)).run()
    assert outcome.reason == BUDGET_RUNS and len(outcome.trained) == 3 and outcome.left == 1
    assert "resume with: cnnstudio experiment" in outcome.message
    again = Experiment.open(tmp_path / "exp")
    assert [r.status for r in again.runs] == ["finished"] * 3 + ["pending"]
    outcome = ExperimentRunner(again).run()
    assert [r.index for r in outcome.trained] == [4] and outcome.left == 0


def test_stop_after_current_ends_between_runs(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec())
    runner = ExperimentRunner(experiment)
    runner.callbacks.on_run_ended = lambda run: runner.stop_after_current()
    outcome = runner.run()
    assert outcome.reason == STOPPED and [r.status for r in experiment.runs] == ["finished", "pending"]


def test_stop_ends_the_run_in_progress_which_is_trained_again_on_resume(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec())
    runner = ExperimentRunner(experiment)
    runner.callbacks.on_epoch = lambda run, report: runner.stop()
    outcome = runner.run()
    assert outcome.reason == STOPPED and len(outcome.trained) == 1 and outcome.left == 2
    assert experiment.runs[0].status == "stopped" and read_run_info(tmp_path / "exp" / "run-001")["status"] == "stopped"
    outcome = ExperimentRunner(Experiment.open(tmp_path / "exp")).run()
    first = Experiment.open(tmp_path / "exp").runs[0]
    assert outcome.left == 0 and first.status == "finished"
    assert first.run_dir == "run-001-2" and first.earlier == ["run-001"]
    assert read_run_info(tmp_path / "exp" / "run-001")["status"] == "stopped"  # the stopped record is kept


def test_an_interrupted_experiment_resumes_its_run_from_the_checkpoint(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec())

    def interrupt(run, report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ExperimentRunner(experiment, callbacks=ExperimentCallbacks(on_epoch=interrupt)).run()
    saved = Experiment.open(tmp_path / "exp")
    assert saved.runs[0].status == "running" and read_run_info(tmp_path / "exp" / "run-001")["status"] == "running"
    messages = []
    outcome = ExperimentRunner(saved, callbacks=ExperimentCallbacks(on_message=messages.append)).run()
    assert outcome.left == 0 and saved.runs[0].run_dir == "run-001" and saved.runs[0].status == "finished"
    assert any("resuming" in m and "after epoch 1" in m for m in messages)
    assert len(read_metrics(tmp_path / "exp" / "run-001")) == 2


def test_a_time_budget_stops_the_run_that_reaches_it(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec())
    now = [0.0]

    def later(run, report):
        now[0] = 61.0  # after the first epoch the minute is over

    outcome = ExperimentRunner(experiment, budget=Budget(minutes=1), clock=lambda: now[0],
                               callbacks=ExperimentCallbacks(on_epoch=later)).run()
    assert outcome.reason == BUDGET_MINUTES and len(outcome.trained) == 1
    assert experiment.runs[0].status == "stopped" and experiment.runs[0].epochs == 1


def test_no_run_starts_once_the_time_budget_is_spent(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec())
    now = [0.0]

    def nearly_spent(run):
        now[0] = 60.0 - 1e-9  # any run that takes time would end after the minute

    outcome = ExperimentRunner(experiment, budget=Budget(minutes=1), clock=lambda: now[0],
                               callbacks=ExperimentCallbacks(on_run_ended=nearly_spent)).run()
    assert outcome.reason == BUDGET_MINUTES and len(outcome.trained) == 1 and outcome.left == 1


def test_settings_that_cannot_train_are_refused_before_anything_trains(project, tmp_path):
    with pytest.raises(UserError, match=r"with conv.kernel_size=9: .*conv"):
        check_spec(project, ExperimentSpec(vary=(Variation("conv.kernel_size", (3, 9)),)))
    with pytest.raises(UserError, match=r"with training.batch_size=0: .*batch_size"):
        check_spec(project, ExperimentSpec(vary=(Variation("training.batch_size", (0,)),)))
    with pytest.raises(UserError, match=r"with out.units=3: .*4 classes"):
        check_spec(project, ExperimentSpec(vary=(Variation("out.units", (3,)),)))
    with pytest.raises(UserError, match="--budget-runs is 0"):
        Budget(runs=0).check()


def test_live_views_get_the_snapshots_of_the_run_in_progress(project, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", project, spec(filters=(2,)))
    got = []
    ExperimentRunner(experiment, trainer_options={"snapshot_layers": ["conv"], "snapshot_every": 0.0},
                     callbacks=ExperimentCallbacks(on_snapshot=lambda run, s: got.append((run.index, s)))).run()
    assert got and all(index == 1 for index, _ in got) and got[0][1].weights["conv"][0].shape == (3, 3, 1, 2)


def test_the_callers_control_pauses_and_stops_the_session_and_its_datasets_are_used(project, tmp_path):
    from cnnstudio.ml.data import load_dataset
    from cnnstudio.ml.training.preparation import dataset_options
    from cnnstudio.ml.training.reporting import RunControl
    from cnnstudio.ml.training.settings import TrainingSettings

    experiment = Experiment.create(tmp_path / "exp", project, spec(seeds=2))
    control, asked, messages = RunControl(), [], []

    def datasets(changed):
        asked.append(changed.training["seed"])
        return load_dataset(str(changed.dataset["name"]),
                            **dataset_options(changed, TrainingSettings.from_project(changed)))

    def on_epoch(run, report):
        if run.index == 1 and report.epoch == 1:
            control.pause()  # the window's Pause: the run holds before its next batch ...
        elif run.index == 2:
            control.stop()  # ... and its Stop ends the run in progress and the session

    def on_message(text):
        messages.append(text)
        if text == "paused":  # the run is holding: let it go on
            control.resume()

    outcome = ExperimentRunner(experiment, control=control, datasets=datasets, callbacks=ExperimentCallbacks(
        on_epoch=on_epoch, on_message=on_message)).run()
    assert outcome.reason == STOPPED and [r.status for r in experiment.runs] == ["finished", "stopped", "pending",
                                                                                 "pending"]
    assert messages.count("paused") == 1 and messages.count("resumed") == 1
    assert asked == [0, 0]


def test_a_time_budget_stops_one_run_without_ending_the_callers_session(project, tmp_path):
    from cnnstudio.ml.training.reporting import RunControl

    experiment = Experiment.create(tmp_path / "exp", project, spec())
    now, control = [0.0], RunControl()

    def later(run, report):
        now[0] = 61.0

    outcome = ExperimentRunner(experiment, budget=Budget(minutes=1), clock=lambda: now[0], control=control,
                               callbacks=ExperimentCallbacks(on_epoch=later)).run()
    assert outcome.reason == BUDGET_MINUTES and not control.stopping
