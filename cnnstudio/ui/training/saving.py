"""Saving plots as pictures (PNG, or SVG that stays vector) and asking where, with the outcome in Messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

PICTURE_FILTERS = "PNG image (*.png);;SVG drawing (*.svg)"


def save_plot(plot: pg.PlotWidget, path: str | Path) -> Path:
    """One plot as PNG (at least 1200 px wide), or as SVG (lines, symbols and text stay vectors)."""
    from pyqtgraph import exporters

    path = Path(path)
    if path.suffix.lower() == ".svg":
        render_svg(plot, path)
        return path
    path = path if path.suffix.lower() == ".png" else path.with_suffix(".png")
    exporter = exporters.ImageExporter(plot.getPlotItem())
    exporter.parameters()["width"] = int(max(1200, plot.width() * 2))
    exporter.export(str(path))
    return path


def render_svg(plot: pg.PlotWidget, path: Path) -> None:
    """Paint the plot, as it is on screen, into an SVG file.

    (pyqtgraph's own SVGExporter misplaces curves and trips over closed paths with this Qt,
    pyqtgraph issue #3495.) Symbols are drawn as shapes: an SVG file cannot hold pyqtgraph's
    cached symbol pictures (it pastes the whole atlas into every point).
    """
    items = [item for item in plot.getPlotItem().listDataItems() if hasattr(item, "scatter")]
    for item in items:  # the curve hands this to its symbols whenever it redraws them
        item.opts["useCache"] = item.scatter.opts["useCache"] = False
    try:
        _paint_svg(plot, str(path))
    finally:
        for item in items:
            item.opts["useCache"] = item.scatter.opts["useCache"] = True
    if not path.is_file():
        raise OSError(f"could not write {path}")


def _paint_svg(widget: QWidget, target: str) -> None:
    generator = QSvgGenerator()
    generator.setFileName(target)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    generator.setTitle("CNN Studio training curves")
    painter = QPainter(generator)
    try:
        QWidget.render(widget, painter, QPoint(0, 0))  # a graphics view's own render() would rescale
    finally:
        painter.end()


def save_widget(widget: QWidget, path: str | Path) -> Path:
    """A whole widget (several plots) as a PNG picture."""
    path = Path(path)
    path = path if path.suffix.lower() == ".png" else path.with_suffix(".png")
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path


def ask_and_save(parent: QWidget, caption: str, suggestion: str, filters: str,
                 save: Callable[[str], Path], say: Callable[[str, str], None]) -> Path | None:
    """Ask where, save, and ``say(severity, text)`` how it went."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggestion, filters)
    if not path:
        return None
    try:
        saved = save(path)
    except OSError as exc:
        text, severity, saved = f"Cannot save {path}: {exc.strerror or exc}", "error", None
    else:
        text, severity = f"Saved {saved}", "info"
    say(severity, text)
    return saved
