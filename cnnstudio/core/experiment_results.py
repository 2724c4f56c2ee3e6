"""What an experiment found: per setting, figures over seeds, curves with a band, and verdicts.

    results = load_results(Experiment.open(folder))
    results.settings[0].label, results.settings[0].summaries["test_accuracy"].mean
    results.settings[0].curves["val_accuracy"].mean      # per epoch, with .low/.high/.std
    results.verdicts[0].text                              # best setting against each other one

Reads only run.json and metrics.csv of each run (and the base project once per setting
for its parameter count), so a results view of 200 runs opens in a fraction of a second.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import analyze
from .errors import UserError
from .experiment_spec import setting_id, values_label
from .experiments import Experiment, PlannedRun
from .runs import METRICS_HEADER, read_metrics
from .stats import (
    TEST_ACCURACY,
    TEST_AUC,
    TEST_LOSS,
    TEST_MAE,
    TEST_MEAN_IOU,
    VALIDATION_ACCURACY,
    Metric,
    Summary,
    Verdict,
    compare,
    summarize,
)

CURVE_COLUMNS = METRICS_HEADER[1:]  # loss, accuracy, val_loss, val_accuracy
FIGURES = ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "seconds", "test_mean_iou", "test_mae",
           "test_auc")


@dataclass(frozen=True)
class Band:
    """A curve over seeds: per epoch, the mean, standard deviation, lowest and highest of the runs that reached it."""

    epochs: np.ndarray  # 1, 2, ...
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray  # runs with a value at that epoch

    def to_json(self) -> dict[str, list]:
        return {name: [None if isinstance(v, float) and not math.isfinite(v) else v
                       for v in getattr(self, name).tolist()]
                for name in ("epochs", "mean", "std", "low", "high", "count")}


def band(curves: Sequence[np.ndarray]) -> Band:
    """The Band of several per-epoch curves (epoch k at index k - 1; NaN or a shorter curve: no value)."""
    length = max((len(c) for c in curves), default=0)
    if length == 0:
        empty = np.zeros(0)
        return Band(np.zeros(0, dtype=int), empty, empty, empty, empty, np.zeros(0, dtype=int))
    table = np.full((len(curves), length), np.nan)
    for row, curve in zip(table, curves, strict=True):
        row[:len(curve)] = curve
    count = np.sum(np.isfinite(table), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(np.isfinite(table), table, 0.0)
        mean = np.where(count > 0, filled.sum(axis=0) / np.maximum(count, 1), np.nan)
        squares = np.where(np.isfinite(table), (table - mean) ** 2, 0.0).sum(axis=0)
        std = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.where(count == 1, 0.0, np.nan))
        low = np.where(count > 0, np.min(np.where(np.isfinite(table), table, np.inf), axis=0), np.nan)
        high = np.where(count > 0, np.max(np.where(np.isfinite(table), table, -np.inf), axis=0), np.nan)
    return Band(np.arange(1, length + 1), mean, std, low, high, count)


@dataclass
class RunResult:
    """One trained run of the experiment: its plan entry and its per-epoch metrics."""

    run: PlannedRun
    path: Path
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # column -> value per epoch (NaN: none)

    def to_json(self) -> dict[str, Any]:
        """The per-run object of `cnnstudio experiment --json`."""
        r = self.run
        own = {name: getattr(r, name) for name in ("test_mean_iou", "test_mae", "test_auc") if getattr(r, name) is not None}
        return {"run_dir": str(self.path), "values": r.values, "seed": r.seed, "test_accuracy": r.test_accuracy,
                "test_loss": r.test_loss, "seconds": None if r.seconds is None else round(r.seconds, 3),
                "status": r.status, "val_accuracy": r.val_accuracy, "val_loss": r.val_loss, "epochs": r.epochs,
                **({"task": r.task} if r.task else {}), **own}


@dataclass
class SettingResult:
    """One setting (a combination of values) over its seeds."""

    values: dict[str, Any]
    label: str
    runs: list[RunResult]
    params: int | None
    summaries: dict[str, Summary]
    curves: dict[str, Band]

    def figure(self, name: str) -> list[float | None]:
        return [getattr(r.run, name) for r in self.runs]

    def to_json(self) -> dict[str, Any]:
        return {"values": self.values, "label": self.label, "seeds": [r.run.seed for r in self.runs],
                "params": self.params, **{k: s.to_json() for k, s in self.summaries.items()}}


@dataclass
class ExperimentResults:
    """Everything a results view shows; settings come best first by `metric`."""

    name: str
    folder: Path
    keys: list[str]
    runs: list[RunResult]
    settings: list[SettingResult]
    metric: Metric | None
    verdicts: list[Verdict]
    pending: int

    def to_json(self) -> dict[str, Any]:
        """`cnnstudio experiment --json`: runs and verdicts (CONTRACTS.md section 6), plus settings."""
        return {"runs": [r.to_json() for r in self.runs], "verdicts": [v.to_json() for v in self.verdicts],
                "settings": [s.to_json() for s in self.settings], "experiment_dir": str(self.folder),
                "keys": self.keys, "metric": None if self.metric is None else self.metric.name,
                "pending": self.pending}


def load_results(experiment: Experiment, *, curves: bool = True, params: bool = True) -> ExperimentResults:
    """Read every trained run of `experiment` and aggregate it per setting."""
    experiment.refresh()
    trained = [r for r in experiment.runs if r.done or r.status == "stopped"]
    runs = [RunResult(r, experiment.run_path(r), _curves(experiment.run_path(r)) if curves else {}) for r in trained]
    groups: dict[str, list[RunResult]] = {}
    for result in runs:
        if result.run.done:
            groups.setdefault(setting_id(result.run.values), []).append(result)
    keys = experiment.keys
    settings = []
    for members in groups.values():
        values = members[0].run.values
        summaries = {name: summarize(getattr(m.run, name) for m in members) for name in FIGURES}
        bands = {c: band([m.metrics[c] for m in members if c in m.metrics]) for c in CURVE_COLUMNS} if curves else {}
        settings.append(SettingResult(values, values_label(values, keys), members,
                                      _params(experiment, members[0].run) if params else None, summaries, bands))
    metric = _ranking_metric(settings)
    if metric is not None:
        settings.sort(key=lambda s: _sort_key(s, metric))
    verdicts = best_against_others(settings, metric, keys) if metric is not None else []
    pending = sum(1 for r in experiment.runs if not r.done)
    return ExperimentResults(experiment.name, experiment.folder, keys, runs, settings, metric, verdicts, pending)


def _curves(path: Path) -> dict[str, np.ndarray]:
    try:
        rows = read_metrics(path)
    except (OSError, ValueError, csv.Error):
        return {}
    return {c: np.array([np.nan if row.get(c) is None else row[c] for row in rows], dtype=float)
            for c in CURVE_COLUMNS}


def _params(experiment: Experiment, run: PlannedRun) -> int | None:
    try:
        return analyze(experiment.project_for(run).network).total_params
    except UserError:
        return None


_FIGURE_OF = {TEST_ACCURACY.name: "test_accuracy", VALIDATION_ACCURACY.name: "val_accuracy",
              TEST_LOSS.name: "test_loss", TEST_MEAN_IOU.name: "test_mean_iou", TEST_MAE.name: "test_mae",
              TEST_AUC.name: "test_auc"}
TASK_METRIC = {"segmentation": TEST_MEAN_IOU, "regression": TEST_MAE, "multilabel": TEST_AUC}  # else accuracy


def figure_of(metric: Metric) -> str:
    """The run figure (a `PlannedRun` field) a metric compares: "test_accuracy", "test_mean_iou", ..."""
    return _FIGURE_OF[metric.name]


def task_metric(task: str | None) -> Metric:
    """The test figure that says how good a run of this task is: mean IoU, MAE, AUC, else accuracy."""
    return TASK_METRIC.get(task or "", TEST_ACCURACY)


def metric_text(metric: Metric, value: float | None, digits: int = 2) -> str:
    """A figure as people read it: accuracy-like figures in percent, the others as numbers."""
    if value is None or value != value:
        return ""
    return f"{100 * value:.{digits}f}%" if metric.scale == 100 else f"{value:.4g}"


def _ranking_metric(settings: Sequence[SettingResult]) -> Metric | None:
    """The task's main test figure (mean IoU, MAE, AUC) or test accuracy where every setting has it; else
    validation accuracy; else test loss."""
    tasks = {r.run.task for s in settings for r in s.runs}
    first = task_metric(tasks.pop()) if len(tasks) == 1 else TEST_ACCURACY
    for metric in (first, VALIDATION_ACCURACY, TEST_LOSS):
        if settings and all(s.summaries[_FIGURE_OF[metric.name]].count for s in settings):
            return metric
    return None


def _sort_key(setting: SettingResult, metric: Metric) -> float:
    mean = setting.summaries[_FIGURE_OF[metric.name]].mean
    return -mean if metric.higher_is_better else mean


def best_against_others(settings: Sequence[SettingResult], metric: Metric, keys: Sequence[str]) -> list[Verdict]:
    """The best setting compared with each other one (each pair tested on its own)."""
    return [verdict_between(settings[0], other, metric, keys) for other in settings[1:]]


def verdict_between(a: SettingResult, b: SettingResult, metric: Metric = TEST_ACCURACY,
                    keys: Sequence[str] | None = None) -> Verdict:
    """The verdict on two settings, each named by the values in which they differ."""
    keys = list(keys if keys is not None else dict.fromkeys([*a.values, *b.values]))
    differing = [k for k in keys if json.dumps(a.values.get(k), sort_keys=True)
                 != json.dumps(b.values.get(k), sort_keys=True)] or keys
    figure = _FIGURE_OF[metric.name]
    return compare(values_label(a.values, differing), a.figure(figure),
                   values_label(b.values, differing), b.figure(figure), metric)
