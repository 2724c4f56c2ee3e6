"""Training curves: loss, accuracy and learning rate against epochs, live or from a finished run.

The second plot shows the task's own figure where it has one (from the reports' or the
rows' keys): mean IoU for segmentation, MAE for regression, AUC for multi-label.

    curves = TrainingCurves()                  # live: add_batch / add_epoch as reports arrive
    curves = plot_history(read_metrics(run))   # a finished run's metrics.csv
    curves.plot_history(rows, name="run 2")    # overlay another run

Per-batch points are drawn raw (faint) and smoothed; per-epoch training and validation
values sit at whole epochs. Redraws are throttled (at most 10 a second), lines are
1-px without antialiasing, and long curves are clipped to the view and downsampled, so
a million points still pan and zoom smoothly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qthrottled

from cnnstudio.ml.training.reporting import BatchReport, EpochReport

from .. import theme
from ..legend import LegendPlacer
from ..plotting import menus_owned_by
from ..saving import (
    CSV_FILTER,
    PICTURE_FILTERS,
    PNG_FILTER,
    ask_and_save,
    save_plot,
    save_text,
    save_widget_png,
)
from .hints import Hint
from .series import DEFAULT_SMOOTHING, BatchSeries, EpochTable, SmoothedTrace, csv_text, read_rows

TRAIN_COLOR, VALIDATION_COLOR, RATE_COLOR, STOP_COLOR = "#2f6fd0", "#e0791c", "#2f9e5b", "#d93636"
RUN_COLORS = ("#2f6fd0", "#e0791c", "#2f9e5b", "#cf4477", "#8b50d4", "#1497a3", "#9a6b45", "#7a8a24")
REDRAW_MS = 250  # at most 4 redraws a second: live to the eye, light on the CPU training needs
PLOTS = {"loss": "lossPlot", "accuracy": "accuracyPlot", "learning_rate": "learningRatePlot"}
FIGURES = {"accuracy": "accuracy", "mean_iou": "mean IoU", "mae": "MAE (mean absolute error)", "auc": "AUC"}


def figure_of(keys: Any) -> str:
    """The figure the second plot shows for reports or rows with these keys: the task's own, else accuracy."""
    return next((key for key in ("mean_iou", "mae", "auc") if key in keys), "accuracy")


def _pen(color: str, alpha: int = 255, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Any:
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=1, style=style)


def _plot(name: str, y_label: str, long: bool = True) -> pg.PlotWidget:
    """A plot; `long` ones (per-batch curves) are clipped to the view and downsampled."""
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setAntialiasing(False)
    plot.setMenuEnabled(True)  # the view box's menu keeps pyqtgraph's own Export… entry
    plot.showGrid(x=True, y=True, alpha=0.15)
    for axis in ("left", "bottom"):  # ticks and grid lines at major steps only: the grid was most of
        plot.getAxis(axis).setStyle(maxTickLevel=0)  # a frame's drawing time while panning (39 -> 24 ms)
    plot.setLabel("left", y_label)
    plot.setLabel("bottom", "epoch")
    if long:
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
    plot.setMouseEnabled(x=True, y=True)
    plot.setMinimumHeight(90)
    plot.getViewBox().setAutoVisible(y=True)  # zoomed in, the y axis fits what is in view
    plot.getAxis("left").setWidth(56)  # the same for every plot, so their epochs line up
    return plot


def _curve(plot: pg.PlotWidget, pen: Any, name: str | None = None, **options: Any) -> pg.PlotDataItem:
    item = pg.PlotDataItem(pen=pen, name=name, connect="finite", **options)
    if "stepMode" not in options:  # pyqtgraph clips x and y of step curves alike, which breaks them
        item.setClipToView(True)
        item.setDownsampling(auto=True, method="peak")
    plot.addItem(item)
    return item


class TrainingCurves(QWidget):
    """Loss (log scale optional), accuracy and learning rate; crosshair with values; PNG/SVG/CSV export."""

    saved = Signal(str, str)  # severity, what an export wrote (or why it could not)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingCurves")
        self.batches = BatchSeries()
        self.epochs = EpochTable()
        self.smoothing = DEFAULT_SMOOTHING
        self._smooth_loss = SmoothedTrace(self.smoothing)
        self._smooth_accuracy = SmoothedTrace(self.smoothing)
        self._planned_epochs: int | None = None
        self.figure = "accuracy"  # what the second plot shows (see FIGURES)
        self._overlays: list[list[tuple[pg.PlotWidget, pg.PlotDataItem]]] = []
        self._markers: list[Any] = []
        self._dirty: set[str] = set()  # "batches", "epochs": what changed since the last redraw
        with menus_owned_by(self):
            self._build()
        self._redraw_soon = qthrottled(self._redraw_if_needed, REDRAW_MS, parent=self)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.loss_plot = _plot(PLOTS["loss"], "loss")
        self.accuracy_plot = _plot(PLOTS["accuracy"], "accuracy")
        self.rate_plot = _plot(PLOTS["learning_rate"], "learning rate", long=False)
        self.rate_plot.setMinimumHeight(110)
        self.rate_plot.getAxis("left").enableAutoSIPrefix(False)  # "0.001", not "1 (x0.001)"
        self._highest_rate = 0.0  # of overlaid runs
        for plot in (self.accuracy_plot, self.rate_plot):
            plot.setXLink(self.loss_plot)
        self.plots = {"loss": self.loss_plot, "accuracy": self.accuracy_plot, "learning_rate": self.rate_plot}
        self.loss_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.accuracy_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.legends = [LegendPlacer(self.loss_plot), LegendPlacer(self.accuracy_plot)]  # never on the curves
        train, val = TRAIN_COLOR, VALIDATION_COLOR
        self.raw_loss = _curve(self.loss_plot, _pen(train, 60))
        self.smooth_loss = _curve(self.loss_plot, _pen(train), "training (per batch, smoothed)")
        self.epoch_loss = _curve(self.loss_plot, _pen(train), "training (epoch)", symbol="o", symbolSize=6,
                                 symbolBrush=train, symbolPen=None)
        self.val_loss = _curve(self.loss_plot, _pen(val), "validation (epoch)", symbol="s", symbolSize=6,
                               symbolBrush=val, symbolPen=None)
        self.raw_accuracy = _curve(self.accuracy_plot, _pen(train, 60))
        self.smooth_accuracy = _curve(self.accuracy_plot, _pen(train), "training (per batch, smoothed)")
        self.epoch_accuracy = _curve(self.accuracy_plot, _pen(train), "training (epoch)", symbol="o",
                                     symbolSize=6, symbolBrush=train, symbolPen=None)
        self.val_accuracy = _curve(self.accuracy_plot, _pen(val), "validation (epoch)", symbol="s",
                                   symbolSize=6, symbolBrush=val, symbolPen=None)
        self.rate = _curve(self.rate_plot, _pen(RATE_COLOR), stepMode="center")
        self.accuracy_plot.setLimits(yMin=-0.05, yMax=1.05)
        self.accuracy_plot.getAxis("left").enableAutoSIPrefix(False)
        self.loss_plot.getAxis("left").enableAutoSIPrefix(False)
        self._crosshairs = {}
        for key, plot in self.plots.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=_pen("#888888", 200, Qt.PenStyle.DashLine))
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self._crosshairs[key] = line
        self._mouse = [pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
                       for plot in self.plots.values()]

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setObjectName("logScaleCheck")
        self.log_scale.setToolTip("Show the loss on a logarithmic axis: small late improvements become visible")
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        self.smoothing_box = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.99, singleStep=0.05)
        self.smoothing_box.setObjectName("smoothingBox")
        self.smoothing_box.setAccessibleName("Curve smoothing")
        self.smoothing_box.setValue(self.smoothing)
        self.smoothing_box.setToolTip("How much the per-batch curve is smoothed (0: not at all; 0.99: very much). "
                                      "The faint line shows the raw values")
        self.smoothing_box.valueChanged.connect(self.set_smoothing)
        fit = QToolButton(text="Fit")
        fit.setObjectName("fitCurvesButton")
        fit.setToolTip("Show all the points again after zooming or panning")
        fit.clicked.connect(self.fit_view)
        export = QToolButton(text="Export")
        export.setObjectName("exportCurvesButton")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export.setStyleSheet("QToolButton { padding-right: 12px; }")  # the menu arrow beside the text, not on it
        menu = QMenu(export)
        for key, title in (("loss", "Loss plot"), ("accuracy", "Accuracy plot"),
                           ("learning_rate", "Learning-rate plot")):
            menu.addAction(f"{title} as PNG or SVG…", lambda k=key: self._ask_export_image(k))
        menu.addAction("All plots as one PNG…", self._ask_export_all)
        menu.addSeparator()
        menu.addAction("Curve data as CSV…", self._ask_export_csv)
        export.setMenu(menu)
        export.setToolTip("Save the plots as pictures, or the numbers behind them as CSV")
        self.readout = QLabel("Move the mouse over a plot to read its values")
        self.readout.setObjectName("curvesReadout")
        self.readout.setWordWrap(True)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.log_scale)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing_box)
        bar.addStretch(1)
        bar.addWidget(fit)
        bar.addWidget(export)
        self.plots_area = QSplitter(Qt.Orientation.Vertical)
        self.plots_area.setChildrenCollapsible(False)
        for plot in self.plots.values():
            self.plots_area.addWidget(plot)
        self.plots_area.setSizes([420, 320, 140])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plots_area, 1)
        layout.addWidget(self.readout)
        self._apply_colors()

    # ------------------------------------------------------------------ live data
    def start_run(self, epochs: int | None = None) -> None:
        """Forget the previous run's points (overlays too) and make room for `epochs` on the x axis."""
        self.clear()
        self.show_figure("accuracy")
        self._planned_epochs = epochs
        self.fit_view()

    def clear(self) -> None:
        self.batches.clear()
        self.epochs.clear()
        self._smooth_loss.set_smoothing(self.smoothing)
        self._smooth_accuracy.set_smoothing(self.smoothing)
        for items in self._overlays:
            for plot, item in items:
                plot.removeItem(item)
                legend = plot.getPlotItem().legend
                if legend is not None:
                    legend.removeItem(item)
        self._overlays.clear()
        self._highest_rate = 0.0
        self._clear_markers()
        self._mark("batches", "epochs")
        self._redraw()

    def show_figure(self, figure: str) -> None:
        """Show `figure` ("accuracy", "mean_iou", "mae" or "auc") in the second plot."""
        if figure == self.figure:
            return
        self.figure = figure
        self.accuracy_plot.setLabel("left", FIGURES[figure])
        bounded = figure != "mae"
        self.accuracy_plot.setLimits(yMin=-0.05 if bounded else None, yMax=1.05 if bounded else None)
        self._mark("batches", "epochs")
        self.fit_view()

    def add_batch(self, report: BatchReport) -> None:
        """A BatchReport (running means over the epoch so far)."""
        own = getattr(report, "metrics", None) or {}  # the task's own figures (mean IoU, MAE, AUC)
        self.show_figure(figure_of(own) if own else self.figure)
        value = report.accuracy if self.figure == "accuracy" else own.get(self.figure)
        self.batches.add(report.epoch, report.batch, report.batches, report.loss, value, self.figure != "mae")
        if not self._planned_epochs:
            self._planned_epochs = report.epochs
            self.fit_view()
        self._mark("batches")

    def add_epoch(self, report: EpochReport) -> None:
        """An EpochReport, or a mapping with metrics.csv's keys (and `learning_rate`)."""
        row = report if isinstance(report, Mapping) else report.to_dict()
        keys = {k for k, v in {**row, **(row.get("metrics") or {})}.items() if v is not None}
        if figure_of(keys) != "accuracy":
            self.show_figure(figure_of(keys))
        self.epochs.add(row)
        self._mark("epochs")

    def set_batches(self, x: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> None:
        """Per-batch points worked out elsewhere (a benchmark, a saved trace)."""
        self.batches.clear()
        self.batches.extend(x, loss, accuracy)
        self._mark("batches")

    def set_smoothing(self, smoothing: float) -> None:
        self.smoothing = float(smoothing)
        self._smooth_loss.set_smoothing(self.smoothing)
        self._smooth_accuracy.set_smoothing(self.smoothing)
        self._mark("batches", "epochs")
        self._redraw()

    @property
    def smoothed_loss(self) -> np.ndarray:
        return self._smooth_loss.sync(self.batches.loss.values)

    # ------------------------------------------------------------------ finished runs
    def plot_history(self, rows: Sequence[Mapping[str, Any]], name: str | None = None,
                     color: str | None = None) -> None:
        """Draw a run's per-epoch rows (metrics.csv) — the first with no name replaces the live epochs,
        any named one is added as an overlay in its own colour (training solid, validation dashed)."""
        present = {k for row in rows for k, v in row.items() if v is not None}
        if name is None or figure_of(present) != "accuracy":
            self.show_figure(figure_of(present))
        if name is None:
            self.epochs = read_rows(rows)
            self._mark("epochs")
            self._redraw()
            return
        table = read_rows(rows)
        color = color or RUN_COLORS[len(self._overlays) % len(RUN_COLORS)]
        x = table.column("epoch")
        items = []
        for key, plot in (("loss", self.loss_plot), (self.figure, self.accuracy_plot)):
            train = _curve(plot, _pen(color), f"{name} — training", symbol="o", symbolSize=5, symbolBrush=color,
                           symbolPen=None)
            val = _curve(plot, _pen(color, style=Qt.PenStyle.DashLine), f"{name} — validation", symbol="s",
                         symbolSize=5, symbolBrush=color, symbolPen=None)
            train.setData(x, table.column(key))
            val.setData(x, table.column(f"val_{key}"))
            items += [(plot, train), (plot, val)]
        rate = table.column("learning_rate")
        if np.isfinite(rate).any():
            line = _curve(self.rate_plot, _pen(color), stepMode="center")
            line.setData(np.concatenate([[x[0] - 1], x]) if len(x) else x, rate)
            items.append((self.rate_plot, line))
            self._highest_rate = max(self._highest_rate, float(np.nanmax(rate)))
            self._fit_rate_axis(self.epochs.column("learning_rate"))
        self._overlays.append(items)
        self.fit_view()

    # ------------------------------------------------------------------ marks
    def mark_stop(self, text: str, x: float | None = None) -> float:
        """A red line where training stopped (e.g. the loss became NaN), labelled with `text`; its x."""
        if x is None:
            x = max(self.batches.last_x or 0.0, float(len(self.epochs)))
        left, right = self.loss_plot.getViewBox().viewRange()[0]
        side = (0, 0.5) if x < (left + right) / 2 else (1, 0.5)  # the words go where there is room
        for key, plot in self.plots.items():
            line = pg.InfiniteLine(pos=x, angle=90, movable=False, pen=pg.mkPen(STOP_COLOR, width=2),
                                   label=text if key == "loss" else None,
                                   labelOpts={"position": 0.85, "color": STOP_COLOR, "fill": (255, 255, 255, 200),
                                              "anchors": [side, side]})
            plot.addItem(line, ignoreBounds=True)
            self._markers.append((plot, line))
        return x

    def mark_hint(self, hint: Hint | None) -> None:
        """An over-fitting hint draws a dashed line at the epoch with the best validation loss."""
        self._clear_markers(kind="hint")
        if hint is None or hint.epoch is None:
            return
        x = hint.epoch - 1
        left, right = self.loss_plot.getViewBox().viewRange()[0]
        side = (0, 0.5) if x < (left + right) / 2 else (1, 0.5)
        line = pg.InfiniteLine(pos=x, angle=90, movable=False,
                               pen=_pen(VALIDATION_COLOR, 220, Qt.PenStyle.DashLine),
                               label=" best validation loss ",
                               labelOpts={"position": 0.55, "color": VALIDATION_COLOR, "anchors": [side, side],
                                          "fill": (255, 255, 255, 170)})
        line.hint_marker = True
        self.loss_plot.addItem(line, ignoreBounds=True)
        self._markers.append((self.loss_plot, line))

    def _clear_markers(self, kind: str | None = None) -> None:
        keep = []
        for plot, line in self._markers:
            if kind == "hint" and not getattr(line, "hint_marker", False):
                keep.append((plot, line))
                continue
            plot.removeItem(line)
        self._markers = keep

    @property
    def stop_marks(self) -> list[float]:
        return [line.value() for plot, line in self._markers
                if plot is self.loss_plot and not getattr(line, "hint_marker", False)]

    # ------------------------------------------------------------------ drawing
    def _mark(self, *what: str) -> None:
        """What changed ("batches", "epochs"); drawn at most every REDRAW_MS while visible."""
        self._dirty.update(what)
        self._redraw_soon()

    def _redraw_if_needed(self) -> None:
        if self._dirty and self.isVisible():
            self._redraw()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._redraw_if_needed()  # what changed while hidden

    def _redraw(self) -> None:
        """Hand pyqtgraph what changed (only that: each setData costs a repaint)."""
        if "epochs" in self._dirty:
            for legend in self.legends:
                legend.update()
        dirty, self._dirty = self._dirty, set()
        if "batches" in dirty:
            b = self.batches
            x = b.x.values
            self.raw_loss.setData(x, b.loss.values)
            self.smooth_loss.setData(x, self._smooth_loss.sync(b.loss.values))
            has_accuracy = bool(len(b) and np.isfinite(b.accuracy.values[-1]))
            self.raw_accuracy.setData(x, b.accuracy.values if has_accuracy else x * np.nan)
            self.smooth_accuracy.setData(x, self._smooth_accuracy.sync(b.accuracy.values))
        if "epochs" in dirty:
            e = self.epochs
            ex = e.column("epoch")
            for item, key in ((self.epoch_loss, "loss"), (self.val_loss, "val_loss"),
                              (self.epoch_accuracy, self.figure), (self.val_accuracy, f"val_{self.figure}")):
                item.setData(*_finite(ex, e.column(key)))
            rate = e.column("learning_rate")
            if len(ex) and np.isfinite(rate).all():
                self.rate.setData(np.concatenate([[ex[0] - 1], ex]), rate)
            else:
                self.rate.setData([], [])
            self._fit_rate_axis(rate)

    def _fit_rate_axis(self, rate: np.ndarray) -> None:
        """From zero to a little above the highest rate: a constant rate is a flat line, a schedule a staircase."""
        finite = rate[np.isfinite(rate)]
        highest = max(float(finite.max()) if finite.size else 0.0, self._highest_rate)
        if highest > 0:
            self.rate_plot.setYRange(0, highest * 1.15, padding=0)

    def fit_view(self) -> None:
        """Show everything: the whole planned run across, every value up and down."""
        for plot in self.plots.values():
            plot.enableAutoRange()
        if self._planned_epochs:
            self.loss_plot.setXRange(0, self._planned_epochs, padding=0.02)
        if self.figure != "mae":
            self.accuracy_plot.setYRange(0, 1, padding=0.02)  # accuracy lives in 0..1: a fixed, honest scale
        self._fit_rate_axis(self.epochs.column("learning_rate"))

    def redraw_now(self) -> None:
        """Draw what has arrived without waiting for the next throttled redraw (tests, benchmarks)."""
        self._redraw()

    # ------------------------------------------------------------------ crosshair
    def _on_mouse(self, event: tuple) -> None:
        pos = event[0]
        for plot in self.plots.values():
            box = plot.getViewBox()
            if plot.sceneBoundingRect().contains(pos) and box.sceneBoundingRect().contains(pos):
                self.show_values_at(box.mapSceneToView(pos).x())
                return
        for line in self._crosshairs.values():
            line.setVisible(False)

    def show_values_at(self, x: float) -> str:
        """Move the crosshair to epoch position `x` and show the values there; returns the text."""
        for line in self._crosshairs.values():
            line.setPos(x)
            line.setVisible(True)
        parts = [f"epoch {x:.2f}"]
        b = self.batches
        if len(b):
            i = int(np.clip(np.searchsorted(b.x.values, x), 0, len(b) - 1))
            if i > 0 and abs(b.x.values[i - 1] - x) < abs(b.x.values[i] - x):
                i -= 1
            smoothed = self._smooth_loss.sync(b.loss.values)
            parts.append(f"loss {_fmt(b.loss.values[i])} (smoothed {_fmt(smoothed[i])})")
            if math.isfinite(b.accuracy.values[i]):
                parts.append(f"{self._figure_name()} {self._figure_text(b.accuracy.values[i])}")
        row = self.epochs.nearest(x)
        if row is not None:
            epoch_parts = [f"loss {_fmt(row['loss'])}"]
            if row["val_loss"] is not None:
                epoch_parts.append(f"val loss {_fmt(row['val_loss'])}")
            if row[f"val_{self.figure}"] is not None:
                epoch_parts.append(f"val {self._figure_name()} {self._figure_text(row[f'val_{self.figure}'])}")
            if row["learning_rate"] is not None:
                epoch_parts.append(f"learning rate {row['learning_rate']:.3g}")
            parts.append(f"end of epoch {int(row['epoch'])}: " + ", ".join(epoch_parts))
        text = " · ".join(parts)
        self.readout.setText(text)
        return text

    def _figure_name(self) -> str:
        return "MAE" if self.figure == "mae" else FIGURES[self.figure]

    def _figure_text(self, value: float) -> str:
        return f"{value:.1%}" if self.figure == "accuracy" else f"{value:.4g}"

    # ------------------------------------------------------------------ export
    def export_image(self, which: str, path: str | Path) -> Path:
        """Save one plot ("loss", "accuracy", "learning_rate") as PNG, or SVG when `path` ends in .svg."""
        self._redraw()
        return save_plot(self.plots[which], path)

    def export_all(self, path: str | Path) -> Path:
        """The three plots stacked, as one PNG picture."""
        self._redraw()
        return save_widget_png(self.plots_area, path)

    def export_csv(self, path: str | Path) -> Path:
        """Every point behind the curves: batch rows, then epoch rows (see series.CSV_HEADER)."""
        return save_text(csv_text(self.batches, self.epochs, self.smoothing), path)

    def _ask_export_image(self, which: str) -> None:
        ask_and_save(self, "Export plot", f"{which}.png", PICTURE_FILTERS, lambda p: self.export_image(which, p),
                     self.saved.emit)

    def _ask_export_all(self) -> None:
        ask_and_save(self, "Export plots", "training-curves.png", PNG_FILTER, self.export_all,
                     self.saved.emit)

    def _ask_export_csv(self) -> None:
        ask_and_save(self, "Export curve data", "training-curves.csv", CSV_FILTER, self.export_csv,
                     self.saved.emit)

    # ------------------------------------------------------------------ appearance
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_colors()
        super().changeEvent(event)

    def _apply_colors(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        for plot in self.plots.values():
            plot.setBackground(background)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setPen(text)
                plot.getAxis(axis).setTextPen(text)
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.setLabelTextColor(text)
                fill = QColor(background)
                fill.setAlpha(200)
                legend.setBrush(fill)
        self.setProperty("dark", theme.is_dark(palette))


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points where y is a number (symbols of NaN points make pyqtgraph warn)."""
    keep = np.isfinite(y)
    return x[keep], y[keep]


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "NaN" if value is not None else "–"
    return f"{value:.4g}"


def plot_history(rows: Sequence[Mapping[str, Any]], curves: TrainingCurves | None = None, name: str | None = None,
                 color: str | None = None) -> TrainingCurves:
    """Curves of a finished run's metrics.csv rows (`cnnstudio.ml.runs.read_metrics`), in a new widget
    or added to `curves` (with a `name`, as an overlay in its own colour)."""
    curves = curves or TrainingCurves()
    curves.plot_history(rows, name=name, color=color)
    return curves
