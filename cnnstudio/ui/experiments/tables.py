"""The experiment's results as sortable tables: one row per setting (figures over its seeds), one per run.

Both read what `cnnstudio.core.experiment_results.load_results` found; sorting uses the
numbers behind the text (SORT_ROLE), so 9.5% sorts below 10.2%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from cnnstudio.core.experiment_results import ExperimentResults, SettingResult, figure_of, metric_text
from cnnstudio.core.experiment_spec import setting_id, value_text
from cnnstudio.core.experiments import PlannedRun
from cnnstudio.core.stats import TEST_ACCURACY, Metric, Summary

from ..runs.table import duration_text
from ..theme import ERROR_COLOR

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's setting id (settings) or run index (runs)
STATUS_WORDS = {"finished": "finished", "stopped": "stopped", "early_stopping": "early stop", "diverged": "diverged",
                "running": "training", "pending": "to train", "failed": "failed", "interrupted": "interrupted"}
Index = QModelIndex | QPersistentModelIndex


def key_label(key: str) -> str:
    """How a column names a varied key: "learning_rate", "permute_pixels", "conv1.filters"."""
    return key.removeprefix("training.").removeprefix("dataset.")


def percent(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{100 * value:.{digits}f}%"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _sortable(value: Any) -> Any:
    """Numbers sort as numbers, text as text, empty cells last."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return math.inf
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    return value_text(value)


class _Table(QAbstractTableModel):
    """Rows of (text, sort value) cells with a header; subclasses fill `rows`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.headers: list[str] = []
        self.cells: list[list[tuple[str, Any]]] = []
        self.keys: list[Any] = []
        self.tips: list[str] = []
        self.greyed: set[int] = set()
        self.marked: set[int] = set()  # drawn in the error colour (a failed run)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        text, value = self.cells[row][column]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == SORT_ROLE:
            return _sortable(value)
        if role == KEY_ROLE:
            return self.keys[row]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tips[row] if self.tips else text
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and column >= self.first_number_column:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row in self.marked:
                return QBrush(QColor(ERROR_COLOR))
            if row in self.greyed:
                return QBrush(QColor(128, 128, 128))
        return None

    first_number_column = 0

    def _replace(self, headers: list[str], cells: list[list[tuple[str, Any]]], keys: list[Any],
                 tips: list[str]) -> None:
        self.beginResetModel()
        self.headers, self.cells, self.keys, self.tips = headers, cells, keys, tips
        self.endResetModel()


class SettingsTable(_Table):
    """One row per setting, best first: the varied values, seeds, the task's test figure over seeds (accuracy,
    mean IoU, MAE or AUC), ..."""

    def set_results(self, results: ExperimentResults) -> None:
        keys = results.keys
        self.first_number_column = len(keys)
        metric = _shown_metric(results.metric)
        headers = [*(key_label(k) for k in keys), "Seeds", f"{_short_name(metric)} (mean)", "± std",
                   "Lowest–highest", "Test loss", "Val acc", "Parameters", "Time (mean)"]
        cells, ids, tips = [], [], []
        for setting in results.settings:
            acc = setting.summaries[figure_of(metric)]
            loss = setting.summaries["test_loss"]
            val = setting.summaries["val_accuracy"]
            seconds = setting.summaries["seconds"]
            cells.append([*((value_text(setting.values.get(k)), setting.values.get(k)) for k in keys),
                          (str(len(setting.runs)), len(setting.runs)),
                          (metric_text(metric, acc.mean), acc.mean),
                          ("" if acc.std is None else _spread(metric, acc.std), acc.std),
                          (_range(acc, metric), acc.low),
                          (_number(loss.mean), loss.mean),
                          (percent(val.mean, 2), val.mean),
                          ("" if setting.params is None else f"{setting.params:,}", setting.params),
                          (duration_text(seconds.mean), seconds.mean)])
            ids.append(setting_key(setting))
            tips.append(f"{setting.label}: seeds {', '.join(str(r.run.seed) for r in setting.runs)}")
        self._replace(headers, cells, ids, tips)


class RunsTable(_Table):
    """One row per planned run (trained or not): its values, seed, status and figures."""

    def set_runs(self, keys: Sequence[str], runs: Sequence[PlannedRun], folder: Path,
                 metric: Metric | None = None) -> None:
        self.first_number_column = 0
        metric = _shown_metric(metric)
        figure = figure_of(metric)
        headers = ["#", *(key_label(k) for k in keys), "Seed", "Status", _short_name(metric), "Test loss", "Val acc",
                   "Epochs", "Time", "Folder"]
        cells, ids, tips = [], [], []
        self.greyed, self.marked = set(), set()
        for row, run in enumerate(runs):
            cells.append([(str(run.index), run.index),
                          *((value_text(run.values.get(k)), run.values.get(k)) for k in keys),
                          (str(run.seed), run.seed),
                          (STATUS_WORDS.get(run.status, run.status), run.status),
                          (metric_text(metric, getattr(run, figure)), getattr(run, figure)),
                          (_number(run.test_loss), run.test_loss),
                          (percent(run.val_accuracy, 2), run.val_accuracy),
                          (str(run.epochs) if run.epochs else "", run.epochs or None),
                          (duration_text(run.seconds), run.seconds),
                          (run.run_dir, run.run_dir)])
            ids.append(run.index)
            tips.append(str(folder / run.run_dir) + (f"\n{run.message}" if run.message else ""))
            if not run.done:
                self.greyed.add(row)
            if run.status == "failed":
                self.marked.add(row)
        self._replace(headers, cells, ids, tips)


def setting_key(setting: SettingResult) -> str:
    """The id a settings row carries (KEY_ROLE): the same values give the same id."""
    return setting_id(setting.values)


def _range(summary: Summary, metric: Metric) -> str:
    if summary.low is None:
        return ""
    if metric.scale == 100:
        return f"{100 * summary.low:.2f}–{100 * summary.high:.2f}"
    return f"{summary.low:.4g}–{summary.high:.4g}"


def _spread(metric: Metric, std: float) -> str:
    return f"{100 * std:.2f}" if metric.scale == 100 else f"{std:.3g}"


def _shown_metric(metric: Metric | None) -> Metric:
    """The test figure the tables lead with: the experiment's ranking figure where it is a test figure."""
    return metric if metric is not None and metric.name.startswith("test") and metric.name != "test loss" \
        else TEST_ACCURACY


def _short_name(metric: Metric) -> str:
    """ "Test acc", "Test mean IoU", "Test MAE", "Test AUC" for a column header."""
    return "Test acc" if metric == TEST_ACCURACY else metric.name[0].upper() + metric.name[1:]
