"""A grid of sample images with their class names, drawn pixel-exact (no smoothing)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

COLUMNS = 8
GAP = 6


def to_rgb8(image: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """One (H, W, C) image as (H, W, 3) uint8 for display.

    ``value_range`` maps to black..white; None stretches this image's own min..max
    (for standardized values, which have no fixed range). One channel shows grey; two or
    more than three channels show the first.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    lo, hi = value_range if value_range is not None else (float(np.nanmin(x)), float(np.nanmax(x)))
    span = hi - lo if hi > lo else 1.0
    x = np.clip((np.nan_to_num(x) - lo) / span, 0.0, 1.0)
    x = np.repeat(x[..., :1], 3, axis=-1) if x.shape[-1] != 3 else x
    return np.ascontiguousarray((x * 255.0 + 0.5).astype(np.uint8))


def qimage(rgb: np.ndarray) -> QImage:
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class SampleGrid(QWidget):
    """Thumbnails in rows of eight, each with its label underneath; hover names the class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sampleGrid")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)
        self._images: list[QImage] = []
        self._labels: list[str] = []
        self._placeholder = "No images yet"

    # ------------------------------------------------------------------ data
    def set_samples(self, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...],
                    value_range: tuple[float, float] | None) -> None:
        """Show images (N, H, W, C) with their integer labels (no caption for masks, 0/1 labels or values)."""
        self._images = [qimage(to_rgb8(img, value_range)) for img in images]
        if np.ndim(labels) != 1:
            self._labels = [""] * len(self._images)
        else:
            self._labels = [class_names[int(y)] if 0 <= int(y) < len(class_names) else str(int(y)) for y in labels]
        self.updateGeometry()
        self.update()

    def clear(self, placeholder: str = "No images yet") -> None:
        self._images, self._labels = [], []
        self._placeholder = placeholder
        self.updateGeometry()
        self.update()

    @property
    def count(self) -> int:
        return len(self._images)

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    # ------------------------------------------------------------------ geometry
    def _cell(self) -> int:
        return max(24, (self.width() - GAP * (COLUMNS - 1)) // COLUMNS)

    def _caption_height(self) -> int:
        return QFontMetrics(self.font()).height() + 2

    def _rows(self) -> int:
        return max(1, -(-len(self._images) // COLUMNS))

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        if not self._images:
            return 60
        cell = max(24, (width - GAP * (COLUMNS - 1)) // COLUMNS)
        return self._rows() * (cell + self._caption_height() + GAP)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(8 * 48, self.heightForWidth(8 * 48))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(8 * 24, self.heightForWidth(8 * 24))

    def _rect(self, index: int) -> QRect:
        cell, caption = self._cell(), self._caption_height()
        row, column = divmod(index, COLUMNS)
        return QRect(column * (cell + GAP), row * (cell + caption + GAP), cell, cell)

    def index_at(self, point: QPoint) -> int | None:
        for i in range(len(self._images)):
            if self._rect(i).adjusted(0, 0, 0, self._caption_height()).contains(point):
                return i
        return None

    # ------------------------------------------------------------------ drawing
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.height() != self.heightForWidth(self.width()):
            self.setMinimumHeight(self.heightForWidth(self.width()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        if not self._images:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        metrics = QFontMetrics(self.font())
        caption = self._caption_height()
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        for i, (image, label) in enumerate(zip(self._images, self._labels, strict=True)):
            rect = self._rect(i)
            painter.drawImage(rect, image)
            text_rect = QRect(rect.left(), rect.bottom() + 1, rect.width(), caption)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             metrics.elidedText(label, Qt.TextElideMode.ElideRight, rect.width()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        index = self.index_at(event.position().toPoint())
        if index is None:
            QToolTip.hideText()
        else:
            image = self._images[index]
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"{self._labels[index]} ({image.width()}x{image.height()} pixels)", self)
        super().mouseMoveEvent(event)
