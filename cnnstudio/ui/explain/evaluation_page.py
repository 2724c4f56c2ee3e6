"""The Evaluation page (objectName ``confusionView``): how well the model does on a split, and where it errs.

Accuracy, a per-class table and the confusion matrix; clicking a cell lists its images,
most confident first, and clicking one opens it in the saliency and feature-map views.
A segmentation, regression or multi-label network gets its own figures instead
(`task_views.py`): masks over the pictures and IoU per class, predicted against true
values, per-label figures.
The test split is held out: it is evaluated only when chosen explicitly, with a warning.
For a training run, the matrix can also be followed over its epochs (`confusion_epochs.py`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.ml.jobs.requests import EvaluateRequest
from cnnstudio.ml.jobs.results import Evaluation, EvaluationOutcome

from ..inspect_area import InputImage
from ..saving import CSV_FILTER, PNG_FILTER, ask_and_save, save_text, save_widget_png
from .confusion_epochs import ConfusionOverEpochs, PageViews
from .confusion_plot import ConfusionPlot
from .imaging import display_image
from .job_bar import JobBar
from .metrics_table import MetricsTable
from .task_views import MultiLabelView, RegressionView, SegmentationView
from .thumbnails import Thumbnail, ThumbnailGrid

if TYPE_CHECKING:
    from ..context import AppContext

MAX_THUMBNAILS = 240
NOT_EVALUATED = "Evaluate the model to see its accuracy, per-class figures and confusion matrix."
TEST_WARNING = ("⚠ The test split is held out: use it once, for a final estimate. Choosing epochs or settings "
                "by its result makes that estimate optimistic.")


class EvaluationPage(QWidget):
    def __init__(self, context: AppContext, open_image: Callable[[InputImage], None]) -> None:
        super().__init__()
        self.setObjectName("confusionView")
        self.context = context
        self.open_image = open_image
        self.outcome: EvaluationOutcome | None = None
        self.listed: np.ndarray = np.zeros(0, np.int64)
        self.cell: tuple[int, int] | None = None

        self.split = QComboBox()
        self.split.setObjectName("splitChooser")
        self.split.setAccessibleName("Split evaluated")
        self.split.addItem("Validation split", "validation")
        self.split.addItem("Test split (final estimate)", "test")
        self.split.setToolTip("Evaluate on the validation split while you work; the test split once, at the end")
        self.split.currentIndexChanged.connect(self._split_changed)
        self.bar = JobBar("Evaluate", "evaluate")
        self.bar.run_button.clicked.connect(self.evaluate)
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.setObjectName("exportConfusionPng")
        self.export_png_button.clicked.connect(self._export_png)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.setObjectName("exportConfusionCsv")
        self.export_csv_button.clicked.connect(self._export_csv)
        top = QHBoxLayout()
        top.addWidget(QLabel("Evaluate on"))
        top.addWidget(self.split)
        top.addWidget(self.bar, 1)
        top.addWidget(self.export_png_button)
        top.addWidget(self.export_csv_button)

        self.warning = QLabel(TEST_WARNING)
        self.warning.setObjectName("testSplitWarning")
        self.warning.setStyleSheet("color: #c77700;")
        self.warning.setWordWrap(True)
        self.warning.hide()

        self.summary = QLabel(NOT_EVALUATED)
        self.summary.setObjectName("evaluationSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)

        self.plot = ConfusionPlot()
        self.plot.cellClicked.connect(self.show_cell)
        caption = QLabel("Rows: true class · columns: predicted class · colour: share of the true class")
        caption.setObjectName("confusionCaption")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.plot, 1)
        left_layout.addWidget(caption)

        self.table = MetricsTable()
        self.cell_title = QLabel("Click a cell of the matrix to see its images.")
        self.cell_title.setObjectName("cellTitle")
        self.cell_title.setWordWrap(True)
        self.misclassified_button = QPushButton("Show misclassified")
        self.misclassified_button.setObjectName("showMisclassified")
        self.misclassified_button.setToolTip("Every wrongly classified image, the most confident mistakes first")
        self.misclassified_button.clicked.connect(self.show_misclassified)
        self.thumbnails = ThumbnailGrid(64)
        self.thumbnails.setObjectName("cellImages")
        self.thumbnails.setAccessibleName("Images of the chosen cell")
        self.thumbnails.chosen.connect(self.open_index)
        cell_box = QWidget()
        cell_layout = QVBoxLayout(cell_box)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.cell_title, 1)
        head.addWidget(self.misclassified_button)
        cell_layout.addLayout(head)
        cell_layout.addWidget(self.thumbnails, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(cell_box)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)

        self.over_epochs = ConfusionOverEpochs(
            context, PageViews(self.plot, self.summary, self.table, self.cell_title, self.thumbnails), open_image)
        self.over_epochs.evaluationWanted.connect(lambda: self.outcome is not None and self.show_outcome(self.outcome))
        self.over_epochs.activeChanged.connect(self._epochs_shown)

        self.content = QSplitter(Qt.Orientation.Horizontal)
        self.content.setObjectName("evaluationContent")
        self.content.addWidget(left)
        self.content.addWidget(right)
        self.content.setStretchFactor(0, 1)
        self.content.setStretchFactor(1, 1)

        self.segmentation_view = SegmentationView()
        self.regression_view = RegressionView()
        self.multilabel_view = MultiLabelView()
        self.views = QStackedWidget()
        self.views.setObjectName("evaluationViews")
        for view in (self.content, self.segmentation_view, self.regression_view, self.multilabel_view):
            self.views.addWidget(view)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.warning)
        layout.addWidget(self.summary)
        layout.addWidget(self.over_epochs)
        layout.addWidget(self.views, 1)
        layout.addStretch(0)
        self.views.hide()  # no empty axes before there is anything to show: the line above says what to do
        context.ml.stale.connect(self._model_changed)
        self.over_epochs.load()
        self._update_buttons()

    # ------------------------------------------------------------------ split
    def choose_split(self, split: str) -> None:
        self.split.setCurrentIndex(self.split.findData(split))

    @property
    def chosen_split(self) -> str:
        return str(self.split.currentData())

    def _split_changed(self) -> None:
        test = self.chosen_split == "test"
        self.warning.setVisible(test)
        self.bar.run_button.setText("Evaluate on test split" if test else "Evaluate")

    # ------------------------------------------------------------------ running
    def evaluate(self) -> None:
        """Start evaluating the current model on the chosen split (cancelling any run of it)."""
        if self.bar.running:
            return
        split = self.chosen_split
        job = self.context.ml.with_model(
            EvaluateRequest(split), key="evaluation",
            on_result=self._finished, on_error=self._failed, on_event=self._event)
        self.bar.started(job, "Loading the model…")

    def _event(self, kind: str, payload: Any) -> None:
        if kind == "stage":
            self.bar.set_stage(str(payload))
        elif kind == "progress":
            self.bar.set_progress(*payload, unit="images")

    def _failed(self, message: str) -> None:
        self.bar.finished(f"Not evaluated: {message}")
        self.context.messages.show("error", f"Evaluation: {message}")

    def _finished(self, outcome: EvaluationOutcome) -> None:
        if outcome.cancelled:
            kept = " The earlier results stay." if self.outcome is not None else ""
            self.bar.finished(f"Evaluation cancelled before all {outcome.total:,} images were done.{kept}")
            return
        self.bar.finished(f"Evaluated {outcome.total:,} {outcome.split} images.")
        self.show_outcome(outcome)
        if outcome.split == "test":  # the held-out split is never evaluated again by a stray click
            self.choose_split("validation")

    def _model_changed(self) -> None:
        if self.outcome is not None and not self.over_epochs.active:
            self.summary.setText(self._summary_text(self.outcome)
                                 + "<br><i>The model has changed since: evaluate again to update.</i>")

    # ------------------------------------------------------------------ showing
    def show_outcome(self, outcome: EvaluationOutcome) -> None:
        self.outcome = outcome
        self.over_epochs.evaluation_available = True
        if self.over_epochs.active:
            self.over_epochs.deactivate()  # and `_epochs_shown` draws the evaluation
        else:
            self._show_evaluation()

    def _epochs_shown(self, active: bool) -> None:
        """The matrix over the epochs took the page's views, or gave them back."""
        self._update_buttons()
        if active:
            self.views.show()
            self.views.setCurrentWidget(self.content)
            self.content.show()
        else:
            self._show_evaluation()

    def _show_evaluation(self) -> None:
        outcome = self.outcome
        if outcome is not None and outcome.evaluation is None:  # segmentation, regression or multi-label figures
            self.summary.setText(self._summary_text(outcome))
            view = self._task_view()
            if outcome.segmentation is not None:
                view.show_evaluation(outcome.segmentation, outcome.images)
            else:
                view.show_evaluation(outcome.regression or outcome.multilabel)
            self.views.show()
            self.views.setCurrentWidget(view)
            self._update_buttons()
            return
        self.cell = None
        self.listed = np.zeros(0, np.int64)
        self.thumbnails.clear()
        self.cell_title.setText("Click a cell of the matrix to see its images.")
        if outcome is None:
            self.views.hide()  # no empty axes: the line above says what to do
            self.plot.clear_matrix()
            self.table.setRowCount(0)
            self.summary.setText(NOT_EVALUATED)
        else:
            evaluation = outcome.evaluation
            self.summary.setText(self._summary_text(outcome))
            self.views.show()
            self.views.setCurrentWidget(self.content)
            self.content.show()
            self.plot.set_matrix(evaluation.confusion, evaluation.class_names)
            self.table.show_evaluation(evaluation)
        self._update_buttons()

    def _task_view(self) -> SegmentationView | RegressionView | MultiLabelView:
        outcome = self.outcome
        if outcome.segmentation is not None:
            return self.segmentation_view
        return self.regression_view if outcome.regression is not None else self.multilabel_view

    @staticmethod
    def _summary_text(outcome: EvaluationOutcome) -> str:
        images = f"{outcome.total:,} {outcome.split} images · model: {outcome.source}"
        if outcome.segmentation is not None:
            s = outcome.segmentation
            return (f"<b>Mean IoU {s.mean_iou:.3f}</b> · pixel accuracy {s.pixel_accuracy:.1%} on {images} "
                    "(pictures listed worst first)")
        if outcome.regression is not None:
            r = outcome.regression
            return f"<b>MAE {r.mae:.4g}</b> · RMSE {r.rmse:.4g} on {images}"
        if outcome.multilabel is not None:
            m = outcome.multilabel
            auc = m.auc[np.isfinite(m.auc)]
            mean_auc = f" · mean AUC {auc.mean():.3f}" if auc.size else ""
            return (f"<b>{m.accuracy:.1%} of the yes/no answers right</b>{mean_auc} · every label right on "
                    f"{m.exact_match:.1%} of {images}")
        e = outcome.evaluation
        wrong = int(e.count - np.trace(e.confusion))
        return (f"<b>Accuracy {e.accuracy:.1%}</b> on {e.count:,} {outcome.split} images "
                f"({wrong:,} misclassified) · macro F1 {e.macro_f1:.3f} · model: {outcome.source}")

    def show_cell(self, true: int, predicted: int) -> None:
        """List the images of one cell, most confident first (while an epoch is shown: those that came and went)."""
        if self.over_epochs.active:
            self.over_epochs.show_cell(true, predicted)
            return
        if self.outcome is None or self.outcome.evaluation is None:
            return
        e = self.outcome.evaluation
        self.cell = (true, predicted)
        self.plot.select(self.cell)
        found = e.cell_indices(true, predicted)
        verdict = "correctly classified" if true == predicted else f"predicted {e.class_names[predicted]}"
        self._list(found, f"True {e.class_names[true]}, {verdict}: {len(found):,} "
                          f"image{'s' * (len(found) != 1)}")

    def show_misclassified(self) -> None:
        if self.over_epochs.active:
            self.over_epochs.show_misclassified()
            return
        if self.outcome is None or self.outcome.evaluation is None:
            return
        self.cell = None
        self.plot.select(None)
        found = self.outcome.evaluation.misclassified
        self._list(found, f"Misclassified: {len(found):,} image{'s' * (len(found) != 1)}")

    def _list(self, indices: np.ndarray, title: str) -> None:
        e, images = self.outcome.evaluation, self.outcome.images
        shown = indices[:MAX_THUMBNAILS]
        more = f" (the {len(shown)} most confident shown)" if len(indices) > len(shown) else \
            (", most confident first" if len(indices) > 1 else "")
        self.cell_title.setText(title + more + (". Click one to explain it." if len(indices) else "."))
        self.listed = np.asarray(shown)
        names = e.class_names
        self.thumbnails.set_thumbnails(
            Thumbnail(display_image(images[i]),
                      f"#{i}  {e.confidence[i]:.0%}" if self.cell else
                      f"{names[e.labels[i]]}→{names[e.predictions[i]]} {e.confidence[i]:.0%}",
                      int(i),
                      f"{self.outcome.split} image {i}: a {names[e.labels[i]]}, predicted "
                      f"{names[e.predictions[i]]} with probability {e.confidence[i]:.1%}")
            for i in shown)

    def open_index(self, index: int) -> None:
        """Make one listed image the current input and show its explanation."""
        if self.over_epochs.active:
            self.over_epochs.open_index(index)
            return
        e, outcome = self.outcome.evaluation, self.outcome
        names = e.class_names
        self.open_image(InputImage(
            np.array(outcome.images[index]),
            f"{outcome.split} image {index} (a {names[e.labels[index]]}, predicted {names[e.predictions[index]]} "
            f"at {e.confidence[index]:.0%})",
            label=int(e.labels[index]), origin="dataset", split=outcome.split, index=int(index)))

    # ------------------------------------------------------------------ export
    def _update_buttons(self) -> None:
        has = self.outcome is not None
        for button in (self.export_png_button, self.export_csv_button):
            button.setEnabled(has)
        self.misclassified_button.setEnabled((has and self.outcome.evaluation is not None) or self.over_epochs.active)

    def export_png(self, path: str) -> str:
        return str(save_widget_png(self.views.currentWidget(), path, scale=2.0))

    def export_csv(self, path: str) -> str:
        outcome = self.outcome
        if outcome.evaluation is None:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(self._task_view().rows())
            return str(save_text(out.getvalue(), path))
        return str(save_text(evaluation_csv(outcome.evaluation, outcome.split, outcome.source), path))

    def _export_png(self) -> None:
        ask_and_save(self, "Export the Evaluation as PNG", "confusion-matrix.png", PNG_FILTER, self.export_png,
                     self.context.messages.show)

    def _export_csv(self) -> None:
        ask_and_save(self, "Export the Evaluation as CSV", "evaluation.csv", CSV_FILTER, self.export_csv,
                     self.context.messages.show)


def evaluation_csv(evaluation: Evaluation, split: str, source: str) -> str:
    """The confusion matrix (rows: true class) and the per-class table, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(evaluation.class_names)
    writer.writerow([f"# {source} on {evaluation.count} {split} images; accuracy {evaluation.accuracy:.6f}; "
                     f"macro F1 {evaluation.macro_f1:.6f}"])
    writer.writerow(["true \\ predicted", *names])
    for name, row in zip(names, evaluation.confusion):
        writer.writerow([name, *(int(v) for v in row)])
    writer.writerow([])
    writer.writerow(["class", "precision", "recall", "f1", "support"])
    for i, name in enumerate(names):
        writer.writerow([name, f"{evaluation.precision[i]:.6f}", f"{evaluation.recall[i]:.6f}",
                         f"{evaluation.f1[i]:.6f}", int(evaluation.support[i])])
    return out.getvalue()
