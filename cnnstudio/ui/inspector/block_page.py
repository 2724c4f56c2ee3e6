"""The Inspector's page for a selected block: its totals, and its nested blocks and layers as a tree."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnstudio.core import blocks
from cnnstudio.core.blocks import BlockInfo
from cnnstudio.core.catalog import dims_text

from ..document import ProjectDocument
from ..editor.folding import block_totals

COLUMNS = ("Name", "Output", "Params", "Non-trainable", "Receptive field")


class BlockPage(QWidget):
    """What a block holds, with per-block totals (parameters, trainable and not, output shape, receptive field)."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.block_id: str | None = None
        self.title = QLabel()
        self.title.setObjectName("inspectorBlockTitle")
        self.title.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("inspectorBlockTree")
        self.tree.setAccessibleName("What the block holds")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.tree)
        document.analysisChanged.connect(lambda _a: self.refresh())

    def show_block(self, block_id: str) -> None:
        self.block_id = block_id
        self.refresh()

    def refresh(self) -> None:
        network = self.document.network
        if self.block_id not in network.blocks:
            return
        analysis = self.document.analysis()
        found = {i.id: i for i in _walk(block_totals(network, analysis))}
        info = found[self.block_id]
        self.title.setText(
            f"<b>{info.name}</b> &nbsp;block of {len(blocks.layers_in(network, info.id))} layers<br>"
            f"{info.params:,} parameters: {info.trainable_params:,} trainable, "
            f"{info.non_trainable_params:,} non-trainable")
        self.tree.clear()
        self.tree.addTopLevelItem(self._item(info, analysis))
        self.tree.expandToDepth(0)

    def _item(self, info: BlockInfo, analysis) -> QTreeWidgetItem:
        shapes = ", ".join(dims_text(s) for s in info.output_shapes) or "-"
        field = dims_text(info.receptive_field) if info.receptive_field else "-"
        item = QTreeWidgetItem([info.name, shapes, f"{info.params:,}", f"{info.non_trainable_params:,}", field])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        children = {c.id: c for c in info.children}
        network = self.document.network
        for member in blocks.ordered_items(network, info.id):
            if member in children:
                item.addChild(self._item(children[member], analysis))
            elif member in analysis.layers:
                layer = analysis.layers[member]
                item.addChild(QTreeWidgetItem([
                    f"{layer.id} ({layer.type})",
                    dims_text(layer.output_shape) if layer.output_shape else "-",
                    f"{layer.params:,}", f"{layer.non_trainable:,}",
                    dims_text(layer.receptive_field) if layer.receptive_field else "-"]))
        return item


def _walk(tree: list[BlockInfo]):
    for info in tree:
        yield info
        yield from _walk(info.children)
