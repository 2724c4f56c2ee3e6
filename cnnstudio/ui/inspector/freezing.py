"""Freezing layers and blocks: the undoable edit, and the Inspector's control for it.

A frozen layer keeps its weights as they are while training (a frozen BatchNormalization also
keeps its statistics); a frozen block freezes every layer inside. Saved in the project as
`"trainable": false` (README, project format 2); the counts follow through the analysis.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from cnnstudio.core import blocks
from cnnstudio.core.network import Network

from ..document import ProjectDocument


def is_frozen(network: Network, item_id: str) -> bool:
    """Whether the layer or block is switched off itself (not through a block holding it)."""
    if item_id in network.blocks:
        return not network.blocks[item_id].trainable
    return not network.node(item_id).trainable


class FreezeCommand(QUndoCommand):
    """Freeze (trainable False) or unfreeze layers and blocks; undo puts each back as it was."""

    def __init__(self, network: Network, item_ids: Iterable[str], trainable: bool) -> None:
        self.network = network
        self.items = list(dict.fromkeys(item_ids))
        self.trainable = bool(trainable)
        self.before = {item: not is_frozen(network, item) for item in self.items}
        count = len(self.items)
        what = f"{count} Layers" if count > 1 else "Block" if self.items and self.items[0] in network.blocks else "Layer"
        super().__init__(f"{'Unfreeze' if trainable else 'Freeze'} {what}")

    def redo(self) -> None:
        for item in self.items:
            blocks.set_trainable(self.network, item, self.trainable)

    def undo(self) -> None:
        for item, trainable in self.before.items():
            blocks.set_trainable(self.network, item, trainable)


def toggle_frozen(document: ProjectDocument, item_ids: Iterable[str]) -> bool:
    """Freeze the items, or unfreeze them when all are frozen already (the canvas's menu item)."""
    network = document.network
    items = [i for i in item_ids if i in network or i in network.blocks]
    if not items:
        return False
    trainable = all(is_frozen(network, i) for i in items)
    return document.push(FreezeCommand(network, items, trainable))


def holding_block(network: Network, node_id: str) -> str | None:
    """The innermost block holding a layer, or None (the block listing it: asking every block for its layers
    takes seconds in a network of hundreds of blocks)."""
    return blocks.parents(network).get(node_id) if node_id in network.nodes else None


class FreezeControl(QWidget):
    """'Frozen' for the shown layer, and for the block that holds it (when one does)."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self.block_id: str | None = None
        self.layer_box = QCheckBox("Frozen (not trained)", self)
        self.layer_box.setObjectName("freezeLayer")
        self.layer_box.setToolTip("A frozen layer keeps its weights; a frozen BatchNormalization also keeps its "
                                  "statistics (inference mode). Its parameters count as non-trainable.")
        self.block_box = QCheckBox(self)
        self.block_box.setObjectName("freezeBlock")
        self.block_box.setAccessibleName("Freeze the whole block")
        self.block_box.setToolTip("Freeze or unfreeze every layer of the block")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.layer_box)
        layout.addWidget(self.block_box)
        self.layer_box.clicked.connect(lambda on: self._push(self.node_id, not on))
        self.block_box.clicked.connect(lambda on: self._push(self.block_id, not on))

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.refresh()

    def refresh(self) -> None:
        network = self.document.network
        if self.node_id is None or self.node_id not in network:
            return
        self.layer_box.setChecked(is_frozen(network, self.node_id))
        self.block_id = holding_block(network, self.node_id)
        self.block_box.setVisible(self.block_id is not None)
        if self.block_id is not None:
            block = network.blocks[self.block_id]
            self.block_box.setText(f"Frozen block '{block.name}' (all its layers)")
            self.block_box.setChecked(not block.trainable)
        locked = self.block_id is not None and not network.blocks[self.block_id].trainable
        self.layer_box.setEnabled(not locked)  # the block decides while it is frozen

    def _push(self, item_id: str | None, trainable: bool) -> None:
        if item_id is None:
            return
        network = self.document.network
        if is_frozen(network, item_id) != trainable:  # already as asked
            self.refresh()
            return
        self.document.push(FreezeCommand(network, [item_id], trainable))
        self.refresh()
