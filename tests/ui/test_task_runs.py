"""Runs of every task kind in the views that read run records: their metrics.csv has the task's columns after
the contract's five (mean_iou, val_mean_iou, mae, ...) and a regression run has no accuracy at all."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.runs import load_history, read_metrics, summarize_run
from cnnstudio.core.templates import load_template
from tests.core.experiment_records import write_run


@pytest.fixture
def task_runs(tmp_path):
    project = load_template("unet-mini")
    write_run(tmp_path / "runs" / "segmentation", project, test_accuracy=0.99, task="segmentation",
              test_figures={"mean_iou": 0.91})
    write_run(tmp_path / "runs" / "regression", project, test_accuracy=None, task="regression",
              test_figures={"mae": 0.12})
    return tmp_path / "runs"


def test_run_records_with_the_tasks_columns_are_read(task_runs):
    rows = read_metrics(task_runs / "segmentation")
    assert rows[-1]["mean_iou"] == pytest.approx(0.91) and rows[-1]["val_accuracy"] == pytest.approx(0.9)
    summary = summarize_run(task_runs / "regression")
    assert summary.test_accuracy is None and summary.test["mae"] == pytest.approx(0.12)
    assert {s.path.name for s in load_history(task_runs)} == {"segmentation", "regression"}


def test_the_runs_table_comparison_and_curves_take_them(task_runs, qtbot, tmp_path):
    from cnnstudio.ui.runs.comparison import RunComparison
    from cnnstudio.ui.runs.table import RunTableModel
    from cnnstudio.ui.training.curves import plot_history

    summaries = load_history(task_runs)
    model = RunTableModel()
    model.set_runs(summaries)
    cells = [model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole)
             for r in range(model.rowCount()) for c in range(model.columnCount())]
    assert len(cells) == 2 * model.columnCount()
    comparison = RunComparison()
    qtbot.addWidget(comparison)
    comparison.show_runs(summaries, {s.path: read_metrics(s.path) for s in summaries}, {})
    written = comparison.export_csv(tmp_path / "compared.csv")
    assert len(list(csv.reader(open(written)))) == 1 + 2 * 2
    curves = plot_history(read_metrics(task_runs / "segmentation"))
    qtbot.addWidget(curves)
    assert len(curves.epochs.rows) == 2
