"""Turning network inputs and heat maps into pictures: display scaling, colour maps, overlays, icons.

Network inputs are prepared as training data were (often standardised, so values may
be negative); for display each image is stretched to its own range. Heat maps are
already in [0, 1] (1 = most important) and are coloured with a perceptual colour map.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPixmap

HEAT_COLORMAP = "inferno"  # perceptually uniform, dark = unimportant, bright = important


def display_image(image: np.ndarray) -> np.ndarray:
    """(H, W, C) network input -> (H, W, 3) float RGB in [0, 1], stretched to its own min..max.

    One channel becomes grey, three are shown as colour, others show their first channel."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    x = x[..., :3] if x.shape[-1] >= 3 else x[..., :1]
    low, high = float(x.min()), float(x.max())
    x = (x - low) / (high - low) if high > low else np.full_like(x, 0.5)
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def heat_colors(heatmap: np.ndarray, colormap: str = HEAT_COLORMAP) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) float RGB through the colour map."""
    heat = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    rgba = pg.colormap.get(colormap).map(heat.ravel(), mode="float")
    return np.asarray(rgba, dtype=np.float32)[:, :3].reshape(*heat.shape, 3)


def overlay(image: np.ndarray, heatmap: np.ndarray, opacity: float, colormap: str = HEAT_COLORMAP) -> np.ndarray:
    """The input with the coloured heat map laid over it: (H, W, 3) float RGB in [0, 1].

    Each pixel's cover is `opacity` x its heat, so unimportant regions keep showing the
    image and the important ones take the map's colour."""
    base = display_image(image)
    heat = np.clip(np.asarray(heatmap, dtype=np.float32), 0.0, 1.0)
    if heat.shape != base.shape[:2]:
        raise ValueError(f"heat map {heat.shape} does not match the image {base.shape[:2]}")
    cover = (float(np.clip(opacity, 0.0, 1.0)) * heat)[..., None]
    return base * (1.0 - cover) + heat_colors(heat, colormap) * cover


def to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) float RGB in [0, 1] -> an independent QImage (RGB888)."""
    data = np.ascontiguousarray(np.clip(np.asarray(rgb) * 255.0 + 0.5, 0, 255).astype(np.uint8))
    height, width = data.shape[:2]
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def pixmap_for(rgb: np.ndarray, size: int) -> QPixmap:
    """A sharp (nearest-neighbour) picture scaled to fit `size` x `size` pixels."""
    return QPixmap.fromImage(to_qimage(rgb)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


def icon_for(rgb: np.ndarray, size: int) -> QIcon:
    """A sharp (nearest-neighbour) square icon of `size` pixels: small images must stay readable."""
    pixmap = QPixmap.fromImage(to_qimage(rgb)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
    return QIcon(pixmap)
