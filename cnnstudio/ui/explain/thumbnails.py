"""A grid of small pictures with captions (a confusion cell's images, optimised filter images).

Pictures are enlarged with nearest-neighbour sampling so 28x28 digits stay crisp.
Clicking one emits ``chosen(key)`` with the key it was added under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from .imaging import icon_for

KEY_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Thumbnail:
    rgb: np.ndarray  # (H, W, 3) float in [0, 1]
    caption: str
    key: Any
    tooltip: str = ""


class ThumbnailGrid(QListWidget):
    chosen = Signal(object)

    def __init__(self, icon_size: int = 72, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSpacing(4)
        self.set_icon_size(icon_size)
        self.itemClicked.connect(lambda item: self.chosen.emit(item.data(KEY_ROLE)))
        self.itemActivated.connect(lambda item: self.chosen.emit(item.data(KEY_ROLE)))

    def set_icon_size(self, size: int) -> None:
        self._size = size
        self.setIconSize(QSize(size, size))
        metrics = self.fontMetrics()
        caption = metrics.horizontalAdvance("0.0000 (noise 0.0000)") + 16  # captions stay whole
        self.setGridSize(QSize(max(size + 24, caption), size + 2 * metrics.height() + 12))

    def set_thumbnails(self, thumbnails: Iterable[Thumbnail]) -> None:
        self.clear()
        for thumb in thumbnails:
            item = QListWidgetItem(icon_for(thumb.rgb, self._size), thumb.caption)
            item.setData(KEY_ROLE, thumb.key)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            if thumb.tooltip:
                item.setToolTip(thumb.tooltip)
            self.addItem(item)

    def keys(self) -> list[Any]:
        return [self.item(i).data(KEY_ROLE) for i in range(self.count())]

    def captions(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
