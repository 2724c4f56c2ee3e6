"""Curves of an experiment: per setting, the mean over its seeds with a band from the lowest to the
highest seed, epoch by epoch; and the run in progress, batch by batch."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.experiment_results import SettingResult

from ..plotting import follow_palette, menus_owned_by
from ..runs.comparison import RUN_COLORS, EpochAxis

METRICS = (("val_accuracy", "Validation accuracy"), ("val_loss", "Validation loss"),
           ("accuracy", "Training accuracy"), ("loss", "Training loss"))
SHOWN_AT_MOST = 6  # settings drawn when none is selected: the best ones
BAND_ALPHA = 50


class BandPlot(QWidget):
    """objectName ``experimentCurves``: a metric chooser, a legend and the plot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentCurves")
        self.settings: list[SettingResult] = []
        self.labels: list[str] = []
        self.lines: list[pg.PlotDataItem] = []
        self.bands: list[pg.FillBetweenItem] = []
        self.metric = QComboBox()
        self.metric.setObjectName("experimentCurveMetric")
        self.metric.setAccessibleName("Metric shown")
        for key, text in METRICS:
            self.metric.addItem(text, key)
        self.metric.currentIndexChanged.connect(lambda _i: self._draw())
        self.legend = QLabel()
        self.legend.setObjectName("experimentCurveLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        with menus_owned_by(lambda: self.plot):
            self.plot = pg.PlotWidget(enableMenu=False, axisItems={"bottom": EpochAxis("bottom")})
        self.plot.setObjectName("experimentCurvePlot")
        self.plot.setMinimumSize(260, 200)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.getAxis("left").enableAutoSIPrefix(False)
        follow_palette(self.plot)
        top = QHBoxLayout()
        top.addWidget(QLabel("Curves:"))
        top.addWidget(self.metric)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)

    @property
    def column(self) -> str:
        return str(self.metric.currentData())

    def show_settings(self, settings: Sequence[SettingResult], labels: Sequence[str]) -> None:
        """Draw these settings (each its mean and its band), named by `labels`."""
        self.settings, self.labels = list(settings), list(labels)
        self._draw()

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        item.disableAutoRange()
        item.clear()
        self.lines, self.bands = [], []
        spans: list[tuple[float, float, float, float]] = []
        item.setLabel("left", self.metric.currentText().lower())
        for i, setting in enumerate(self.settings):
            band = setting.curves.get(self.column)
            if band is None or not len(band.epochs):
                continue
            color = QColor(RUN_COLORS[i % len(RUN_COLORS)])
            x = band.epochs.astype(float)
            low, high = _finite(band.low), _finite(band.high)
            if len(setting.runs) > 1:
                lower = pg.PlotCurveItem(x, low, pen=pg.mkPen(None))  # outlines the band; not drawn itself
                upper = pg.PlotCurveItem(x, high, pen=pg.mkPen(None))
                fill = QColor(color)
                fill.setAlpha(BAND_ALPHA)
                region = pg.FillBetweenItem(lower, upper, brush=fill)
                item.addItem(region)
                self.bands.append(region)
            line = item.plot(x, band.mean, pen=pg.mkPen(color, width=2),
                             symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
            self.lines.append(line)
            spans.append((x.min(), x.max(), np.nanmin([low.min(), np.nanmin(band.mean)]),
                          np.nanmax([high.max(), np.nanmax(band.mean)])))
        if spans:  # the range of the curves and bands themselves (a band's item alone would pull in 0)
            x0, x1 = min(s[0] for s in spans), max(s[1] for s in spans)
            y0, y1 = min(s[2] for s in spans), max(s[3] for s in spans)
            item.setXRange(x0, max(x1, x0 + 1), padding=0.05)
            item.setYRange(y0, y1 if y1 > y0 else y0 + 1e-3, padding=0.1)
        else:
            item.enableAutoRange()
        self._fill_legend()

    def _fill_legend(self) -> None:
        entries = [f"<span style='white-space:nowrap'><span style='color:{RUN_COLORS[i % len(RUN_COLORS)]}; "
                   f"font-weight:bold'>&#9473;&#9473;</span>&nbsp;{html.escape(label)}</span>"
                   for i, label in enumerate(self.labels)]
        note = ("line: the mean over the seeds · band: lowest to highest seed" if self.settings
                else "No trained runs yet.")
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(entries) + f"<br><span style='color:gray'>{note}</span>")


def _finite(values: np.ndarray) -> np.ndarray:
    """NaN (no run reached that epoch) drawn as the nearest value, so a band never tears."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return np.zeros_like(values)
    index = np.where(np.isfinite(values), np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    first = np.flatnonzero(np.isfinite(values))[0]
    filled[:first] = values[first]
    return filled


class LivePlot(QWidget):
    """The run in progress: its training loss batch by batch, and validation loss per epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentLivePlot")
        with menus_owned_by(lambda: self.plot):
            self.plot = pg.PlotWidget(enableMenu=False)
        self.plot.setMinimumHeight(110)
        self.plot.setMaximumHeight(150)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        item.getAxis("left").enableAutoSIPrefix(False)
        follow_palette(self.plot)
        self.train = item.plot([], [], pen=pg.mkPen(RUN_COLORS[0], width=1.5), name="training loss")
        self.val = item.plot([], [], pen=pg.mkPen(RUN_COLORS[1], width=2), symbol="s", symbolSize=6,
                             symbolBrush=RUN_COLORS[1], symbolPen=None)
        self.x: list[float] = []
        self.y: list[float] = []
        self.val_x: list[float] = []
        self.val_y: list[float] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def reset(self) -> None:
        self.x, self.y, self.val_x, self.val_y = [], [], [], []
        self.train.setData([], [])
        self.val.setData([], [])

    def add_batch(self, report) -> None:
        fraction = report.batch / report.batches if report.batches else 0.0
        self.x.append(report.epoch - 1 + fraction)
        self.y.append(report.loss)
        self.train.setData(self.x, self.y)

    def add_epoch(self, report) -> None:
        if report.val_loss is not None:
            self.val_x.append(float(report.epoch))
            self.val_y.append(report.val_loss)
            self.val.setData(self.val_x, self.val_y)
