"""What every pyqtgraph plot of the window needs: the window's colours, and menus that go with it.

- pyqtgraph draws black by default: `apply_palette` / `follow_palette` colour a plot from the
  window's palette, light or dark, and again when the appearance changes.
- pyqtgraph makes its context menus and option panels as parentless windows. They would
  outlive the view that showed them (and the tests count them as leaked windows), so plots
  are built inside `menus_owned_by(owner)`, which hands the menus made there to `owner`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget


@contextmanager
def menus_owned_by(owner: QWidget | Callable[[], QWidget]) -> Iterator[None]:
    """Every parentless menu made inside the block becomes a child of ``owner`` (still a popup).

    ``owner`` may be a callable returning the widget, for a widget still being built.
    """
    existing = QApplication.topLevelWidgets()  # held, so that no new widget's wrapper reuses an id below
    before = {id(w) for w in existing}
    try:
        yield
    finally:
        parent = owner if isinstance(owner, QWidget) else owner()
        for widget in QApplication.topLevelWidgets():
            if id(widget) not in before and isinstance(widget, QMenu) and widget.parent() is None:
                widget.setParent(parent, widget.windowFlags())


def owned_plot_widget(owner: QWidget, **options) -> pg.PlotWidget:
    """A PlotWidget whose menus go when ``owner`` goes."""
    with menus_owned_by(owner):
        return pg.PlotWidget(**options)


def apply_palette(widget: pg.GraphicsView, palette: QPalette | None = None) -> None:
    """Background, axes, titles and legends of a PlotWidget or GraphicsLayoutWidget in its palette.

    Pass the containing widget's ``palette`` from its own change event: a child plot may
    not have been told of the new palette yet.
    """
    if widget.scene() is None:  # still being built
        return
    palette = palette or widget.palette()
    widget.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.WindowText)
    for item in widget.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setPen(text)
            item.setTextPen(text)
        elif isinstance(item, pg.LegendItem):
            item.setLabelTextColor(text)
        elif isinstance(item, pg.LabelItem):
            item.setText(item.text, color=text)


class _PaletteFollower(QObject):
    """Re-applies the palette whenever the appearance changes (View > Appearance, system scheme)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            apply_palette(watched)
        return False


def follow_palette(widget: pg.GraphicsView) -> None:
    """Colour the plot now and again on every palette change."""
    widget.installEventFilter(_PaletteFollower(widget))
    apply_palette(widget)
