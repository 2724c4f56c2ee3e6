"""Saving what a view shows, the one way: ask where, write the file whole (`core.files`), say what
happened.

    ask_and_save(page, "Export plot", "loss.png", PICTURE_FILTERS, lambda path: save_plot(plot, path),
                 context.messages.show)

Pictures of widgets (PNG), plots (PNG, or SVG that stays vector) and text files; NumPy
arrays go through `cnnstudio.core.array_files`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.files import atomic_write_text, atomic_write_with

PNG_FILTER = "PNG image (*.png)"
SVG_FILTER = "SVG drawing (*.svg)"
PICTURE_FILTERS = f"{PNG_FILTER};;{SVG_FILTER}"
CSV_FILTER = "CSV (*.csv)"
NPZ_FILTER = "NumPy archive (*.npz)"
NPY_FILTER = "NumPy array (*.npy)"


def ask_save_path(parent: QWidget, title: str, suggestion: str, filters: str) -> Path | None:
    """Ask where to save (tests replace this); the suffix of the chosen filter is added if missing."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggestion, filters)
    if not path:
        return None
    path = Path(path)
    if not path.suffix and "*." in chosen:
        suffix = chosen.split("*.", 1)[1].split(")", 1)[0].split()[0]
        path = path.with_suffix("." + suffix)
    return path


def ask_and_save(parent: QWidget, title: str, suggestion: str, filters: str, save: Callable[[Path], object],
                 say: Callable[[str, str], None]) -> Path | None:
    """Ask where, ``save(path)``, and ``say(severity, text)`` what was written or why not."""
    path = ask_save_path(parent, title, suggestion, filters)
    if path is None:
        return None
    try:
        saved = Path(str(save(path)))
    except (UserError, OSError) as exc:
        say("error", failure_text(path, exc))
        return None
    say("info", f"Saved {saved}")
    return saved


def failure_text(path: Path, exc: Exception) -> str:
    """Why a file was not written, in one sentence."""
    reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
    return f"Could not export to {path}: {reason}"


def save_widget_png(widget: QWidget, path: str | Path, scale: float = 1.0) -> Path:
    """The widget as it looks now, as a PNG at `scale` times its on-screen size (2: sharp in slides)."""
    path = _with_suffix(Path(path), ".png")
    pixmap = widget.grab()
    if scale > pixmap.devicePixelRatio():  # render again at a higher resolution
        pixmap = QPixmap(widget.size() * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(widget.palette().window().color())
        painter = QPainter(pixmap)
        QWidget.render(widget, painter, QPoint())  # the widget's own render, also for graphics views
        painter.end()
    _write(path, lambda tmp: _save_pixmap(pixmap, tmp), ".png")
    return path


def save_plot(plot: pg.PlotWidget, path: str | Path) -> Path:
    """One plot as PNG (at least 1200 px wide), or as SVG (lines, symbols and text stay vectors)."""
    from pyqtgraph import exporters

    path = Path(path)
    if path.suffix.lower() == ".svg":
        _write(path, lambda tmp: render_svg(plot, tmp), ".svg")
        return path
    path = _with_suffix(path, ".png")
    exporter = exporters.ImageExporter(plot.getPlotItem())
    exporter.parameters()["width"] = int(max(1200, plot.width() * 2))
    _write(path, lambda tmp: exporter.export(str(tmp)), ".png")
    return path


def render_svg(plot: pg.PlotWidget, path: Path) -> None:
    """Paint the plot, as it is on screen, into an SVG file.

    (pyqtgraph's own SVGExporter misplaces curves and trips over closed paths with this Qt,
    pyqtgraph issue #3495.) Symbols are drawn as shapes: an SVG file cannot hold pyqtgraph's
    cached symbol pictures (it pastes the whole atlas into every point).
    """
    items = [item for item in plot.getPlotItem().listDataItems() if isinstance(item, pg.PlotDataItem)]
    for item in items:  # the curve hands this to its symbols whenever it redraws them
        item.opts["useCache"] = item.scatter.opts["useCache"] = False
    try:
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(plot.size())
        generator.setViewBox(plot.rect())
        generator.setTitle("CNN Studio training curves")
        painter = QPainter(generator)
        try:
            QWidget.render(plot, painter, QPoint(0, 0))  # a graphics view's own render() would rescale
        finally:
            painter.end()
    finally:
        for item in items:
            item.opts["useCache"] = item.scatter.opts["useCache"] = True
    if not Path(path).is_file():
        raise OSError(f"could not write {path}")


def save_text(text: str, path: str | Path) -> Path:
    """A text file (CSV, say), written whole."""
    path = Path(path)
    _check_folder(path)
    atomic_write_text(path, text)
    return path


def _with_suffix(path: Path, suffix: str) -> Path:
    return path if path.suffix.lower() == suffix else path.with_suffix(suffix)


def _save_pixmap(pixmap: QPixmap, tmp: Path) -> None:
    if not pixmap.save(str(tmp), "PNG"):
        raise OSError(f"could not write a PNG to {tmp.parent}")


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"the folder {folder} does not exist")


def _write(path: Path, write: Callable[[Path], object], suffix: str) -> None:
    _check_folder(path)
    atomic_write_with(path, write, suffix=suffix)
