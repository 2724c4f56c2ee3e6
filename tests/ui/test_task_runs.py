"""Runs of every task kind in the views that read run records: their metrics.csv has the task's columns after
the contract's five (mean_iou, val_mean_iou, mae, ...) and a regression run has no accuracy at all."""

from __future__ import annotations

import csv
from pathlib import Path

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


def test_unet_mini_opens_without_errors_and_its_shapes_load_in_the_dataset_panel(make_window, qtbot):
    from cnnstudio.ui import datasets

    window = make_window(load_template("unet-mini"))
    assert window.document.analysis().errors == []
    panel = getattr(window, "dataset_panel", None) or datasets.install(window)
    window.docks["dataset"].raise_()
    qtbot.waitUntil(lambda: panel._shown, timeout=3000)
    qtbot.waitUntil(lambda: not panel.loading and panel.preview is not None, timeout=60000)
    assert panel.samples.count == 32 and panel.preview.images.shape[1:] == (64, 64, 3)
    assert panel.problems() == []


def test_unet_mini_trains_from_the_window_with_its_live_views(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    from cnnstudio.ui.training import install

    monkeypatch.chdir(tmp_path)
    project = load_template("unet-mini")
    project.training.update(epochs=1, max_steps_per_epoch=3, validation_split=0.02)
    window = make_window(project)
    if not hasattr(window, "training"):
        install(window)
    window.docks["training"].raise_()
    epochs, failures = [], []
    window.training.epoch.connect(epochs.append)
    window.training.failed.connect(failures.append)
    with qtbot.waitSignal(window.training.runFinished, timeout=120000) as finished:
        qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    info = __import__("json").loads((Path(finished.args[0]) / "run.json").read_text())
    assert info["task"] == "segmentation" and info["status"] == "finished"
    assert [e.epoch for e in epochs] == [1] and "val_mean_iou" in epochs[0].metrics and failures == []
