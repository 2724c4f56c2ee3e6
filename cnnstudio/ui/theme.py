"""Light and dark appearance: the application palette and the canvas colours.

The appearance follows the system (``QStyleHints.colorScheme``) unless the user
picks Light or Dark in View > Appearance. Colours are always read from the
current palette, so every panel repaints correctly when the scheme changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SYSTEM, LIGHT, DARK = "system", "light", "dark"
APPEARANCES = (SYSTEM, LIGHT, DARK)

CATEGORY_COLORS = {
    "Input": "#2f9e5b",
    "Convolution": "#3a72d8",
    "Pooling": "#1497a3",
    "Core": "#8b50d4",
    "Normalization & regularization": "#7a8a24",
    "Activation": "#e0791c",
    "Merge": "#cf4477",
    "Reshaping": "#9a6b45",
    "Preprocessing & augmentation": "#5b6e82",
}

ERROR_COLOR = "#d93636"
WARNING_COLOR = "#d99a0b"
OK_COLOR = "#2f9e5b"


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, "#777777"))


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    return app is not None and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    """A calm dark palette for Fusion (Linux has no native dark style to lean on)."""
    p = QPalette()
    window, base, text = QColor("#2b2d31"), QColor("#1f2124"), QColor("#e6e6e6")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#26282c"),
        QPalette.ColorRole.ToolTipBase: QColor("#3a3d42"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8c8f94"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#33363b"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Light: QColor("#45484e"),
        QPalette.ColorRole.Midlight: QColor("#3b3e43"),
        QPalette.ColorRole.Mid: QColor("#2a2c30"),
        QPalette.ColorRole.Dark: QColor("#18191c"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
        QPalette.ColorRole.Highlight: QColor("#3d7be0"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#6ea8ff"),
        QPalette.ColorRole.LinkVisited: QColor("#b48cff"),
    }
    for role, color in roles.items():
        p.setColor(role, color)
    disabled = QColor("#7a7d82")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply_appearance(appearance: str = SYSTEM) -> None:
    """Set the application palette for ``appearance`` (system, light or dark)."""
    app = QApplication.instance()
    if app is None:
        return
    want_dark = appearance == DARK or (appearance == SYSTEM and system_is_dark())
    if hasattr(app.styleHints(), "setColorScheme"):  # Qt >= 6.8: native styles follow too
        scheme = {LIGHT: Qt.ColorScheme.Light, DARK: Qt.ColorScheme.Dark}.get(
            appearance, Qt.ColorScheme.Unknown
        )
        app.styleHints().setColorScheme(scheme)
    style_palette = app.style().standardPalette()
    if want_dark and not is_dark(style_palette):
        app.setPalette(dark_palette())
    else:
        app.setPalette(style_palette)


@dataclass(frozen=True)
class CanvasColors:
    background: QColor
    grid: QColor
    grid_major: QColor
    node: QColor
    node_header: QColor
    node_border: QColor
    text: QColor
    muted: QColor
    selection: QColor
    edge: QColor
    edge_selected: QColor
    label_background: QColor
    accept: QColor
    refuse: QColor
    error: QColor
    warning: QColor


def canvas_colors(palette: QPalette | None = None) -> CanvasColors:
    palette = palette or QGuiApplication.palette()
    dark = is_dark(palette)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    if dark:
        return CanvasColors(
            background=QColor("#1c1e21"),
            grid=QColor("#25282c"),
            grid_major=QColor("#2e3237"),
            node=QColor("#2d3035"),
            node_header=QColor("#34383e"),
            node_border=QColor("#4a4f57"),
            text=QColor("#ececec"),
            muted=QColor("#a4a9b0"),
            selection=highlight.lighter(120),
            edge=QColor("#8a9099"),
            edge_selected=highlight.lighter(130),
            label_background=QColor("#2d3035"),
            accept=QColor("#3fbf6f"),
            refuse=QColor("#ff5c5c"),
            error=QColor("#ff5c5c"),
            warning=QColor("#f2b33d"),
        )
    return CanvasColors(
        background=QColor("#f6f7f9"),
        grid=QColor("#eceef1"),
        grid_major=QColor("#dfe2e7"),
        node=QColor("#ffffff"),
        node_header=QColor("#f3f4f6"),
        node_border=QColor("#b9bec6"),
        text=QColor("#1d1f23"),
        muted=QColor("#5f656e"),
        selection=highlight,
        edge=QColor("#6f7782"),
        edge_selected=highlight,
        label_background=QColor("#ffffff"),
        accept=QColor("#24a35a"),
        refuse=QColor(ERROR_COLOR),
        error=QColor(ERROR_COLOR),
        warning=QColor(WARNING_COLOR),
    )
