"""The outcome part of a run diff: both runs' curves, each class's F1 change, and the validation
images one run gets right that the other gets wrong.

The images come from the ML side (`RunImagesRequest`: run A's dataset, split as it trained);
clicking one asks, through ``imageChosen``, to open it in Grad-CAM or Feature Maps with the
model of the run chosen under the grids.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.diff import OutcomeDiff
from cnnstudio.core.runs import (
    ValPredictions,
    differing_settings,
    read_metrics,
    read_val_predictions,
    summarize_run,
)
from cnnstudio.ml.jobs.requests import RunImagesRequest
from cnnstudio.ml.jobs.results import InputImage, RunImages

from ..explain.imaging import display_image
from ..explain.thumbnails import Thumbnail, ThumbnailGrid
from ..plotting import follow_palette, menus_owned_by
from ..runs.comparison import RunComparison

if TYPE_CHECKING:
    from ..context import AppContext

MAX_IMAGES = 120  # per grid, the most confident differences first
BETTER, WORSE = "#2e9d47", "#d93636"
EXPLAIN_PAGES = (("saliency", "Grad-CAM"), ("feature_maps", "Feature Maps"))
F1_COLUMNS = ("Class", "F1 run A", "F1 run B", "Change", "Images")


class OutcomeDiffPage(QWidget):
    """Curves (``runComparison``), F1 per class (``classF1Plot``, ``classF1Table``) and the two
    image grids (``onlyARight``, ``onlyBRight``)."""

    imageChosen = Signal(object, object, str)  # run dir to explain with, InputImage, "saliency" | "feature_maps"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.outcome: OutcomeDiff | None = None
        self.runs: tuple[Path, Path] | None = None
        self.images: RunImages | None = None
        self.predictions: tuple[ValPredictions | None, ValPredictions | None] = (None, None)
        self.curves = RunComparison()
        self.f1_plot = self._f1_plot()
        self.f1_table = QTableWidget(0, len(F1_COLUMNS))
        self.f1_table.setObjectName("classF1Table")
        self.f1_table.setHorizontalHeaderLabels(F1_COLUMNS)
        self.f1_table.verticalHeader().hide()
        self.f1_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.f1_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        classes = QSplitter(Qt.Orientation.Vertical)
        classes.addWidget(self.f1_plot)
        classes.addWidget(self.f1_table)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.curves)
        top.addWidget(classes)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)

        self.note = QLabel()
        self.note.setObjectName("imagesNote")
        self.note.setWordWrap(True)
        self.only_a, self.only_a_title = self._grid("onlyARight")
        self.only_b, self.only_b_title = self._grid("onlyBRight")
        self.only_a.chosen.connect(self.open_index)
        self.only_b.chosen.connect(self.open_index)
        self.open_in = QComboBox()
        self.open_in.setObjectName("openImageIn")
        for key, text in EXPLAIN_PAGES:
            self.open_in.addItem(text, key)
        self.open_with = QComboBox()
        self.open_with.setObjectName("openImageWith")
        self.open_with.setToolTip("Whose trained model explains the picture you click")
        grids = QWidget()
        grids_layout = QVBoxLayout(grids)
        grids_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for title, grid in ((self.only_a_title, self.only_a), (self.only_b_title, self.only_b)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(grid, 1)
            row.addLayout(column, 1)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Click a picture to open it in"))
        controls.addWidget(self.open_in)
        controls.addWidget(QLabel("with the model of"))
        controls.addWidget(self.open_with)
        controls.addStretch(1)
        grids_layout.addWidget(self.note)
        grids_layout.addLayout(row, 1)
        grids_layout.addLayout(controls)

        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(grids)
        body.setStretchFactor(0, 5)
        body.setStretchFactor(1, 4)
        body.setSizes([500, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(body)

    def _f1_plot(self) -> pg.PlotWidget:
        with menus_owned_by(lambda: self):
            plot = pg.PlotWidget(enableMenu=False)
        plot.setObjectName("classF1Plot")
        plot.setMinimumHeight(150)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(y=True, alpha=0.25)
        item = plot.getPlotItem()
        item.setTitle("F1 change per class (run B − run A)")
        item.getAxis("left").enableAutoSIPrefix(False)
        follow_palette(plot)
        return plot

    @staticmethod
    def _grid(name: str) -> tuple[ThumbnailGrid, QLabel]:
        grid = ThumbnailGrid(56)
        grid.setObjectName(name)
        title = QLabel()
        title.setObjectName(f"{name}Title")
        title.setWordWrap(True)
        return grid, title

    # ------------------------------------------------------------------ showing
    def show_outcome(self, run_a: Path, run_b: Path, outcome: OutcomeDiff) -> None:
        self.runs, self.outcome, self.images = (run_a, run_b), outcome, None
        summaries = [s for s in (summarize_run(run_a), summarize_run(run_b)) if s is not None]
        histories = {}
        for summary in summaries:
            try:
                histories[summary.path] = read_metrics(summary.path)
            except (OSError, ValueError):
                histories[summary.path] = []
        differs = differing_settings(summaries)
        self.curves.show_runs(summaries, histories, {s.path: f"run {'AB'[i]}: {differs.get(s.path) or s.name}"
                                                     for i, s in enumerate(summaries)})
        self._show_classes(outcome)
        self.predictions = (read_val_predictions(run_a), read_val_predictions(run_b))
        self.open_with.clear()
        self.open_with.addItem(f"run A ({run_a.name})", str(run_a))
        self.open_with.addItem(f"run B ({run_b.name})", str(run_b))
        self.only_a.clear()
        self.only_b.clear()
        self.note.setText(outcome.per_image_note)
        self.note.setVisible(bool(outcome.per_image_note))
        self._titles(loading=bool(len(outcome.only_a_right) or len(outcome.only_b_right)))
        wanted = [int(i) for i in (*outcome.only_a_right[:MAX_IMAGES], *outcome.only_b_right[:MAX_IMAGES])]
        if wanted:
            self.context.ml.run(RunImagesRequest(run_a, tuple(wanted)), key="diff-images",
                                on_result=self.show_images, on_error=self._failed)

    def _titles(self, loading: bool = False) -> None:
        outcome = self.outcome
        more = " (loading the pictures…)" if loading else ""
        for title, found, right, wrong in ((self.only_a_title, outcome.only_a_right, "A", "B"),
                                           (self.only_b_title, outcome.only_b_right, "B", "A")):
            count = len(found)
            shown = f", the {MAX_IMAGES} that run {wrong} gets most confidently wrong shown" \
                if count > MAX_IMAGES else ""
            title.setText(f"<b>Run {right} right, run {wrong} wrong: {count:,} image{'s' * (count != 1)}</b>"
                          f"{shown}{more if count else ''}")

    def _show_classes(self, outcome: OutcomeDiff) -> None:
        plot = self.f1_plot.getPlotItem()
        plot.clear()
        classes = outcome.classes or []
        self.f1_table.setRowCount(len(classes))
        for row, change in enumerate(classes):
            delta = change.delta
            cells = (change.name, f"{change.f1_before:.3f}", f"{change.f1_after:.3f}", f"{delta:+.3f}",
                     f"{change.support:,}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3 and abs(delta) >= 0.0005:
                    item.setForeground(QBrush(QColor(BETTER if delta > 0 else WORSE)))
                self.f1_table.setItem(row, column, item)
        if not classes:
            plot.setTitle("F1 per class: the runs kept no validation predictions")
            return
        plot.setTitle("F1 change per class (run B − run A)")
        deltas = np.array([c.delta for c in classes])
        brushes = [pg.mkBrush(BETTER if d >= 0 else WORSE) for d in deltas]
        plot.addItem(pg.BarGraphItem(x=np.arange(len(classes)), height=deltas, width=0.7, brushes=brushes,
                                     pens=[pg.mkPen(None)] * len(classes)))
        plot.addLine(y=0, pen=pg.mkPen("#888888"))
        step = max(1, int(np.ceil(len(classes) / 25)))
        plot.getAxis("bottom").setTicks([[(i, classes[i].name) for i in range(0, len(classes), step)]])
        reach = max(0.05, float(np.abs(deltas).max()) * 1.15)
        plot.setYRange(-reach, reach, padding=0)
        plot.setXRange(-0.6, len(classes) - 0.4, padding=0)

    def show_images(self, found: RunImages) -> None:
        """The pictures of both grids have come: show them, most confident difference first."""
        if self.outcome is None or self.runs is None or found.run_dir != self.runs[0]:
            return
        self.images = found
        where = {int(index): i for i, index in enumerate(found.indices)}
        for grid, indices in ((self.only_a, self.outcome.only_a_right), (self.only_b, self.outcome.only_b_right)):
            grid.set_thumbnails(self._thumbnail(int(index), where[int(index)], found)
                                for index in indices[:MAX_IMAGES] if int(index) in where)
        self._titles()

    def _thumbnail(self, index: int, position: int, found: RunImages) -> Thumbnail:
        names = found.class_names
        label = names[int(found.labels[position])]
        said = []
        for run, kept in zip("AB", self.predictions, strict=True):
            if kept is not None and kept.last_epoch is not None:
                guess = int(kept.at(kept.last_epoch)[index])
                said.append(f"run {run} says {names[guess] if guess < len(names) else guess} "
                            f"({kept.confidence[kept.last_epoch][index]:.0%})")
        return Thumbnail(display_image(found.images[position]), f"#{index} {label}", index,
                         f"validation image {index}: a {label}; " + ", ".join(said))

    def _failed(self, message: str) -> None:
        self.note.setText(f"The pictures could not be loaded: {message}")
        self.note.show()
        self._titles()

    # ------------------------------------------------------------------ opening one
    def open_index(self, index: int) -> None:
        """Ask to explain validation image `index` with the chosen run's model."""
        found = self.images
        if found is None:
            return
        position = int(np.flatnonzero(found.indices == index)[0])
        label = int(found.labels[position])
        run = Path(self.open_with.currentData())
        image = InputImage(np.array(found.images[position]),
                           f"validation image {index} (a {found.class_names[label]}) of {run.name}",
                           label=label, origin="dataset", split="validation", index=int(index))
        self.imageChosen.emit(run, image, str(self.open_in.currentData()))
