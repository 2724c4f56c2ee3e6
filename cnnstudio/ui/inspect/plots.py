"""pyqtgraph plots that look like the rest of the window (palette colours, light or dark) and
let the mouse wheel scroll the page they sit in instead of zooming."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from ..plotting import menus_owned_by


def palette_color(widget: QWidget, role: QPalette.ColorRole) -> QColor:
    return widget.palette().color(role)




class QuietPlot(pg.PlotWidget):
    """A plot for showing numbers, not exploring them: no zoom, no pan, no context menu."""

    def __init__(self, parent: QWidget | None = None, **kwargs) -> None:
        with menus_owned_by(parent or self):
            super().__init__(parent, enableMenu=False, **kwargs)
        item = self.getPlotItem()
        item.hideButtons()
        item.getViewBox().setMouseEnabled(False, False)
        self.apply_palette()

    def apply_palette(self) -> None:
        if self.getPlotItem() is None:  # still being built
            return
        self.setBackground(palette_color(self, QPalette.ColorRole.Base))
        text = palette_color(self, QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(palette_color(self, QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))

    def wheelEvent(self, event) -> None:  # noqa: N802
        event.ignore()  # let the scroll area around it scroll

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)


def style_view(widget: pg.GraphicsView, source: QWidget | None = None) -> None:
    """Palette background for a pyqtgraph GraphicsLayoutWidget / GraphicsView (from `source`'s palette:
    a parent hears of a new palette before its children have it)."""
    widget.setBackground(palette_color(source or widget, QPalette.ColorRole.Base))
