"""The network part of a run diff: both networks drawn as one, and the list of changes beside it.

Clicking a change in the list brings its layer into sight on the canvas; clicking a layer on
the canvas picks its line in the list. The column beside the canvas (`side`) has room for more
(the run diff puts the settings that differ under the changes).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.diff import ADDED, AFFECTED, CHANGED, REMOVED, NetworkDiff
from cnnstudio.core.network import Network

from .canvas import DIFF_COLORS, DiffCanvas, change_tooltip

LAYER_ROLE = Qt.ItemDataRole.UserRole
LEGEND = " &nbsp; ".join(
    f"<span style='color:{DIFF_COLORS[kind]}; font-weight:bold'>&#9632;</span> {words}"
    for kind, words in ((ADDED, "added in run B"), (REMOVED, "removed in run B"), (CHANGED, "changed"),
                        (AFFECTED, "follows a change before it (dashed)")))


def swatch(color: str, dashed: bool = False) -> QIcon:
    """A small square of a change's colour (hollow for changes that only follow another)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color) if not dashed else QColor(0, 0, 0, 0))
    if dashed:
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(color), 2, Qt.PenStyle.DotLine))
        painter.drawRect(1, 1, 10, 10)
        painter.end()
    return QIcon(pixmap)


def titled(title: str, widget: QWidget) -> QWidget:
    """`widget` under a bold title."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(f"<b>{title}</b>")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


class NetworkDiffPage(QWidget):
    """Canvas (objectName ``diffCanvas``) and list of changes (``diffChanges``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diff: NetworkDiff | None = None
        self.legend = QLabel(LEGEND)
        self.legend.setObjectName("diffLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.canvas = DiffCanvas()
        self.changes = QListWidget()
        self.changes.setObjectName("diffChanges")
        self.changes.setWordWrap(True)
        self.changes.setAlternatingRowColors(True)
        self.changes.itemClicked.connect(self._change_clicked)
        self.canvas.layerClicked.connect(self._layer_clicked)
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(titled("Layers and connections", self.changes))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(splitter, 1)

    def show_diff(self, diff: NetworkDiff, before: Network, after: Network) -> None:
        self.diff = diff
        self.canvas.show_diff(diff, before, after)
        self.changes.clear()
        lines = diff.lines()
        for change, line in zip(diff.layers, lines, strict=False):
            item = QListWidgetItem(line)
            item.setData(LAYER_ROLE, change.id)
            item.setIcon(swatch(DIFF_COLORS[change.kind], dashed=change.kind == AFFECTED))
            item.setToolTip(change_tooltip(change))
            self.changes.addItem(item)
        for line in lines[len(diff.layers):]:
            item = QListWidgetItem(line)
            if line.startswith("connection"):
                item.setIcon(swatch(DIFF_COLORS[ADDED if line.endswith("added") else REMOVED]))
            elif not diff.same:  # the totals
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.changes.addItem(item)

    def layer_lines(self) -> dict[str, str]:
        """Each changed layer's line in the list."""
        return {self.changes.item(i).data(LAYER_ROLE): self.changes.item(i).text()
                for i in range(self.changes.count()) if self.changes.item(i).data(LAYER_ROLE)}

    def _change_clicked(self, item: QListWidgetItem) -> None:
        node_id = item.data(LAYER_ROLE)
        if node_id:
            self.canvas.show_layer(node_id)

    def _layer_clicked(self, node_id: str) -> None:
        for row in range(self.changes.count()):
            if self.changes.item(row).data(LAYER_ROLE) == node_id:
                self.changes.setCurrentRow(row)
                return
        self.changes.clearSelection()
