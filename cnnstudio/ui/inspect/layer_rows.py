"""One row per layer in the feature-maps view: a grid of maps for convolution and pooling layers,
a bar chart for flat layers (Dense, Flatten, global pooling), always with the layer's id, type
and output shape."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from ..theme import ERROR_COLOR
from . import colors
from .pixel_view import Mark, PixelView
from .plots import QuietPlot, palette_color
from .tiles import TileLayout, tile

MAP_SIZES = {"small": 44, "medium": 72, "large": 120}  # about this many screen pixels per map
LINE_ABOVE = 4096  # flat layers with more values are drawn as a filled line, not bars
MAP_GAP = 3  # screen pixels between maps


def shape_text(shape: tuple) -> str:
    return "×".join("?" if s is None else str(s) for s in shape) or "?"


def header_text(name: str, kind: str, shape: tuple, extra: str = "") -> str:
    more = f" — {extra}" if extra else ""
    return f"<b>{name}</b> · {kind} · {shape_text(shape)}{more}"


class LayerRow(QWidget):
    """Base: a header line above the layer's picture."""

    hovered = Signal(str)  # a line describing the value under the mouse ("" when it leaves)
    exportRequested = Signal(str)  # the layer whose output the user wants as a .npy file

    def __init__(self, name: str, kind: str, shape: tuple, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.kind, self.shape = name, kind, tuple(shape)
        self.setObjectName(f"layerRow_{name}")
        self.header = QLabel(header_text(name, kind, shape), self)
        self.header.setWordWrap(True)
        self.header.setToolTip("Right-click to export this layer's output as a .npy file")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(6, 8, 6, 4)
        self.body.setSpacing(3)
        self.body.addWidget(self.header)
        self.values: np.ndarray | None = None

    def set_values(self, values: np.ndarray | None, order: np.ndarray | None = None) -> None:
        self.values = None if values is None else np.asarray(values)

    def describe(self, extra: str) -> None:
        self.header.setText(header_text(self.name, self.kind, self.shape, extra))

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        if self.values is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Export {self.name}'s Output as .npy…", lambda: self.exportRequested.emit(self.name))
        menu.exec(event.globalPos())


class MapsRow(LayerRow):
    """Feature maps of one layer as one tiled image, busiest channel first."""

    positionClicked = Signal(str, int, int, int)  # layer, channel, row, col

    def __init__(self, name: str, kind: str, shape: tuple, parent: QWidget | None = None) -> None:
        super().__init__(name, kind, shape, parent)
        self.view = PixelView(self, zoom=1, minimum=40)  # the maps come enlarged already
        self.view.frame = False
        self.view.setObjectName(f"maps_{name}")
        self.body.addWidget(self.view)
        self.order = np.zeros(0, np.int64)
        self.tiles = np.zeros((0, 1, 1), np.float32)  # (maps, h, w) in the order shown
        self.layout_: TileLayout | None = None
        self.shared_scale = False
        self.map_size = MAP_SIZES["medium"]
        self.selected: tuple[int, int, int] | None = None  # (channel, row, col)
        self.view.hovered.connect(self._hover)
        self.view.clicked.connect(self._click)

    @property
    def is_sequence(self) -> bool:
        return len(self.shape) == 2

    def set_values(self, values: np.ndarray | None, order: np.ndarray | None = None) -> None:
        super().set_values(values)
        if values is None:
            self.tiles = np.zeros((0, 1, 1), np.float32)
            self.view.set_image(None)
            return
        values = np.asarray(values, dtype=np.float32)
        if self.is_sequence:  # (length, channels): one picture, a row per channel
            self.order = np.arange(values.shape[-1])
            self.tiles = values.T[None]
        else:
            self.order = np.asarray(order if order is not None else np.arange(values.shape[-1]))
            self.tiles = np.moveaxis(values, -1, 0)[self.order]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        count = len(self.order) if not self.is_sequence else 1
        what = "channels as rows" if self.is_sequence else (
            f"{count} map{'s' * (count != 1)}{', busiest first' if count > 1 else ''}")
        self.describe(f"{what}; values {low:.3g} to {high:.3g}")
        self.redraw()

    def set_style(self, shared_scale: bool, map_size: int) -> None:
        self.shared_scale, self.map_size = shared_scale, map_size
        self.redraw()

    def redraw(self) -> None:
        if not len(self.tiles):
            return
        n, h, w = self.tiles.shape
        width = max(self.width(), 200) - 12
        zoom = int(np.clip(round(self.map_size / max(h, w)), 1, 16))
        if self.is_sequence:
            zoom = max(1, min(zoom, width // max(w, 1)))
        columns = max(1, (width + MAP_GAP) // (zoom * w + MAP_GAP))
        self.layout_ = TileLayout(n, h, w, min(columns, n), gap=MAP_GAP, cell=zoom)
        self.view.set_image(tile(self._coloured_tiles(), self.layout_))
        self._mark_selected()

    def _coloured_tiles(self) -> np.ndarray:
        """The maps coloured at their own resolution (n, h, w, 4): one scale per map or per layer."""
        signed = bool(self.tiles.min() < 0) if self.tiles.size else False
        if self.shared_scale or len(self.tiles) == 1:
            if signed:
                return colors.diverging(self.tiles, float(np.abs(self.tiles).max()))
            return colors.sequential(self.tiles, 0.0, float(self.tiles.max()))
        scaled = self._each_map_scaled(signed)
        return colors.diverging(scaled, 1.0) if signed else colors.sequential(scaled, 0.0, 1.0)

    def _each_map_scaled(self, signed: bool) -> np.ndarray:
        if signed:
            return self.tiles / colors.largest_magnitude(self.tiles)[:, None, None]
        peak = self.tiles.reshape(len(self.tiles), -1).max(axis=1)
        return self.tiles / np.where(peak > 0, peak, 1.0)[:, None, None]

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.layout_ is not None and event.oldSize().width() != event.size().width():
            self.redraw()

    # -- mouse ------------------------------------------------------------------------------------
    def _locate(self, pixel: tuple[float, float] | None) -> tuple[int, int, int] | None:
        """(channel, row, col) under an image pixel of the tiled picture ((channel, position, 0) for
        sequences)."""
        if pixel is None or self.layout_ is None:
            return None
        found = self.layout_.locate(*pixel)
        if found is None:
            return None
        index, row, col = found
        if self.is_sequence:  # the picture is (channels, length)
            return row, col, 0
        return int(self.order[index]), row, col

    def _hover(self, pixel) -> None:
        found = self._locate(pixel)
        if found is None or self.values is None:
            self.hovered.emit("")
            return
        channel, row, col = found
        if self.is_sequence:  # row holds the position along the sequence
            self.hovered.emit(f"{self.name}, channel {channel}, position {row}: {self.values[row, channel]:.4g}")
        else:
            value = self.values[row, col, channel]
            self.hovered.emit(f"{self.name}, map {channel}, row {row}, column {col}: {value:.4g} "
                              "— click to see what this position looks at")

    def _click(self, x: int, y: int) -> None:
        found = self._locate((x, y))
        if found is not None and not self.is_sequence:
            channel, row, col = found
            self.positionClicked.emit(self.name, channel, row, col)

    def select(self, channel: int | None, row: int = 0, col: int = 0) -> None:
        self.selected = None if channel is None else (channel, row, col)
        self._mark_selected()

    def _mark_selected(self) -> None:
        if self.selected is None or self.layout_ is None or self.is_sequence:
            self.view.set_marks([])
            return
        channel, row, col = self.selected
        where = np.flatnonzero(self.order == channel)
        if not len(where):
            self.view.set_marks([])
            return
        x, y = self.layout_.pixel(int(where[0]), row, col)
        cell = self.layout_.cell
        self.view.set_marks([Mark(x, y, cell, cell, "#ffb000")])

    def shown_maps(self) -> np.ndarray:
        """The maps as drawn, (maps, h, w), in the order shown (see `order`)."""
        return self.tiles


class BarsRow(LayerRow):
    """A flat layer's values as bars (one per unit)."""

    def __init__(self, name: str, kind: str, shape: tuple, parent: QWidget | None = None) -> None:
        super().__init__(name, kind, shape, parent)
        self.plot = QuietPlot(self)
        self.plot.setObjectName(f"bars_{name}")
        self.plot.setFixedHeight(96)
        item = self.plot.getPlotItem()
        # one item per sign, each with one brush: thousands of bars stay fast to draw
        self.positive = pg.BarGraphItem(x=[], height=[], width=0.85, pen=None)
        self.negative = pg.BarGraphItem(x=[], height=[], width=0.85, pen=None, brush=pg.mkBrush(ERROR_COLOR))
        self.line = pg.PlotDataItem()
        for part in (self.positive, self.negative, self.line):
            item.addItem(part)
        self.body.addWidget(self.plot)
        self.plot.hide()  # until there are values
        self.plot.scene().sigMouseMoved.connect(self._hover)

    def set_values(self, values: np.ndarray | None, order: np.ndarray | None = None) -> None:
        super().set_values(values)
        self.plot.setVisible(values is not None)
        if values is None:
            for bars in (self.positive, self.negative):
                bars.setOpts(x=[], height=[])
            self.line.setData([], [])
            return
        v = np.asarray(values, dtype=np.float32).reshape(-1)
        x = np.arange(len(v))
        color = palette_color(self, QPalette.ColorRole.Highlight)
        if len(v) > LINE_ABOVE:
            for bars in (self.positive, self.negative):
                bars.setOpts(x=[], height=[])
            self.line.setData(x, v, pen=pg.mkPen(color), fillLevel=0, brush=pg.mkBrush(color))
        else:
            self.line.setData([], [])
            self.positive.setOpts(x=x, height=np.maximum(v, 0), width=0.85, brush=pg.mkBrush(color))
            self.negative.setOpts(x=x, height=np.minimum(v, 0), width=0.85)
        item = self.plot.getPlotItem()
        item.setXRange(-0.5, len(v) - 0.5, padding=0.01)
        low, high = min(0.0, float(v.min())), max(0.0, float(v.max()))
        item.setYRange(low, high if high > low else low + 1.0, padding=0.05)
        top = int(np.argmax(v)) if len(v) else 0
        active = int((v > 0).sum())
        self.describe(f"values {v.min():.3g} to {v.max():.3g}; largest: unit {top}; {active} of {len(v)} above 0")

    def _hover(self, scene_pos: QPointF) -> None:
        if self.values is None:
            return
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(scene_pos)
        unit = int(round(point.x()))
        v = self.values.reshape(-1)
        if 0 <= unit < len(v):
            self.hovered.emit(f"{self.name}, unit {unit}: {v[unit]:.4g}")

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.hovered.emit("")
        super().leaveEvent(event)


class NoteRow(LayerRow):
    """A layer whose output cannot be drawn (3-D maps, a layer used twice): the header only."""

    def set_values(self, values: np.ndarray | None, order: np.ndarray | None = None) -> None:
        super().set_values(values)
        if values is not None:
            self.describe("not drawn (outputs with more than two spatial axes)")


def make_row(name: str, kind: str, shape: tuple, parent: QWidget | None = None) -> LayerRow:
    """The right kind of row for a layer's output shape (without the batch axis)."""
    if len(shape) in (2, 3):
        return MapsRow(name, kind, shape, parent)
    if len(shape) == 1:
        return BarsRow(name, kind, shape, parent)
    return NoteRow(name, kind, shape, parent)
