"""pyqtgraph widgets in the application's colours (pyqtgraph draws black by default), light or dark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget


def apply_palette(widget: pg.GraphicsView) -> None:
    """Background, axes and titles of a PlotWidget or GraphicsLayoutWidget in the widget's palette."""
    palette = widget.palette()
    widget.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.WindowText)
    for item in widget.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setPen(text)
            item.setTextPen(text)
        elif isinstance(item, pg.LabelItem):
            item.setText(item.text, color=text)


class _PaletteFollower(QObject):
    """Re-applies the palette whenever the appearance changes (View > Appearance, system scheme)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            apply_palette(watched)
        return False


def follow_palette(widget: QWidget) -> None:
    """Colour the plot now and again on every palette change."""
    follower = _PaletteFollower(widget)
    widget.installEventFilter(follower)
    apply_palette(widget)


@contextmanager
def menus_owned_by(owner: QWidget | Callable[[], QWidget]) -> Iterator[None]:
    """pyqtgraph makes its context menus without a parent; give the ones made inside this block to
    `owner` (or to what it returns, for a widget still being made), so they are freed with it
    instead of living on as stray top-level windows."""
    before = {id(w) for w in QApplication.topLevelWidgets()}
    yield
    parent = owner if isinstance(owner, QWidget) else owner()
    for widget in QApplication.topLevelWidgets():
        if id(widget) not in before and isinstance(widget, QMenu) and widget.parent() is None:
            widget.setParent(parent, widget.windowFlags())
