"""A widget that shows a small image enlarged with sharp pixels, with marked rectangles on top.

Network inputs and feature maps are tiny (28x28): they must be blown up without blur, and
a mouse position must map back to the exact pixel. Used for the input image (with its
receptive-field box), the feature-map grids and the drawing canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


@dataclass(frozen=True)
class Mark:
    """A rectangle in image pixels (x, y, width, height) drawn over the image; with `fill`, the rest
    of the image is dimmed."""

    x: float
    y: float
    width: float
    height: float
    color: str = "#ffb000"
    fill: bool = False


def to_qimage(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 RGBA -> a QImage that owns its pixels."""
    data = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width = data.shape[:2]
    return QImage(data.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


class PixelView(QWidget):
    """Shows an RGBA image as large as fits (or at a fixed zoom), pixels kept square and sharp."""

    hovered = Signal(object)  # (x, y) image pixel under the mouse, or None when it leaves the image
    clicked = Signal(int, int)  # x, y image pixel of a left click

    def __init__(self, parent: QWidget | None = None, *, zoom: int | None = None, minimum: int = 64) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self._image = QImage()
        self._array: np.ndarray | None = None
        self._zoom = zoom  # None: fit the widget
        self._minimum = minimum
        self.marks: list[Mark] = []
        self.frame = True
        self.setSizePolicy(QSizePolicy.Policy.Expanding,
                           QSizePolicy.Policy.Fixed if zoom else QSizePolicy.Policy.Expanding)

    # -- content ----------------------------------------------------------------------------------
    def set_image(self, rgba: np.ndarray | None) -> None:
        self._array = None if rgba is None else np.asarray(rgba)
        self._image = QImage() if rgba is None else to_qimage(rgba)
        if self._zoom:
            self.updateGeometry()
            self.setFixedHeight(self.sizeHint().height())
        self.update()

    def image_array(self) -> np.ndarray | None:
        """The RGBA pixels shown (before enlarging)."""
        return self._array

    def image_size(self) -> QSize:
        return self._image.size()

    def set_zoom(self, zoom: int | None) -> None:
        self._zoom = zoom
        self.set_image(self._array)

    def set_marks(self, marks: list[Mark]) -> None:
        self.marks = list(marks)
        self.update()

    # -- geometry ---------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802
        if self._zoom:  # as large as the enlarged image (nothing while there is none)
            if self._image.isNull():
                return QSize(self._minimum, 0)
            return QSize(self._image.width() * self._zoom + 2, self._image.height() * self._zoom + 2)
        return QSize(self._minimum * 3, self._minimum * 3)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        if self._zoom:
            return QSize(self._minimum, self.sizeHint().height())
        return QSize(self._minimum, self._minimum)

    def image_rect(self) -> QRectF:
        """Where the image lies in the widget (centred, whole pixels per image pixel when possible)."""
        if self._image.isNull():
            return QRectF()
        w, h = self._image.width(), self._image.height()
        if self._zoom:
            scale = float(self._zoom)
        else:
            scale = min((self.width() - 2) / w, (self.height() - 2) / h)
            if scale >= 1:
                scale = float(int(scale))
        scale = max(scale, 1e-6)
        left = (self.width() - w * scale) / 2 if not self._zoom else 1.0
        top = (self.height() - h * scale) / 2
        return QRectF(left, top, w * scale, h * scale)

    def to_pixel(self, pos: QPointF) -> tuple[float, float] | None:
        """Image pixel coordinates (fractional) of a widget position, None outside the image."""
        rect = self.image_rect()
        if rect.isEmpty() or not rect.contains(pos):
            return None
        x = (pos.x() - rect.left()) / rect.width() * self._image.width()
        y = (pos.y() - rect.top()) / rect.height() * self._image.height()
        return min(x, self._image.width() - 1e-3), min(y, self._image.height() - 1e-3)

    def to_widget(self, x: float, y: float) -> QPointF:
        """The widget position of image pixel coordinates (x, y)."""
        rect = self.image_rect()
        return QPointF(rect.left() + x * rect.width() / max(self._image.width(), 1),
                       rect.top() + y * rect.height() / max(self._image.height(), 1))

    # -- events -----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        rect = self.image_rect()
        if not rect.isEmpty():
            painter.drawImage(rect, self._image)
            if self.frame:
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
                painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        self.paint_overlay(painter, rect)
        painter.end()

    def paint_overlay(self, painter: QPainter, rect: QRectF) -> None:
        """Draw the marks; subclasses add more."""
        if rect.isEmpty():
            return
        for mark in self.marks:
            top_left = self.to_widget(mark.x, mark.y)
            bottom_right = self.to_widget(mark.x + mark.width, mark.y + mark.height)
            box = QRectF(top_left, bottom_right)
            color = QColor(mark.color)
            if mark.fill:  # dim everything outside the mark, so the marked pixels stand out
                outside = QPainterPath()
                outside.addRect(rect)
                inside = QPainterPath()
                inside.addRect(box)
                painter.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 150))
            painter.setPen(QPen(color, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.hovered.emit(self.to_pixel(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.hovered.emit(None)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            pixel = self.to_pixel(event.position())
            if pixel is not None:
                self.clicked.emit(int(pixel[0]), int(pixel[1]))
                event.accept()
                return
        super().mousePressEvent(event)
