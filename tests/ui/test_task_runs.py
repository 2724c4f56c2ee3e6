"""Runs of every task kind in the views that read run records: their metrics.csv has the task's columns after
the contract's five (mean_iou, val_mean_iou, mae, ...) and a regression run has no accuracy at all."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.project import load_project
from cnnstudio.core.runs import load_history, read_metrics, summarize_run
from cnnstudio.core.tasks import TASK_SETTINGS
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
    window = make_window(load_template("unet-mini"))
    assert window.document.analysis().errors == []
    panel = window.features.datasets
    window.docks["dataset"].raise_()
    qtbot.waitUntil(lambda: panel._shown, timeout=3000)
    qtbot.waitUntil(lambda: not panel.loading and panel.preview is not None, timeout=60000)
    assert panel.samples.count == 32 and panel.preview.images.shape[1:] == (64, 64, 3)
    assert panel.problems() == []


def test_unet_mini_trains_from_the_window_with_its_live_views(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    monkeypatch.chdir(tmp_path)
    project = load_template("unet-mini")
    project.training.update(epochs=1, max_steps_per_epoch=3, validation_split=0.02)
    window = make_window(project)
    window.docks["training"].raise_()
    training = window.features.training
    epochs, failures = [], []
    training.epoch.connect(epochs.append)
    training.failed.connect(failures.append)
    with qtbot.waitSignal(training.runFinished, timeout=120000) as finished:
        qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    info = __import__("json").loads((Path(finished.args[0]) / "run.json").read_text())
    assert info["task"] == "segmentation" and info["status"] == "finished"
    assert [e.epoch for e in epochs] == [1] and "val_mean_iou" in epochs[0].metrics and failures == []


def test_the_evaluation_page_shows_masks_iou_and_the_confusion_over_pixels(make_window, qtbot, tmp_path):
    from tests.ui.test_explain_views import evaluated

    window = make_window(load_template("unet-mini"))
    page = evaluated(window, qtbot)
    outcome, view = page.outcome, page.segmentation_view
    assert outcome.segmentation is not None and page.views.currentWidget() is view
    assert view.plot.confusion.sum() == outcome.total * 64 * 64 == 200 * 64 * 64
    assert view.table.rowCount() == 4 and view.table.item(1, 0).text() == "circle"
    assert "Mean IoU" in page.summary.text() and "circle" in view.legend.text()
    assert view.pictures.count() == 120 and all(label.pixmap() is not None for label in view.detail)
    worst = int(outcome.segmentation.worst_images[0])
    assert view.pictures.item(0).text().startswith(f"#{worst}  IoU")
    rows = list(csv.reader(open(page.export_csv(str(tmp_path / "iou.csv")))))
    assert rows[0] == ["class", "iou", "true_pixels", "predicted_pixels"] and len(rows) == 5
    assert Path(page.export_png(str(tmp_path / "masks.png"))).stat().st_size > 1000


def test_the_evaluation_page_plots_predicted_against_true_values(make_window, qtbot, tmp_path):
    from tests.task_data import dense_project, write_regression_npz
    from tests.ui.test_explain_views import evaluated

    window = make_window(dense_project("npz:" + str(write_regression_npz(tmp_path)), 2, None))
    page = evaluated(window, qtbot)
    view = page.regression_view
    assert page.outcome.regression is not None and page.views.currentWidget() is view
    assert len(view.points.data) == page.outcome.total == 19  # 120 pictures: 24 for testing, 20% of the rest
    assert view.value.count() == 2 and "MAE" in view.figures.text() and "MAE" in page.summary.text()
    rows = list(csv.reader(open(page.export_csv(str(tmp_path / "values.csv")))))
    assert rows[0] == ["image", "true value 1", "true value 2", "predicted value 1", "predicted value 2"]


def test_the_curves_show_mean_iou_or_mae_where_the_task_has_them(task_runs, qtbot):
    from cnnstudio.ml.training.reporting import BatchReport, EpochReport
    from cnnstudio.ui.training.curves import TrainingCurves, plot_history

    curves = plot_history(read_metrics(task_runs / "segmentation"))
    qtbot.addWidget(curves)
    curves.redraw_now()
    assert curves.figure == "mean_iou" and curves.accuracy_plot.getAxis("left").labelText == "mean IoU"
    assert curves.epoch_accuracy.getData()[1].tolist() == pytest.approx([0.455, 0.91])
    live = TrainingCurves()
    qtbot.addWidget(live)
    live.start_run(2)
    live.add_batch(BatchReport(1, 2, 1, 4, 3.0, None, 100.0, 1.0, {"mae": 2.5}))
    live.add_epoch(EpochReport(1, 2, 3.0, None, 3.5, None, 0.001, 1.0, 100.0, metrics={"mae": 2.4, "val_mae": 2.9}))
    live.redraw_now()
    live.fit_view()
    assert live.figure == "mae" and live.batches.accuracy.values.tolist() == [2.5]
    assert live.val_accuracy.getData()[1].tolist() == [2.9]
    assert live.accuracy_plot.getViewBox().viewRange()[1][1] > 2.9  # no 0..1 cap for an error in the data's units
    assert "val MAE 2.9" in live.show_values_at(1.0)
    live.start_run(2)
    assert live.figure == "accuracy" and live.accuracy_plot.getAxis("left").labelText == "accuracy"


def test_the_training_settings_say_which_task_auto_chooses_and_take_another(make_window, qtbot, tmp_path):
    window = make_window(load_template("unet-mini"))
    form = window.features.training_panel.form
    combo = form.fields["task"]
    assert [combo.itemData(i) for i in range(combo.count())] == list(TASK_SETTINGS)  # what a project file takes
    assert combo.currentData() == "auto" and "task" not in window.document.project.training  # auto by default
    assert form.task_note.text() == "trains for segmentation (a class per pixel), chosen from the data and the output"
    combo.setCurrentIndex(combo.findData("regression"))
    assert window.document.project.training["task"] == "regression" and window.document.is_modified
    window.document.save(tmp_path / "unet.cnnproj")
    assert load_project(tmp_path / "unet.cnnproj").training["task"] == "regression"
    assert "training \"task\" is \"regression\" but 'shapes' holds a mask of classes per image" in form.task_note.text()
    combo.setCurrentIndex(combo.findData("auto"))
    window.document.settings.data.update(name="x-vs-o")
    assert "a classifier's output" not in form.task_note.text()
    assert form.task_note.text().startswith("trains for classification")  # the output's 4 channels: analysis says more
