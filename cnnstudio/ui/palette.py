"""The layer palette: every catalog layer by category, searchable, dragged onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnstudio.core.catalog import by_category

from .icons import category_icon

LAYER_MIME = "application/x-cnnstudio-layer-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class _LayerTree(QTreeWidget):
    """A tree whose layer entries drag out as a layer type."""

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if types:
            mime.setData(LAYER_MIME, types[0].encode("utf-8"))
            mime.setText(types[0])
        return mime

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_MIME]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction


class PaletteWidget(QWidget):
    """Search box above a category tree. Drag a layer out, or double-click to append it."""

    layerActivated = Signal(str)  # double-click or Enter on a layer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.search = QLineEdit(self)
        self.search.setObjectName("paletteSearch")
        self.search.setAccessibleName("Search layers")
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = _LayerTree(self)
        self.tree.setObjectName("paletteTree")
        self.tree.setAccessibleName("Layers")
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        self.tree.setUniformRowHeights(True)
        self.tree.setExpandsOnDoubleClick(True)
        self.tree.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate()
        self.search.returnPressed.connect(self._activate_first_match)
        self.tree.setMinimumWidth(self.names_width())

    def names_width(self) -> int:
        """The width at which every layer's name shows whole (beside the scroll bar)."""
        bar = self.tree.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        return self.tree.sizeHintForColumn(0) + 2 * self.tree.frameWidth() + bar + 4

    def _populate(self) -> None:
        for category, specs in by_category().items():
            if not specs:
                continue
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            group.setIcon(0, category_icon(category))
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.type])
                item.setData(0, TYPE_ROLE, spec.type)
                item.setIcon(0, category_icon(category))
                item.setToolTip(
                    0,
                    f"<b>{spec.type}</b> &mdash; {category}<br>{spec.doc}<br>"
                    "<i>Drag onto the canvas or a connection; double-click to append.</i>",
                )
                item.setStatusTip(0, f"{spec.type}: {spec.doc}")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
                )
            group.setExpanded(True)

    def layer_items(self) -> dict[str, QTreeWidgetItem]:
        found = {}
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                item = group.child(j)
                found[item.data(0, TYPE_ROLE)] = item
        return found

    def visible_layers(self) -> list[str]:
        return [
            t
            for t, item in self.layer_items().items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def filter(self, text: str) -> None:
        """Show the layers whose name, category or explanation contains every word typed."""
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                item = group.child(j)
                haystack = f"{item.text(0)} {group.text(0)} {item.statusTip(0)}".lower()
                match = all(w in haystack for w in words)
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
            if words:
                group.setExpanded(True)

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layerActivated.emit(type_name)

    def _activate_first_match(self) -> None:
        visible = self.visible_layers()
        if visible:
            self.layerActivated.emit(visible[0])
