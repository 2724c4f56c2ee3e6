"""One filter enlarged, with its weights written in the cells (for kernels up to 9x9), its bias
and a few figures; step through its input channels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from ..plotting import menus_owned_by
from . import colors
from .filter_sets import AVERAGE, RGB, FilterPicture
from .plots import palette_color, style_view

MOST_NUMBERS = 81  # cells with their value written in (9x9)


class FilterDetail(QWidget):
    """The enlarged filter the user clicked in the grid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterDetail")
        self.picture: FilterPicture | None = None
        self.filter_index: int | None = None
        self.kernel: np.ndarray | None = None  # the 2-D kernel shown (kh, kw)
        self.heading = QLabel("Click a filter to see its weights.", self, objectName="filterHeading")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-weight: 600;")
        self.channel_combo = QComboBox(self, objectName="filterChannel")
        self.channel_combo.setAccessibleName("Input channel")
        self.channel_combo.setToolTip("Which input channel of the filter to show")
        self.copy_button = QPushButton("Copy Numbers", self, objectName="copyFilter")
        self.copy_button.setToolTip("Copy the weights shown, tab-separated, to paste into a spreadsheet")
        self.copy_button.setEnabled(False)
        with menus_owned_by(self):
            self.view = pg.GraphicsLayoutWidget(self)
            self.view.setObjectName("filterEnlarged")
            self.view.setMinimumSize(220, 220)
            style_view(self.view)
            self.box = self.view.addViewBox(lockAspect=True, enableMouse=False, invertY=True, enableMenu=False)
            self.image = pg.ImageItem(axisOrder="row-major")
            self.box.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self.figures = QLabel(self, objectName="filterFigures")
        self.figures.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Channel", self))
        row.addWidget(self.channel_combo, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.figures)
        self.channel_combo.currentIndexChanged.connect(lambda _i: self._draw())
        self.copy_button.clicked.connect(self.copy_numbers)

    def clear(self) -> None:
        self.picture, self.filter_index, self.kernel = None, None, None
        self.image.clear()
        self._clear_texts()
        self.heading.setText("Click a filter to see its weights.")
        self.figures.setText("")
        self.copy_button.setEnabled(False)
        with signals_blocked(self.channel_combo):
            self.channel_combo.clear()

    def show_filter(self, picture: FilterPicture, filter_index: int, channel: int | None = None) -> None:
        """Show filter `filter_index` of `picture` (at input channel `channel` when it has several)."""
        same = self.picture is not None and self.picture.layer == picture.layer \
            and self.picture.mode == picture.mode and self.filter_index == filter_index
        keep = self.channel_combo.currentData() if same and channel is None else channel
        self.picture, self.filter_index = picture, filter_index
        tiles = picture.filter_values(filter_index)
        with signals_blocked(self.channel_combo):
            self.channel_combo.clear()
            if picture.mode == RGB:
                for i, name in enumerate(("red", "green", "blue")):
                    self.channel_combo.addItem(f"{name} (channel {i})", i)
            elif picture.mode == AVERAGE and len(picture.channels) and picture.channels[0] == -1:
                self.channel_combo.addItem("average of the input channels", -1)
            else:
                for i in range(len(tiles)):
                    self.channel_combo.addItem(f"channel {i}", i)
            found = self.channel_combo.findData(keep) if keep is not None else 0
            self.channel_combo.setCurrentIndex(max(found, 0))
        self.channel_combo.setEnabled(self.channel_combo.count() > 1)
        self._draw()

    def _draw(self) -> None:
        picture, index = self.picture, self.filter_index
        if picture is None or index is None:
            return
        tiles = picture.filter_values(index)
        channel = self.channel_combo.currentData()
        if picture.mode == RGB:
            kernel = tiles[0][..., int(channel or 0)]
        else:
            kernel = tiles[max(int(channel), 0) if channel is not None and channel >= 0 else 0]
        self.kernel = np.asarray(kernel, dtype=np.float32)
        scale = float(picture.scale[picture.filters == index][0]) if picture.scale.size else 1.0
        self.image.setImage(colors.diverging(self.kernel, scale), autoLevels=False)
        self.box.autoRange(padding=0.02)
        self._write_numbers(self.kernel, scale)
        count = int(picture.filters.max()) + 1 if picture.filters.size else 0
        where = "" if channel is None or channel == -1 else f", input channel {channel}"
        self.heading.setText(f"{picture.layer}: filter {index} of {count}{where}")
        self.figures.setText(self._figures(picture, index))
        self.copy_button.setEnabled(True)

    def _write_numbers(self, kernel: np.ndarray, scale: float) -> None:
        self._clear_texts()
        kh, kw = kernel.shape
        if kh * kw > MOST_NUMBERS:
            return
        points = max(6, min(12, int(48 / max(kh, kw))))
        for r in range(kh):
            for c in range(kw):
                value = float(kernel[r, c])
                strong = abs(value) > 0.6 * scale
                text = pg.TextItem(f"{value:.2f}", color="#ffffff" if strong else "#202020", anchor=(0.5, 0.5))
                font = text.textItem.font()
                font.setPointSize(points)
                text.setFont(font)
                text.setPos(c + 0.5, r + 0.5)
                self.box.addItem(text)
                self._texts.append(text)

    def _clear_texts(self) -> None:
        for text in self._texts:
            self.box.removeItem(text)
        self._texts.clear()

    def _figures(self, picture: FilterPicture, index: int) -> str:
        weights = picture.filter_values(index)
        parts = []
        if picture.biases is not None and index < len(picture.biases):
            parts.append(f"bias {float(picture.biases[index]):+.4f}")
        else:
            parts.append("no bias")
        what = "averaged weights" if picture.mode == AVERAGE else "weights"
        parts.append(f"{what} {float(weights.min()):+.4f} to {float(weights.max()):+.4f}")
        parts.append(f"sum {float(weights.sum()):+.4f}")
        parts.append(f"L2 norm {float(np.sqrt((weights.astype(np.float64) ** 2).sum())):.4f}")
        return " · ".join(parts)

    def copy_numbers(self) -> None:
        if self.kernel is not None:
            text = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in self.kernel)
            QGuiApplication.clipboard().setText(text)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == event.Type.PaletteChange:
            self.view.setBackground(palette_color(self, QPalette.ColorRole.Base))
        super().changeEvent(event)
