"""The playground's pictures: a grid of numbers drawn as an image, and a signal drawn as a curve.

`GridPlot` shows a 2-D array cell by cell (row 0 at the top), writes each value in
its cell when the cells are big enough to read, highlights one rectangle (the
kernel's window or the current output cell) and tells the value under the mouse.
`SignalPlot` does the same for a 1-D signal.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from ..plotting import apply_palette, owned_plot_widget
from ..reflow import WrappedLabel
from .experiment import number

PLOT_MINIMUM_HEIGHT = 140  # a picture still worth looking at; a shorter page scrolls instead

DIVERGING = "CET-D1"  # blue - white - red, centred on zero
MAX_CELLS_WITH_VALUES = 20  # above this many rows or columns, numbers would be unreadable
HIGHLIGHT = "#ffb000"


def _colormap(name: str) -> pg.ColorMap:
    if name == "gray":
        return pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
    return pg.colormap.get(name)


class CellValues(QGraphicsItem):
    """Writes each cell's value inside it, in a size that fits the cell on screen, in black or white
    to contrast with the cell's colour; hidden when cells are too small to read."""

    def __init__(self) -> None:
        super().__init__()
        self.values = np.zeros((0, 0))
        self.colors = np.zeros((0, 0, 4), dtype=np.uint8)
        self.origin = (0.0, 0.0)  # x, y of the top-left cell's corner

    def set_values(self, values: np.ndarray, colors: np.ndarray, origin: tuple[float, float]) -> None:
        self.prepareGeometryChange()
        self.values, self.colors, self.origin = values, colors, origin
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt)
        rows, cols = self.values.shape
        return QRectF(self.origin[0], self.origin[1], cols, rows)

    def paint(self, painter: QPainter, _option, _widget=None) -> None:
        rows, cols = self.values.shape
        if not rows or max(rows, cols) > MAX_CELLS_WITH_VALUES:
            return
        transform = painter.transform()
        cell_w = abs(transform.map(QPointF(1, 0)).x() - transform.map(QPointF(0, 0)).x())
        cell_h = abs(transform.map(QPointF(0, 1)).y() - transform.map(QPointF(0, 0)).y())
        x0, y0 = self.origin
        if min(cell_w, cell_h) >= 8:  # thin lines between cells make them easy to count
            pen = QPen(QColor(128, 128, 128, 110))
            pen.setCosmetic(True)
            painter.setPen(pen)
            for r in range(rows + 1):
                painter.drawLine(QPointF(x0, y0 + r), QPointF(x0 + cols, y0 + r))
            for c in range(cols + 1):
                painter.drawLine(QPointF(x0 + c, y0), QPointF(x0 + c, y0 + rows))
        texts = [[cell_text(v) for v in row] for row in self.values]
        longest = max(len(t) for row in texts for t in row)
        pixel_size = int(min(cell_h * 0.42, cell_w / (0.62 * longest + 0.6)))
        if pixel_size < 7:
            return
        painter.save()
        painter.resetTransform()
        font = QFont()
        font.setPixelSize(min(pixel_size, 18))
        painter.setFont(font)
        for r in range(rows):
            for c in range(cols):
                red, green, blue = (int(v) for v in self.colors[r, c, :3])
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 140
                painter.setPen(QColor("#111111") if light else QColor("#f4f4f4"))
                box = transform.mapRect(QRectF(x0 + c, y0 + r, 1, 1))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, texts[r][c])
        painter.restore()


class GridPlot(QWidget):
    """A titled 2-D array with numbers in small grids, a highlight rectangle and hover values."""

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.header = _header(title)
        self.plot = owned_plot_widget(self, enableMenu=False)
        self.plot.setObjectName(object_name + "Plot")
        item = self.plot.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)
        item.hideButtons()
        for axis in ("left", "bottom"):
            item.getAxis(axis).setStyle(tickLength=-4)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.values_item = CellValues()
        self.plot.addItem(self.values_item)
        self.edge = pg.QtWidgets.QGraphicsRectItem()  # the image's own edge when it is padded
        self.edge.setPen(pg.mkPen("#7f7f7f", width=1.5, style=Qt.PenStyle.DashLine, cosmetic=True))
        self.edge.setVisible(False)
        self.plot.addItem(self.edge)
        self.highlight = pg.QtWidgets.QGraphicsRectItem()
        pen = pg.mkPen(HIGHLIGHT, width=3)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        self.highlight.setPen(pen)
        self.highlight.setZValue(10)
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self.caption = WrappedLabel()
        self.caption.setObjectName(object_name + "Caption")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        self.plot.setMinimumHeight(PLOT_MINIMUM_HEIGHT)  # on a short screen the page scrolls instead
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.array = np.zeros((0, 0))
        self.origin = (0.0, 0.0)
        self.description = ""
        apply_palette(self.plot, self.palette())
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.setMouseTracking(True)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.PaletteChange:
            apply_palette(self.plot, self.palette())
        super().changeEvent(event)

    # ------------------------------------------------------------------ content
    def show_array(self, array: np.ndarray | None, *, colormap: str = DIVERGING,
                   levels: tuple[float, float] | None = None, origin: tuple[int, int] = (0, 0),
                   description: str = "") -> None:
        """Draw ``array`` with its top-left cell at ``origin`` (column, row); None clears the plot."""
        self.description = description
        self.caption.setText(description)
        if array is None or array.size == 0:
            self.array = np.zeros((0, 0))
            self.image_item.clear()
            self.values_item.set_values(self.array, np.zeros((0, 0, 4), np.uint8), (0.0, 0.0))
            self.highlight.setVisible(False)
            self.edge.setVisible(False)
            return
        array = np.asarray(array, dtype=np.float64)
        self.array, self.origin = array, (float(origin[0]), float(origin[1]))
        if levels is None:
            levels = _symmetric_levels(array) if colormap == DIVERGING else _range_levels(array)
        cmap = _colormap(colormap)
        self.image_item.setImage(array, levels=levels, autoLevels=False)
        self.image_item.setColorMap(cmap)
        rows, cols = array.shape
        self.image_item.setRect(QRectF(self.origin[0], self.origin[1], cols, rows))
        scaled = np.clip((array - levels[0]) / max(levels[1] - levels[0], 1e-12), 0.0, 1.0)
        colors = cmap.map(scaled.ravel(), mode=pg.ColorMap.BYTE).reshape(rows, cols, -1)
        self.values_item.set_values(array, colors, self.origin)
        self.plot.getPlotItem().getViewBox().autoRange(padding=0.02)

    def show_edge(self, rect: QRectF | None) -> None:
        """Outline the image's own cells (inside the zero padding); None hides the outline."""
        self.edge.setVisible(rect is not None)
        if rect is not None:
            self.edge.setRect(rect)

    def highlight_cells(self, rect: QRectF | None) -> None:
        """Frame a block of cells (x = column, y = row, in the plot's coordinates); None hides it."""
        self.highlight.setVisible(rect is not None)
        if rect is not None:
            self.highlight.setRect(rect)

    def hide_axes(self) -> None:
        """Just the cells (for small kernels, where row and column numbers add nothing)."""
        for axis in ("left", "bottom"):
            self.plot.getPlotItem().hideAxis(axis)

    def highlighted(self) -> QRectF | None:
        return self.highlight.rect() if self.highlight.isVisible() else None

    def _hover(self, position) -> None:
        if not self.array.size:
            return
        view = self.plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(position):
            self.caption.setText(self.description)
            return
        point = view.mapSceneToView(position)
        column = int(np.floor(point.x() - self.origin[0]))
        row = int(np.floor(point.y() - self.origin[1]))
        rows, cols = self.array.shape
        if 0 <= row < rows and 0 <= column < cols:
            shown_row, shown_col = row + int(self.origin[1]), column + int(self.origin[0])
            self.caption.setText(
                f"row {shown_row}, column {shown_col}: <b>{number(self.array[row, column], 4)}</b>"
            )
        else:
            self.caption.setText(self.description)


class SignalPlot(QWidget):
    """A titled 1-D signal as dots joined by lines, with a highlighted span and marked point."""

    def __init__(self, title: str, object_name: str, color: str = "#3a72d8", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.header = _header(title)
        self.plot = owned_plot_widget(self, enableMenu=False)
        self.plot.setObjectName(object_name + "Plot")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getPlotItem().hideButtons()
        self.curve = self.plot.plot([], [], pen=pg.mkPen(color, width=1.5), symbol="o", symbolSize=5,
                                    symbolBrush=color, symbolPen=None)
        self.padding_curve = self.plot.plot([], [], pen=None, symbol="o", symbolSize=5,
                                            symbolBrush=None, symbolPen=pg.mkPen("#7f7f7f"))
        self.region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(255, 176, 0, 60),
                                          pen=pg.mkPen(HIGHLIGHT, width=2))
        self.region.setVisible(False)
        self.plot.addItem(self.region)
        self.marker = pg.ScatterPlotItem(size=13, pen=pg.mkPen(HIGHLIGHT, width=3), brush=None)
        self.plot.addItem(self.marker)
        self.caption = WrappedLabel()
        self.caption.setObjectName(object_name + "Caption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        self.plot.setMinimumHeight(PLOT_MINIMUM_HEIGHT)  # on a short screen the page scrolls instead
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.values = np.zeros(0)
        self.start = 0
        apply_palette(self.plot, self.palette())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.PaletteChange:
            apply_palette(self.plot, self.palette())
        super().changeEvent(event)

    def show_signal(self, values: np.ndarray | None, *, start: int = 0, pads: tuple[int, int] = (0, 0),
                    description: str = "") -> None:
        """Draw ``values`` at positions ``start``, ``start + 1``, …; the first/last ``pads`` are zero padding."""
        self.caption.setText(description)
        if values is None or len(values) == 0:
            self.values = np.zeros(0)
            self.curve.setData([], [])
            self.padding_curve.setData([], [])
            self.region.setVisible(False)
            self.marker.setData([], [])
            return
        self.values, self.start = np.asarray(values, dtype=np.float64), start
        x = np.arange(start, start + len(values))
        inner = slice(pads[0], len(values) - pads[1])
        self.curve.setData(x[inner], self.values[inner])
        outside = np.r_[0 : pads[0], len(values) - pads[1] : len(values)]
        self.padding_curve.setData(x[outside], self.values[outside])
        self.plot.getPlotItem().getViewBox().autoRange(padding=0.04)

    def highlight_span(self, first: float | None, last: float | None = None) -> None:
        """Shade the samples from ``first`` to ``last`` (the kernel's window); None hides it."""
        self.region.setVisible(first is not None)
        if first is not None:
            self.region.setRegion((first - 0.45, (last if last is not None else first) + 0.45))

    def mark(self, position: int | None) -> None:
        """Ring the sample at ``position`` (the current output); None removes the ring."""
        if position is None or not 0 <= position - self.start < len(self.values):
            self.marker.setData([], [])
        else:
            self.marker.setData([position], [self.values[position - self.start]])


def cell_text(value: float) -> str:
    """A value short enough for its cell: 7, -1, 0.33, -12.5 (hovering shows it in full)."""
    value = float(value) + 0.0
    if value == round(value) and abs(value) < 1e6:
        return str(int(round(value)))
    if abs(value) >= 100:
        return f"{value:.0f}"
    text = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return "0" if float(text) == 0 else text


def _header(title: str) -> QLabel:
    """A plot's title as a Qt label: it wraps instead of widening the plot."""
    label = WrappedLabel(title)
    label.setWordWrap(True)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _symmetric_levels(array: np.ndarray) -> tuple[float, float]:
    extent = float(np.max(np.abs(array))) if array.size else 1.0
    extent = extent or 1.0
    return -extent, extent


def _range_levels(array: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(array)), float(np.max(array))
    return (low, high) if high > low else (low - 1.0, high + 1.0)
