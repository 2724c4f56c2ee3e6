"""Drawing an input by hand: white ink on black at the network's input size, like MNIST digits.

Strokes are painted on a canvas ten times finer than the network's input and averaged
down, so lines get MNIST's soft edges. "Centre like MNIST" then does what was done to
the MNIST digits: the drawing is scaled to fit a 20x20 box (of 28x28) and placed so its
centre of mass is in the middle. The widget shows exactly the pixels the network gets.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qthrottled

from .pixel_view import PixelView

FINE = 10  # canvas pixels per network-input pixel
MNIST_BOX = 20 / 28  # MNIST digits fill a 20x20 box of the 28x28 image
THROTTLE_MS = 40  # at most this often, a drawing goes to the network while the pen moves


def _gray_array(image: QImage) -> np.ndarray:
    """A Grayscale8 QImage as an (H, W) uint8 array (copied)."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    return data[:, :width].copy()


def _gray_image(array: np.ndarray) -> QImage:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = array.shape
    return QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def centre_like_mnist(fine: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The drawing scaled into the middle box of an image of `size` (H, W), centred by mass."""
    height, width = size
    rows, cols = np.flatnonzero(fine.any(axis=1)), np.flatnonzero(fine.any(axis=0))
    if not len(rows):
        return np.zeros(size, np.uint8)
    crop = fine[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    box = max(1.0, MNIST_BOX * min(height, width))
    factor = box / max(crop.shape)
    new_w, new_h = max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor))
    small = _gray_array(_gray_image(crop).scaled(new_w, new_h, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
    total = float(small.sum())
    if total <= 0:
        return np.zeros(size, np.uint8)
    ys, xs = np.indices(small.shape)
    centre_y, centre_x = float((ys * small).sum() / total), float((xs * small).sum() / total)
    top, left = round(height / 2 - centre_y - 0.5), round(width / 2 - centre_x - 0.5)
    out = np.zeros(size, np.uint8)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + small.shape[0], height), min(left + small.shape[1], width)
    if y1 > y0 and x1 > x0:
        out[y0:y1, x0:x1] = small[y0 - top:y1 - top, x0 - left:x1 - left]
    return out


class DrawCanvas(PixelView):
    """The canvas itself: left button draws (or erases, with the eraser chosen), right button erases."""

    strokeChanged = Signal()  # the drawing changed (many times per stroke)
    strokeFinished = Signal()  # the mouse button was released

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, minimum=140)
        self.setObjectName("drawCanvas")
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the left mouse button; the right button erases")
        self.brush = 3.0  # in network-input pixels
        self.erasing = False
        self.centred = True
        self._size = (28, 28)
        self._fine = QImage()
        self._last: QPointF | None = None
        self._stroke_erases = False
        self.set_input_size(28, 28)

    # -- state ------------------------------------------------------------------------------------
    def set_input_size(self, height: int, width: int) -> None:
        """Start a blank drawing for a network whose input is `height` x `width` pixels."""
        self._size = (int(height), int(width))
        self._fine = QImage(width * FINE, height * FINE, QImage.Format.Format_Grayscale8)
        self._fine.fill(0)
        self._refresh()

    def input_size(self) -> tuple[int, int]:
        return self._size

    def clear(self) -> None:
        self._fine.fill(0)
        self._refresh()
        self.strokeChanged.emit()
        self.strokeFinished.emit()

    def is_blank(self) -> bool:
        return not self.fine_drawing().any()

    def fine_drawing(self) -> np.ndarray:
        return _gray_array(self._fine)

    def drawing(self) -> np.ndarray:
        """What the network gets: (H, W) uint8, white ink on black."""
        if self.centred:
            return centre_like_mnist(self.fine_drawing(), self._size)
        height, width = self._size
        return _gray_array(self._fine.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def set_centred(self, centred: bool) -> None:
        self.centred = bool(centred)
        self._refresh()
        self.strokeChanged.emit()
        self.strokeFinished.emit()

    # -- drawing ----------------------------------------------------------------------------------
    def stroke(self, points: list[tuple[float, float]], erase: bool = False) -> None:
        """Draw a line through `points`, given in network-input pixels (x, y): for scripts and tests."""
        if not points:
            return
        self._paint([QPointF(x * FINE, y * FINE) for x, y in points], erase, quiet=True)
        self.strokeFinished.emit()

    def _paint(self, fine_points: list[QPointF], erase: bool, quiet: bool = False) -> None:
        painter = QPainter(self._fine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        color = QColor(0, 0, 0) if erase else QColor(255, 255, 255)
        width = self.brush * FINE * (1.6 if erase else 1.0)
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        if len(fine_points) == 1:
            painter.drawPoint(fine_points[0])
        else:
            for a, b in zip(fine_points, fine_points[1:]):
                painter.drawLine(a, b)
        painter.end()
        self._refresh()
        if not quiet:
            self.strokeChanged.emit()

    def _refresh(self) -> None:
        gray = self.drawing()
        rgba = np.empty((*gray.shape, 4), np.uint8)
        rgba[..., :3] = gray[..., None]
        rgba[..., 3] = 255
        self.set_image(rgba)

    def _fine_point(self, pos: QPointF) -> QPointF | None:
        rect = self.image_rect()
        if rect.isEmpty():
            return None
        x = (pos.x() - rect.left()) / rect.width() * self._fine.width()
        y = (pos.y() - rect.top()) / rect.height() * self._fine.height()
        return QPointF(x, y)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return super().mousePressEvent(event)
        self._stroke_erases = self.erasing or event.button() == Qt.MouseButton.RightButton
        self._last = self._fine_point(event.position())
        if self._last is not None:
            self._paint([self._last], self._stroke_erases)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        buttons = event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton)
        point = self._fine_point(event.position())
        if buttons and self._last is not None and point is not None:
            self._paint([self._last, point], self._stroke_erases)
            self._last = point
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._last is not None:
            self._last = None
            self.strokeFinished.emit()
        event.accept()

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        event.accept()  # the right button erases here


class DrawingPad(QWidget):
    """The canvas with its tools: pen, eraser, brush size, centring, clear.

    ``drawn`` carries the drawing (H, W) uint8 at most every few tens of milliseconds while
    the pen moves, and once more when a stroke ends, so predictions follow the pen.
    """

    drawn = Signal(object)
    blank = Signal()  # the drawing was cleared or erased: there is nothing to show the network

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self.canvas = DrawCanvas(self)
        self.pen_button = self._tool("Pen", "Draw white ink (the left mouse button)", checked=True)
        self.eraser_button = self._tool("Eraser", "Erase (the right mouse button erases too)")
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.pen_button)
        group.addButton(self.eraser_button)
        self.eraser_button.toggled.connect(lambda on: setattr(self.canvas, "erasing", on))
        self.clear_button = QToolButton(self, text="Clear", objectName="clearDrawingButton")
        self.clear_button.setToolTip("Start a new drawing")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.brush_slider = QSlider(Qt.Orientation.Horizontal, self, objectName="brushSize")
        self.brush_slider.setAccessibleName("Brush size")
        self.brush_slider.setRange(1, 6)
        self.brush_slider.setValue(int(self.canvas.brush))
        self.brush_slider.setToolTip("Brush size, in pixels of the network's input")
        self.brush_label = QLabel(self)
        self.brush_slider.valueChanged.connect(self._set_brush)
        self.centre_box = QCheckBox("Centre like MNIST", self, objectName="centreDrawing")
        self.centre_box.setChecked(self.canvas.centred)
        self.centre_box.setToolTip("Scale the drawing into the middle 20x20 of 28x28 and centre it by its mass, "
                                   "as the MNIST digits were prepared")
        self.centre_box.toggled.connect(self.canvas.set_centred)
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        for widget in (self.pen_button, self.eraser_button, self.clear_button):
            tools.addWidget(widget)
        tools.addStretch(1)
        brush = QHBoxLayout()
        brush.setContentsMargins(0, 0, 0, 0)
        brush.addWidget(QLabel("Brush", self))
        brush.addWidget(self.brush_slider, 1)
        brush.addWidget(self.brush_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(brush)
        layout.addWidget(self.centre_box)
        self._set_brush(self.brush_slider.value())
        self._sent: np.ndarray | None = None
        self._send_throttled = qthrottled(self._send, timeout=THROTTLE_MS, leading=True, parent=self)
        self.canvas.strokeChanged.connect(self._send_throttled)
        self.canvas.strokeFinished.connect(self._finish)

    def _tool(self, text: str, tip: str, checked: bool = False) -> QToolButton:
        button = QToolButton(self, text=text, checkable=True, checked=checked)
        button.setObjectName(f"{text.lower()}Button")
        button.setToolTip(tip)
        return button

    def _set_brush(self, value: int) -> None:
        self.canvas.brush = float(value)
        self.brush_label.setText(f"{value} px")

    def set_input_size(self, height: int, width: int) -> None:
        if self.canvas.input_size() != (height, width):
            self.canvas.set_input_size(height, width)
            self.centre_box.setEnabled(True)

    def _send(self) -> None:
        drawing = self.canvas.drawing()
        if self._sent is not None and np.array_equal(drawing, self._sent):
            return  # nothing new for the network (e.g. the end of a stroke already sent)
        self._sent = drawing
        if drawing.any():
            self.drawn.emit(drawing)
        else:
            self.blank.emit()

    def send_again(self) -> None:
        """Send the drawing even if it was sent before (e.g. for a new model)."""
        self._sent = None
        self._send()

    def _finish(self) -> None:
        self._send_throttled.cancel()
        self._send()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 360)
