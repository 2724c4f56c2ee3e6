"""Experiment results: figures per setting over seeds, curves with a band, best first, verdicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.experiment_results import band, load_results
from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.templates import load_template
from tests.core.experiment_records import write_run

# test accuracy per (filters, seed): 16 filters clearly better than 6; 8 filters inside the noise of 16
ACCURACY = {6: (0.940, 0.943, 0.938), 8: (0.962, 0.975, 0.968), 16: (0.970, 0.972, 0.969)}


@pytest.fixture
def experiment(tmp_path):
    spec = ExperimentSpec(vary=(Variation("conv1.filters", (6, 8, 16)),), seeds=3)
    experiment = Experiment.create(tmp_path / "exp", load_template("lenet5"), spec)
    for run in experiment.runs:
        filters = run.values["conv1.filters"]
        accuracy = ACCURACY[filters][run.seed]
        write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=accuracy,
                  val_accuracy=(accuracy - 0.05, accuracy - 0.01, accuracy)[: 3 - (run.seed == 2 and filters == 6)],
                  seconds=2.0 + run.seed)
    return experiment


def test_settings_are_aggregated_over_seeds_best_first(experiment):
    results = load_results(experiment)
    assert [s.values["conv1.filters"] for s in results.settings] == [16, 8, 6]
    best = results.settings[0]
    acc = best.summaries["test_accuracy"]
    assert acc.count == 3 and acc.mean == pytest.approx(np.mean(ACCURACY[16]))
    assert acc.std == pytest.approx(np.std(ACCURACY[16], ddof=1)) and (acc.low, acc.high) == (0.969, 0.972)
    assert best.summaries["seconds"].mean == pytest.approx(3.0) and best.label == "conv1.filters=16"
    assert best.params == 61706 + (16 - 6) * (5 * 5 * 1 + 1) + (16 - 6) * 5 * 5 * 16  # LeNet-5 with 16 filters
    assert results.metric.name == "test accuracy" and results.pending == 0 and len(results.runs) == 9


def test_curves_are_a_mean_with_a_band_over_seeds(experiment):
    six = load_results(experiment).settings[-1]
    curve = six.curves["val_accuracy"]
    assert curve.epochs.tolist() == [1, 2, 3] and curve.count.tolist() == [3, 3, 2]  # one seed stopped early
    third = [ACCURACY[6][0], ACCURACY[6][1]]
    assert curve.mean[2] == pytest.approx(np.mean(third)) and curve.low[2] == min(third) and curve.high[2] == max(third)
    assert curve.std[0] == pytest.approx(np.std(np.array(ACCURACY[6]) - 0.05, ddof=1))


def test_the_best_setting_gets_a_verdict_against_each_other(experiment):
    verdicts = load_results(experiment).verdicts
    assert [(v.better, v.worse) for v in verdicts] == [("conv1.filters=16", "conv1.filters=8"),
                                                       ("conv1.filters=16", "conv1.filters=6")]
    close, clear = verdicts
    assert close.real is False and close.text.endswith("inside seed noise")
    assert clear.real is True and clear.text.startswith("conv1.filters=16 beats conv1.filters=6 by 3.0 points")
    assert "Welch's t-test" in clear.details


def test_json_has_the_contract_fields_and_is_strict(experiment):
    data = load_results(experiment).to_json()
    text = json.dumps(data, allow_nan=False)
    run = data["runs"][0]
    assert set(run) >= {"run_dir", "values", "seed", "test_accuracy", "test_loss", "seconds"}
    assert run["values"] == {"conv1.filters": 6} and run["run_dir"].endswith("run-001")
    assert len(data["verdicts"]) == 2 and {"text", "details", "p", "test"} <= set(data["verdicts"][0])
    assert "NaN" not in text


def test_runs_not_trained_yet_are_counted_as_pending(experiment):
    more = experiment.extend(ExperimentSpec(seeds=4))
    results = load_results(experiment)
    assert results.pending == len(more) == 3 and len(results.runs) == 9


def test_one_seed_per_setting_says_it_cannot_tell(tmp_path):
    spec = ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.004)),))
    experiment = Experiment.create(tmp_path / "exp", load_template("lenet5"), spec)
    for run, accuracy in zip(experiment.runs, (0.95, 0.97), strict=True):
        write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=accuracy)
    (verdict,) = load_results(experiment).verdicts
    assert verdict.text == ("learning_rate=0.004 beats learning_rate=0.001 by 2.0 points of test accuracy; one seed "
                            "each: cannot tell noise from a difference; run more seeds")


def test_without_a_test_split_settings_are_ranked_by_validation_accuracy(tmp_path):
    spec = ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.004)),))
    experiment = Experiment.create(tmp_path / "exp", load_template("lenet5"), spec)
    for run, accuracy in zip(experiment.runs, (0.95, 0.90), strict=True):
        write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=None, val_accuracy=(accuracy,))
    results = load_results(experiment)
    assert results.metric.name == "validation accuracy" and results.settings[0].label == "learning_rate=0.001"


def test_band_of_nothing_is_empty():
    assert band([]).epochs.size == 0 and band([np.array([])]).mean.size == 0


def test_any_two_settings_can_be_compared(experiment):
    from cnnstudio.core.experiment_results import verdict_between

    settings = {s.values["conv1.filters"]: s for s in load_results(experiment).settings}
    verdict = verdict_between(settings[6], settings[8])
    assert (verdict.better, verdict.worse, verdict.real) == ("conv1.filters=8", "conv1.filters=6", True)


@pytest.mark.parametrize("task, figure, values, best_first", [
    ("segmentation", "mean_iou", {0.003: (0.91, 0.92, 0.90), 0.001: (0.71, 0.70, 0.72)}, [0.003, 0.001]),
    ("regression", "mae", {0.003: (0.31, 0.30, 0.32), 0.001: (0.11, 0.12, 0.10)}, [0.001, 0.003]),
])
def test_each_task_is_ranked_and_judged_by_its_main_figure(tmp_path, task, figure, values, best_first):
    spec = ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.003)),), seeds=3)
    experiment = Experiment.create(tmp_path / "exp", load_template("unet-mini"), spec)
    for run in experiment.runs:
        value = values[run.values["training.learning_rate"]][run.seed]
        write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=None if figure == "mae" else 0.9,
                  task=task, test_figures={figure: value})
    results = load_results(experiment)
    assert results.metric.name == {"mean_iou": "test mean IoU", "mae": "test MAE"}[figure]
    assert [s.values["training.learning_rate"] for s in results.settings] == best_first
    (verdict,) = results.verdicts
    assert verdict.real is True and f"of {results.metric.name}" in verdict.text
    run = results.to_json()["runs"][0]
    assert run["task"] == task and run[f"test_{figure}"] == pytest.approx(values[0.001][0])
    assert results.settings[0].curves["val_loss"].count.tolist() == [3, 3]  # the extra columns are read past
    from cnnstudio.commands.experiment import format_results

    text = format_results(results, experiment)
    assert {"mean_iou": "test IoU", "mae": "test MAE"}[figure] in text and f"best first by {results.metric.name}" in text
