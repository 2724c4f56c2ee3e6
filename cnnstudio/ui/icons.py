"""Icons drawn from the SVG files in ``resources/icons``, tinted for the current palette.

The files use ``currentColor``; toolbar icons take the palette's text colour (so
they read in light and dark mode), layer icons take their category's colour.
"""

from __future__ import annotations

from functools import cache, lru_cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from cnnstudio.paths import resources_dir

from .theme import ERROR_COLOR, OK_COLOR, WARNING_COLOR, category_color

DISABLED_OPACITY = 0.35
CATEGORY_ICONS = {
    "Input": "cat-input",
    "Convolution": "cat-convolution",
    "Pooling": "cat-pooling",
    "Core": "cat-core",
    "Normalization & regularization": "cat-normalization",
    "Activation": "cat-activation",
    "Merge": "cat-merge",
    "Reshaping": "cat-reshaping",
    "Preprocessing & augmentation": "cat-preprocessing",
}


@cache
def _svg_text(name: str) -> str:
    return (resources_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def _icon(name: str, color: str) -> QIcon:
    data = QByteArray(_svg_text(name).replace("currentColor", color).encode("utf-8"))
    renderer = QSvgRenderer(data)
    icon = QIcon()
    for size in (16, 24, 32, 48, 64):
        # Disabled: the same drawing faded, which reads as off on light and dark alike (the style's
        # own disabled icons barely differ from the enabled ones in dark mode).
        for mode, opacity in ((QIcon.Mode.Normal, 1.0), (QIcon.Mode.Disabled, DISABLED_OPACITY)):
            image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setOpacity(opacity)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            icon.addPixmap(QPixmap.fromImage(image), mode)
    return icon


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """An icon from ``resources/icons/<name>.svg`` in ``color`` (default: the text colour)."""
    if color is None:
        color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    if isinstance(color, QColor):
        color = color.name()
    return _icon(name, color)


def category_icon(category: str) -> QIcon:
    return icon(CATEGORY_ICONS.get(category, "cat-core"), category_color(category))


def severity_icon(severity: str) -> QIcon:
    if severity == "error":
        return icon("error", ERROR_COLOR)
    if severity == "warning":
        return icon("warning", WARNING_COLOR)
    if severity == "ok":
        return icon("ok", OK_COLOR)
    return icon("info")


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "cnnstudio.svg"))
