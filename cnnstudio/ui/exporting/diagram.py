"""The network diagram as a PNG picture or an SVG drawing, as the canvas draws it, always on white.

A private, off-screen scene draws the project (the user's canvas, its zoom, selection
and theme stay as they are), so a diagram exported in dark mode still prints well.
Each file is checked after writing: the PNG reads back at its size, the SVG parses and
names every layer. Runs on the GUI thread (it paints Qt items).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtSvg import QSvgGenerator, QSvgRenderer
from PySide6.QtWidgets import QGraphicsItem

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import Project
from cnnstudio.ml.jobs.writing import write_checked

from ..document import ProjectDocument
from ..editor.scene import NetworkScene
from ..theme import CanvasColors, canvas_colors
from .formats import ExportItem, ItemResult

MARGIN = 32.0
PNG_SCALE = 2.0  # pixels per canvas unit: sharp on high-resolution screens and in print
MAX_PNG_SIDE = 16000  # very deep networks get a smaller scale rather than a picture no viewer opens


def light_colors() -> CanvasColors:
    """The canvas's light colours, on plain white with no grid."""
    white = QColor("#ffffff")
    colors = canvas_colors(QPalette(QColor("#efefef"), white))
    return dataclasses.replace(colors, background=white, grid=white, grid_major=white)


class Diagram:
    """An off-screen drawing of a project's network; call `close()` when done."""

    def __init__(self, project: Project) -> None:
        self.project = project.copy()
        self.document = ProjectDocument(self.project)
        self.scene = NetworkScene(self.document)
        self.scene.colors = light_colors()
        for item in self.scene.items():  # draw as vectors, never from a cached pixmap
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        self.source = self.scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)

    @property
    def node_ids(self) -> list[str]:
        return list(self.project.network.nodes)

    def png_scale(self) -> float:
        longest = max(self.source.width(), self.source.height(), 1.0)
        return min(PNG_SCALE, MAX_PNG_SIDE / longest)

    def png_size(self) -> QSize:
        scale = self.png_scale()
        return QSize(math.ceil(self.source.width() * scale), math.ceil(self.source.height() * scale))

    def svg_size(self) -> QSize:
        return QSize(math.ceil(self.source.width()), math.ceil(self.source.height()))

    def _render(self, painter: QPainter, size: QSize) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.scene.render(painter, QRectF(0, 0, size.width(), size.height()), self.source)

    def write_png(self, path: Path) -> None:
        size = self.png_size()
        image = QImage(size, QImage.Format.Format_ARGB32)
        if image.isNull():
            raise UserError(f"the diagram is too large for a picture ({size.width()}x{size.height()} pixels); "
                            "export it as SVG instead")
        image.fill(QColor("#ffffff"))
        painter = QPainter(image)
        try:
            self._render(painter, size)
        finally:
            painter.end()
        if not image.save(str(path), "PNG"):
            raise UserError(f"could not write {path}: Qt could not save the picture there")

    def write_svg(self, path: Path) -> None:
        size = self.svg_size()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setTitle(f"{self.project.name} — network diagram")
        generator.setDescription(f"{len(self.node_ids)} layers: {', '.join(self.node_ids)} (drawn by CNN Studio)")
        painter = QPainter()
        if not painter.begin(generator):
            raise UserError(f"could not write {path}: the file cannot be created there")
        try:
            self._render(painter, size)
        finally:
            painter.end()

    def check_png(self, path: Path) -> str:
        image = QImage(str(path), "PNG")
        expected = self.png_size()
        if image.isNull() or image.size() != expected:
            raise UserError("the written picture does not read back at its size; nothing was written")
        return f"{image.width()} x {image.height()} pixels, {len(self.node_ids)} layers; reads back"

    def check_svg(self, path: Path) -> str:
        if not QSvgRenderer(str(path)).isValid():
            raise UserError("the written SVG drawing does not read back; nothing was written")
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("</desc>")
        described = head.partition("<desc>")[2]
        missing = [node_id for node_id in self.node_ids if node_id not in described]
        if missing or "<text" not in rest:
            raise UserError("the SVG drawing did not come out whole; nothing was written")
        drawn = rest.replace("\n", "")
        shortened = sum(f">{node_id}<" not in drawn for node_id in self.node_ids)
        note = f" ({shortened} shortened to fit their box; all listed in the file's description)" if shortened else ""
        return f"vector drawing of {len(self.node_ids)} layers, names as text{note}; reads back"

    def close(self) -> None:
        self.scene.clear()
        self.scene.deleteLater()
        self.document.deleteLater()


def export_diagrams(project: Project, items: list[ExportItem]) -> list[ItemResult]:
    """Write the PNG/SVG items for `project` (GUI thread); a failure is a result with its reason."""
    diagram = Diagram(project)
    results = []
    try:
        for item in items:
            try:
                if item.key == "png":
                    results.append(write_checked(item, diagram.write_png, diagram.check_png))
                else:
                    results.append(write_checked(item, diagram.write_svg, diagram.check_svg))
            except UserError as exc:
                results.append(ItemResult(item.key, item.path, False, detail=str(exc)))
    finally:
        diagram.close()
    return results
