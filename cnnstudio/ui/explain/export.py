"""Saving what a view shows: a PNG of any widget, and the evaluation's numbers as CSV.

Files are written whole or not at all (a temporary file renamed into place), and a
failure comes back as one plain sentence for the status bar.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from ..messages import Messages


def ask_path(parent: QWidget, title: str, suggestion: str, file_filter: str) -> Path | None:
    """Ask where to save; None when the person cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggestion, file_filter)
    return Path(path) if path else None


def ask_and_save(page: QWidget, messages: Messages, save: Callable[[str], str], title: str, suggestion: str,
                 file_filter: str = "PNG images (*.png)") -> None:
    """Ask where, save with ``save(path)``; say what was written in the status bar, or why not."""
    path = ask_path(page, title, suggestion, file_filter)
    if path is None:
        return
    try:
        written = save(str(path))
    except OSError as exc:
        messages.show("error", f"Could not export to {path}: {exc.strerror or exc}")
    else:
        messages.status(f"Saved {written}", 5000)


def save_png(widget: QWidget, path: str | Path, scale: float = 2.0) -> Path:
    """Save the widget as it looks now, at `scale` times its on-screen size (sharp in slides)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    ratio = max(1.0, float(scale))
    pixmap = widget.grab()
    if ratio > pixmap.devicePixelRatio():  # render again at a higher resolution
        from PySide6.QtCore import QPoint
        from PySide6.QtGui import QPainter, QPixmap

        size = widget.size() * ratio
        pixmap = QPixmap(size)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(widget.palette().window().color())
        painter = QPainter(pixmap)
        QWidget.render(widget, painter, QPoint())  # the widget's own render, also for graphics views
        painter.end()
    _write_atomically(path, lambda tmp: _save_pixmap(pixmap, tmp))
    return path


def _save_pixmap(pixmap: Any, tmp: Path) -> None:
    if not pixmap.save(str(tmp), "PNG"):
        raise OSError(f"could not write a PNG to {tmp.parent}")


def evaluation_csv(evaluation: Any, split: str, source: str) -> str:
    """The confusion matrix (rows: true class) and the per-class table, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(evaluation.class_names)
    writer.writerow([f"# {source} on {evaluation.count} {split} images; accuracy {evaluation.accuracy:.6f}; "
                     f"macro F1 {evaluation.macro_f1:.6f}"])
    writer.writerow(["true \\ predicted", *names])
    for name, row in zip(names, evaluation.confusion):
        writer.writerow([name, *(int(v) for v in row)])
    writer.writerow([])
    writer.writerow(["class", "precision", "recall", "f1", "support"])
    for i, name in enumerate(names):
        writer.writerow([name, f"{evaluation.precision[i]:.6f}", f"{evaluation.recall[i]:.6f}",
                         f"{evaluation.f1[i]:.6f}", int(evaluation.support[i])])
    return out.getvalue()


def save_text(text: str, path: str | Path) -> Path:
    path = Path(path)
    _write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def _write_atomically(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
