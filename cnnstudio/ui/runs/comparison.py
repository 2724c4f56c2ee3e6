"""Runs side by side: loss and accuracy per epoch, one colour per run, and their final figures.

Training is drawn solid with circles, validation dashed with squares, so MLP vs CNN or
plain vs shuffled pixels can be read at a glance. The curves come from each run's
metrics.csv; the figures from run.json.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.runs import RunSummary

from ..plotting import menus_owned_by
from ..saving import failure_text, save_text, save_widget_png
from .table import duration_text, percent

RUN_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
              "#bcbd22", "#7f7f7f")
MARKED_RUNS = 4  # up to this many runs, epochs are marked with circles (training) and squares (validation)
TABLE_COLUMNS = ("", "Run", "Epochs", "Loss", "Val loss", "Train acc", "Val acc", "Test acc", "Duration", "Folder")


def run_labels(summaries: Sequence[RunSummary], differs: dict[Path, str]) -> list[str]:
    """What the legend calls each run: what sets it apart, else its folder name (never twice the same)."""
    labels = [differs.get(s.path) or s.name for s in summaries]
    return [label if labels.count(label) == 1 else f"{label} ({s.name})" for label, s in zip(labels, summaries,
                                                                                            strict=True)]


def _column(rows: Sequence[dict[str, Any]], key: str) -> list[float]:
    values = []
    for row in rows:
        value = row.get(key)
        values.append(float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan)
    return values


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: ticks at 1, 2, 3 …, never at 1.5."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph's names)
        levels = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)
                  if spacing >= 1]
        return levels or [(1.0, 0.0)]


def _plot(name: str, y_label: str) -> pg.PlotWidget:
    with menus_owned_by(lambda: plot):
        plot = pg.PlotWidget(enableMenu=False, axisItems={"bottom": EpochAxis("bottom")})
    plot.setObjectName(name)
    plot.setMinimumSize(260, 220)
    plot.showGrid(x=True, y=True, alpha=0.2)
    item = plot.getPlotItem()
    item.setLabel("bottom", "epoch")
    item.setLabel("left", y_label)
    item.getAxis("left").enableAutoSIPrefix(False)  # accuracy 0.95, not "950 (x0.001)"
    return plot


class RunComparison(QWidget):
    """The comparison view (objectName ``runComparison``): two plots over a table of final figures."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self.summaries: list[RunSummary] = []
        self.labels: list[str] = []
        self.histories: dict[Path, list[dict[str, Any]]] = {}
        self.curves: dict[str, list[tuple[pg.PlotDataItem, pg.PlotDataItem]]] = {"loss": [], "accuracy": []}
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.title = QLabel("Select runs in the Runs panel and press Compare.")
        self.title.setObjectName("comparisonTitle")
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        self.log_scale = QCheckBox("Log scale (loss)")
        self.log_scale.setObjectName("comparisonLogScale")
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        self.save_image = QPushButton("Save Image…")
        self.save_image.setObjectName("comparisonSaveImage")
        self.save_image.clicked.connect(lambda: self.export_image())
        self.save_csv = QPushButton("Save CSV…")
        self.save_csv.setObjectName("comparisonSaveCsv")
        self.save_csv.setToolTip("Every run's metrics per epoch in one table, with a column naming the run")
        self.save_csv.clicked.connect(lambda: self.export_csv())
        for widget in (self.log_scale, self.save_image, self.save_csv):
            top.addWidget(widget)
        layout.addLayout(top)
        self.legend = QLabel()
        self.legend.setObjectName("comparisonLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.legend)
        splitter = QSplitter(Qt.Orientation.Vertical)
        plots = QWidget()
        plots_layout = QHBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = _plot("comparisonLossPlot", "loss")
        self.accuracy_plot = _plot("comparisonAccuracyPlot", "accuracy")
        self.accuracy_plot.setXLink(self.loss_plot)
        plots_layout.addWidget(self.loss_plot)
        plots_layout.addWidget(self.accuracy_plot)
        splitter.addWidget(plots)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("comparisonTable")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        self._style()

    # ------------------------------------------------------------------ data
    def show_runs(self, summaries: Sequence[RunSummary], histories: dict[Path, list[dict[str, Any]]],
                  differs: dict[Path, str]) -> None:
        """Overlay these runs (their metrics.csv rows in ``histories``); ``differs`` names what sets each apart."""
        self.summaries = list(summaries)
        self.histories = dict(histories)
        self.labels = run_labels(self.summaries, differs)
        for key, plot in (("loss", self.loss_plot), ("accuracy", self.accuracy_plot)):
            plot.getPlotItem().disableAutoRange()  # one range update at the end, not one per curve
            plot.getPlotItem().clear()
            self.curves[key] = []
            for i, summary in enumerate(self.summaries):
                color = RUN_COLORS[i % len(RUN_COLORS)]
                rows = self.histories.get(summary.path, [])
                x = _column(rows, "epoch")
                marks = ({"symbol": "o", "symbolSize": 6, "symbolBrush": color, "symbolPen": None}
                         if len(self.summaries) <= MARKED_RUNS else {})
                train = plot.plot(x, _column(rows, key), pen=pg.mkPen(color, width=2), **marks)
                if marks:
                    marks["symbol"] = "s"
                val = plot.plot(x, _column(rows, f"val_{key}"), pen=pg.mkPen(color, width=2,
                                                                             style=Qt.PenStyle.DashLine), **marks)
                self.curves[key].append((train, val))
            plot.getPlotItem().enableAutoRange()
        self._fill_legend()
        self._fill_table(differs)
        missing = [s.name for s in self.summaries if not self.histories.get(s.path)]
        title = f"Comparing {len(self.summaries)} run{'s' * (len(self.summaries) != 1)}"
        if missing:
            title += f" — no epochs recorded yet for {', '.join(missing)}"
        self.title.setText(title)

    def _fill_legend(self) -> None:
        """One colour per run, named by what sets it apart; above the plots, so it never hides a curve."""
        entries = [f"<span style='white-space:nowrap'>"  # a line breaks between runs, never inside one
                   f"<span style='color:{RUN_COLORS[i % len(RUN_COLORS)]}; font-weight:bold'>&#9473;&#9473;</span>"
                   f"&nbsp;{html.escape(label)}</span>" for i, label in enumerate(self.labels)]
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(entries) + "<br><span style='color:gray'>solid line: "
                            "training · dashed line: validation</span>")
        self.legend.setToolTip("\n".join(f"{label}: {s.path}" for label, s in zip(self.labels, self.summaries,
                                                                                   strict=True)))

    def _fill_table(self, differs: dict[Path, str]) -> None:
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(self.summaries))
        for row, summary in enumerate(self.summaries):
            swatch = QPixmap(14, 14)
            swatch.fill(QColor(RUN_COLORS[row % len(RUN_COLORS)]))
            color_item = QTableWidgetItem()
            color_item.setData(Qt.ItemDataRole.DecorationRole, swatch)
            final = summary.final
            cells = [self.labels[row], str(summary.epochs_completed),
                     _number(final.get("loss")), _number(final.get("val_loss")),
                     percent(summary.metric("accuracy")), percent(summary.metric("val_accuracy")),
                     percent(summary.test_accuracy), duration_text(summary.seconds), summary.name]
            self.table.setItem(row, 0, color_item)
            for column, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(str(summary.path) if column in (1, len(cells)) else text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.setUpdatesEnabled(True)
        rows = min(len(self.summaries), 8)  # every run's row in sight, below the header and a scroll bar
        height = (self.table.horizontalHeader().sizeHint().height()
                  + rows * self.table.verticalHeader().defaultSectionSize()
                  + self.table.horizontalScrollBar().sizeHint().height() + 2 * self.table.frameWidth())
        self.table.setMinimumHeight(min(height, 260))
    # ------------------------------------------------------------------ export
    def export_image(self, path: str | Path | None = None) -> Path | None:
        """The plots and table as a PNG."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save Comparison Image", "run-comparison.png",
                                                  "PNG images (*.png)")
            if not path:
                return None
        try:
            return save_widget_png(self, path)
        except (UserError, OSError) as exc:  # the folder is gone, the disk is full, ...
            self.title.setText(failure_text(Path(path), exc))
            return None

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Every run's epochs in one CSV: run,epoch,loss,accuracy,val_loss,val_accuracy."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save Comparison Data", "run-comparison.csv",
                                                  "CSV files (*.csv)")
            if not path:
                return None
        keys = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(("run", "label", *keys))
        for summary, label in zip(self.summaries, self.labels, strict=True):
            for row in self.histories.get(summary.path, []):
                writer.writerow((summary.name, label, *("" if row.get(k) is None else row[k] for k in keys)))
        try:
            return save_text(out.getvalue(), path)
        except (UserError, OSError) as exc:  # the folder is gone, the disk is full, ...
            self.title.setText(failure_text(Path(path), exc))
            return None

    # ------------------------------------------------------------------ looks
    def _style(self) -> None:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.setBackground(palette.color(QPalette.ColorRole.Base))
            for name in ("left", "bottom"):
                axis = plot.getPlotItem().getAxis(name)
                axis.setPen(pg.mkPen(text))
                axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and hasattr(self, "accuracy_plot"):
            self._style()


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) and math.isfinite(value) else ""
