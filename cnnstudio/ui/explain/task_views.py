"""What the Evaluation page shows for tasks beyond one class per image.

- Segmentation: the confusion over pixels, the IoU of each class, and the pictures (worst
  first) with their predicted mask laid over them; click one to see it beside its true and
  predicted masks.
- Regression: predicted against true values (on the diagonal is right), the residuals,
  MAE, RMSE and R².
- Multi-label: precision, recall, F1, AUC and support of each label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.ml.jobs.task_results import MultiLabelEvaluation, RegressionEvaluation, SegmentationEvaluation

from ..masks import colour_mask, legend_html, mask_over
from ..plotting import follow_palette, menus_owned_by
from .confusion_plot import ConfusionPlot
from .imaging import display_image, pixmap_for
from .thumbnails import Thumbnail, ThumbnailGrid

MAX_PICTURES = 120  # pictures listed, worst first
DETAIL_SIDE = 192  # pixels of each of the three large pictures


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], name: str) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    fill_table(table, rows)
    return table


def fill_table(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _figure(value: float) -> str:
    return "—" if value is None or not math.isfinite(float(value)) else f"{float(value):.3f}"


class SegmentationView(QWidget):
    """The confusion over pixels, IoU per class, and each picture with its predicted mask."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("segmentationEvaluation")
        self.evaluation: SegmentationEvaluation | None = None
        self.images: np.ndarray | None = None
        self.plot = ConfusionPlot()
        caption = QLabel("Pixels · rows: true class · columns: predicted class · colour: share of the true class")
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.plot, 1)
        left_layout.addWidget(caption)
        self.table = _table(("class", "IoU", "true pixels", "predicted pixels"), [], "iouTable")
        self.table.setAccessibleName("IoU per class")
        self.legend = QLabel()
        self.legend.setObjectName("maskLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.pictures = ThumbnailGrid(96)
        self.pictures.setObjectName("segmentedPictures")
        self.pictures.setAccessibleName("Segmented pictures")
        self.pictures.chosen.connect(self.show_picture)
        self.detail_title = QLabel("Click a picture to see it beside its true and predicted masks.")
        self.detail_title.setObjectName("maskDetailTitle")
        self.detail_title.setWordWrap(True)
        self.detail = [QLabel() for _ in range(3)]
        detail_row = QHBoxLayout()
        for label, words in zip(self.detail, ("the picture, predicted mask over it", "true mask", "predicted mask"),
                                strict=True):
            label.setObjectName("maskDetail")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setToolTip(words)
            label.setMinimumSize(96, 96)
            detail_row.addWidget(label)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addLayout(detail_row)
        right = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.table, self.pictures, detail):
            right.addWidget(widget)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 2)
        right.setStretchFactor(2, 2)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(right)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(body, 1)

    def show_evaluation(self, evaluation: SegmentationEvaluation, images: np.ndarray) -> None:
        self.evaluation, self.images = evaluation, images
        names = evaluation.class_names
        self.plot.set_matrix(evaluation.confusion, names)
        predicted = evaluation.confusion.sum(axis=0)
        fill_table(self.table, [(name, _figure(evaluation.iou[k]), f"{int(evaluation.pixels[k]):,}",
                                 f"{int(predicted[k]):,}") for k, name in enumerate(names)])
        self.legend.setText(legend_html(names))
        order = [int(i) for i in evaluation.worst_images if evaluation.masks_of(int(i)) is not None][:MAX_PICTURES]
        self.pictures.set_thumbnails(self._thumbnail(i) for i in order)
        if order:
            self.show_picture(order[0])

    def _thumbnail(self, index: int) -> Thumbnail:
        _, predicted, _ = self.evaluation.masks_of(index)
        iou = self.evaluation.image_iou[index]
        picture = mask_over(display_image(self.images[index]), predicted, len(self.evaluation.class_names))
        return Thumbnail(picture, f"#{index}  IoU {iou:.2f}", index,
                         f"picture {index}: mean IoU {iou:.3f}; click to compare its masks")

    def show_picture(self, index: int) -> None:
        """The picture with its predicted mask over it, its true mask and its predicted mask, side by side."""
        found = self.evaluation.masks_of(int(index)) if self.evaluation is not None else None
        if found is None:
            return
        true, predicted, _ = found
        count = len(self.evaluation.class_names)
        picture = display_image(self.images[int(index)])
        for label, rgb in zip(self.detail, (mask_over(picture, predicted, count), colour_mask(true, count),
                                            colour_mask(predicted, count)), strict=True):
            label.setPixmap(pixmap_for(rgb, DETAIL_SIDE))
        wrong = float(np.mean(true != predicted))
        self.detail_title.setText(f"Picture {index}: mean IoU {self.evaluation.image_iou[int(index)]:.3f}, "
                                  f"{wrong:.1%} of its pixels wrong · left: predicted mask over the picture, "
                                  "middle: true mask, right: predicted mask")

    def rows(self) -> list[list[str]]:
        """The per-class table, for CSV."""
        e = self.evaluation
        predicted = e.confusion.sum(axis=0)
        return [["class", "iou", "true_pixels", "predicted_pixels"]] + [
            [name, "" if not math.isfinite(e.iou[k]) else repr(float(e.iou[k])), str(int(e.pixels[k])),
             str(int(predicted[k]))] for k, name in enumerate(e.class_names)]


class RegressionView(QWidget):
    """Predicted against true values, and the residuals, for one of the predicted values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("regressionEvaluation")
        self.evaluation: RegressionEvaluation | None = None
        self.value = QComboBox()
        self.value.setObjectName("regressionValue")
        self.value.setAccessibleName("Value shown")
        self.value.currentIndexChanged.connect(self._draw)
        with menus_owned_by(self):
            self.scatter_plot = pg.PlotWidget()
            self.residual_plot = pg.PlotWidget()
        self.scatter_plot.setObjectName("predictedAgainstTrue")
        self.scatter_plot.setLabel("bottom", "true value")
        self.scatter_plot.setLabel("left", "predicted value")
        self.scatter_plot.showGrid(x=True, y=True, alpha=0.15)
        self.scatter_plot.setAspectLocked(True)
        self.residual_plot.setObjectName("residuals")
        self.residual_plot.setLabel("bottom", "residual (predicted − true)")
        self.residual_plot.setLabel("left", "images")
        self.points = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(47, 111, 208, 150))
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#e0791c", width=1, style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.diagonal)
        self.scatter_plot.addItem(self.points)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush=pg.mkBrush(47, 111, 208, 180))
        self.residual_plot.addItem(self.bars)
        self.figures = QLabel()
        self.figures.setObjectName("regressionFigures")
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        top = QHBoxLayout()
        top.addWidget(QLabel("Value"))
        top.addWidget(self.value)
        top.addWidget(self.figures, 1)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.scatter_plot)
        plots.addWidget(self.residual_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(plots, 1)
        for plot in (self.scatter_plot, self.residual_plot):
            follow_palette(plot)

    def show_evaluation(self, evaluation: RegressionEvaluation) -> None:
        self.evaluation = evaluation
        self.value.blockSignals(True)
        self.value.clear()
        self.value.addItems(list(evaluation.value_names))
        self.value.blockSignals(False)
        self.value.setVisible(len(evaluation.value_names) > 1)
        self._draw()

    def _draw(self) -> None:
        e = self.evaluation
        if e is None:
            return
        k = max(self.value.currentIndex(), 0)
        true, predicted, residual = e.true[:, k], e.predicted[:, k], e.residuals[:, k]
        self.points.setData(true, predicted)
        low = float(min(true.min(initial=0), predicted.min(initial=0)))
        high = float(max(true.max(initial=1), predicted.max(initial=1)))
        self.diagonal.setData([low, high], [low, high])
        counts, edges = np.histogram(residual, bins=min(40, max(5, len(residual) // 5)))
        self.bars.setOpts(x=(edges[:-1] + edges[1:]) / 2, height=counts, width=float(edges[1] - edges[0]) * 0.9)
        self.figures.setText(f"<b>MAE {e.mae_per_value[k]:.4g}</b> · RMSE {e.rmse_per_value[k]:.4g} · "
                             f"R² {_figure(e.r2_per_value[k])} · on the diagonal: predicted = true")
        self.scatter_plot.autoRange()
        self.residual_plot.autoRange()

    def rows(self) -> list[list[str]]:
        e = self.evaluation
        names = e.value_names
        header = ["image", *(f"true {n}" for n in names), *(f"predicted {n}" for n in names)]
        return [header] + [[str(i), *(repr(float(v)) for v in e.true[i]), *(repr(float(v)) for v in e.predicted[i])]
                           for i in range(len(e.true))]


class MultiLabelView(QWidget):
    """Precision, recall, F1, AUC and support of each label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("multilabelEvaluation")
        self.evaluation: MultiLabelEvaluation | None = None
        self.table = _table(("label", "precision", "recall", "F1", "AUC", "images with it"), [], "labelTable")
        self.table.setAccessibleName("Metrics per label")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)

    def show_evaluation(self, evaluation: MultiLabelEvaluation) -> None:
        self.evaluation = evaluation
        e = evaluation
        fill_table(self.table, [(name, _figure(e.precision[k]), _figure(e.recall[k]), _figure(e.f1[k]),
                                 _figure(e.auc[k]), f"{int(e.support[k]):,}") for k, name in enumerate(e.label_names)])

    def rows(self) -> list[list[str]]:
        e = self.evaluation
        return [["label", "precision", "recall", "f1", "auc", "support"]] + [
            [name, *(repr(float(v[k])) for v in (e.precision, e.recall, e.f1, e.auc)), str(int(e.support[k]))]
            for k, name in enumerate(e.label_names)]
