"""The confusion matrix as a heat map: rows are the true classes, columns the predicted ones.

Cells are coloured by the share of their row (so a small class's mistakes show as clearly
as a big one's) and carry their counts; class names label both axes. Clicking a cell
emits ``cellClicked(true, predicted)``; hovering shows what the cell means in words.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ..plotting import follow_palette, menus_owned_by

MAX_WRITTEN = 20  # up to this many classes, every cell has its count written in it
CELL_COLORS = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]


class ConfusionPlot(pg.PlotWidget):
    cellClicked = Signal(int, int)  # true class, predicted class

    def __init__(self, parent=None) -> None:
        with menus_owned_by(lambda: self):
            super().__init__(parent, enableMenu=False)
        self.setObjectName("confusionMatrix")
        self.setMinimumSize(320, 300)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setAspectLocked(True)
        self.invertY(True)  # row 0 at the top, as a matrix is written
        plot = self.getPlotItem()
        plot.setLabel("left", "True class")
        plot.setLabel("bottom", "Predicted class")
        plot.showAxis("top", False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.ColorMap(np.linspace(0, 1, len(CELL_COLORS)), CELL_COLORS))
        self.addItem(self.image)
        self.selection = QGraphicsRectItem()
        pen = QPen(QColor("#f28e1c"), 0)
        pen.setCosmetic(True)
        pen.setWidth(3)
        self.selection.setPen(pen)
        self.selection.setZValue(10)
        self.selection.hide()
        self.addItem(self.selection)
        self.confusion = np.zeros((0, 0), np.int64)
        self.class_names: tuple[str, ...] = ()
        self._texts: list[pg.TextItem] = []
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        follow_palette(self)

    # ------------------------------------------------------------------ data
    def set_matrix(self, confusion: np.ndarray, class_names: tuple[str, ...]) -> None:
        """Show a K x K matrix of counts (rows: true class, columns: predicted class)."""
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.class_names = tuple(class_names)
        k = len(self.class_names)
        rows = self.confusion.sum(axis=1, keepdims=True)
        shares = np.divide(self.confusion, rows, out=np.zeros(self.confusion.shape), where=rows > 0)
        if k:
            self.image.setImage(shares.astype(np.float32), levels=(0.0, 1.0))
            self.image.setRect(QRectF(0, 0, k, k))
        else:  # nothing to show (an empty rectangle cannot be scaled to)
            self.image.clear()
        self._write_counts(shares)
        step = max(1, int(np.ceil(k / 25)))  # keep axis labels readable for many classes
        ticks = [[(i + 0.5, self.class_names[i]) for i in range(0, k, step)]]
        plot = self.getPlotItem()
        plot.getAxis("left").setTicks(ticks)
        plot.getAxis("bottom").setTicks(ticks)
        self.select(None)
        self.setXRange(0, k, padding=0.02)
        self.setYRange(0, k, padding=0.02)

    def clear_matrix(self) -> None:
        self.set_matrix(np.zeros((0, 0), np.int64), ())

    def _write_counts(self, shares: np.ndarray) -> None:
        for item in self._texts:
            self.removeItem(item)
        self._texts = []
        k = len(self.class_names)
        if k > MAX_WRITTEN:
            return
        for row in range(k):
            for col in range(k):
                dark_cell = shares[row, col] > 0.45
                text = pg.TextItem(str(int(self.confusion[row, col])), anchor=(0.5, 0.5),
                                   color="#ffffff" if dark_cell else "#1b1b1b")
                text.setPos(col + 0.5, row + 0.5)
                self.addItem(text)
                self._texts.append(text)

    def cell_text(self, row: int, col: int) -> str:
        """The count written in a cell ('' when counts are not written for this many classes)."""
        k = len(self.class_names)
        return self._texts[row * k + col].toPlainText() if self._texts else ""

    # ------------------------------------------------------------------ selection
    def select(self, cell: tuple[int, int] | None) -> None:
        """Outline one cell (None: no outline)."""
        if cell is None:
            self.selection.hide()
            return
        row, col = cell
        self.selection.setRect(QRectF(col, row, 1, 1))
        self.selection.show()

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        point = self.getPlotItem().vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        k = len(self.class_names)
        return (row, col) if 0 <= row < k and 0 <= col < k else None

    def cell_center(self, row: int, col: int) -> QPoint:
        """Where a cell's centre is drawn, in this widget's coordinates (to click it)."""
        scene = self.getPlotItem().vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))
        return self.mapFromScene(scene)

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.select(cell)
            self.cellClicked.emit(*cell)

    def _hovered(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        self.setToolTip(self.describe(*cell) if cell is not None else "")

    def describe(self, row: int, col: int) -> str:
        """A cell in words, e.g. 'True 3, predicted 5: 12 images (1.2% of the 3s)'."""
        count = int(self.confusion[row, col])
        total = int(self.confusion[row].sum())
        share = f" ({count / total:.1%} of the true {self.class_names[row]})" if total else ""
        verdict = "correct" if row == col else "mistaken"
        images = "image" if count == 1 else "images"
        return (f"True {self.class_names[row]}, predicted {self.class_names[col]}: "
                f"{count} {images}{share}, {verdict}. Click to list them.")
