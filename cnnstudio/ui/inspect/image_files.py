"""Reading a user's own picture (PNG, JPEG, ...) into an array, with plain words when it fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QImageReader, QPainter

from cnnstudio.core.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_picture(path: str | Path, invert: bool = False) -> np.ndarray:
    """The picture at `path` as uint8 pixels: (H, W) for grey pictures, (H, W, 3) for colour ones.

    Transparent parts are shown on white, as image viewers show them. `invert` turns dark ink
    on white paper into the white-on-black of MNIST.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"there is no file {path}")
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # photos keep the orientation the camera recorded
    image = reader.read()
    if image.isNull():
        reason = reader.errorString().rstrip(".").lower() or "unknown problem"
        raise UserError(f"{path.name} is not a picture CNN Studio can read ({reason}); "
                        "open a PNG or JPEG image")
    if image.hasAlphaChannel():
        flat = QImage(image.size(), QImage.Format.Format_RGB32)
        flat.fill(Qt.GlobalColor.white)
        painter = QPainter(flat)
        painter.drawImage(0, 0, image)
        painter.end()
        image = flat
    grey = image.isGrayscale()
    image = image.convertToFormat(QImage.Format.Format_Grayscale8 if grey else QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    pixels = data[:, :width].copy() if grey else data[:, :width * 3].reshape(height, width, 3).copy()
    return 255 - pixels if invert else pixels
