"""Group, ungroup and repeat blocks from the canvas selection, each as one undo step.

Each edit is tried on a copy of the network first; when core refuses it (a group that would
make a loop once folded, or cut a block in two; a repeat whose input and output differ) the
reason comes back in the user's words and nothing changes.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog

from cnnstudio.core import blocks
from cnnstudio.core.blocks import BlockError
from cnnstudio.core.network import Network

from .commands import BlocksCommand, ReplaceNetworkCommand


def default_name(network: Network) -> str:
    """"Block 1", "Block 2", ...: the first name no block has."""
    names = {b.name for b in network.blocks.values()}
    n = 1
    while f"Block {n}" in names:
        n += 1
    return f"Block {n}"


def owning_block(network: Network, layer_ids: list[str]) -> str | None:
    """The innermost block holding all the given layers (None when none does)."""
    if not layer_ids:
        return None
    wanted = set(layer_ids)
    holding = [b for b in network.blocks if wanted <= set(blocks.layers_in(network, b))]
    return min(holding, key=lambda b: len(blocks.layers_in(network, b)), default=None)


def group_command(network: Network, ids: list[str], name: str) -> tuple[BlocksCommand, str]:
    """The undo step grouping ``ids`` (layers and blocks) into a block named ``name``, and its id."""
    if not name.strip():
        raise BlockError("a block needs a name")
    trial = network.copy()
    made = blocks.group(trial, ids, name.strip())
    return BlocksCommand(network, blocks.blocks_state(network), blocks.blocks_state(trial),
                         f"Group {len(ids)} into {made.name}"), made.id


def ungroup_command(network: Network, block_id: str) -> BlocksCommand:
    trial = network.copy()
    name = network.blocks[block_id].name
    blocks.ungroup(trial, block_id)
    return BlocksCommand(network, blocks.blocks_state(network), blocks.blocks_state(trial), f"Ungroup {name}")


def repeat_command(network: Network, block_id: str, times: int) -> tuple[ReplaceNetworkCommand, list[str]]:
    """The undo step adding ``times`` copies of a block after it, and the new blocks' ids."""
    trial = network.copy()
    made = blocks.repeat(trial, block_id, times)
    name = network.blocks[block_id].name
    text = f"Repeat {name} \u00d7{times}"
    return ReplaceNetworkCommand(network, trial, text), [b.id for b in made]


def reveal_command(network: Network, item_id: str) -> BlocksCommand | None:
    """The undo step opening every folded block around a layer or block (None when none is folded)."""
    held = blocks.parents(network)
    opening, owner = [], held.get(item_id)
    while owner is not None:
        if network.blocks[owner].collapsed:
            opening.append(owner)
        owner = held.get(owner)
    if not opening:
        return None
    before = blocks.blocks_state(network)
    after = [{**item, "collapsed": False} if item["id"] in opening else item for item in before]
    names = ", ".join(network.blocks[b].name for b in reversed(opening))
    return BlocksCommand(network, before, after, f"Expand {names}")


class BlockEditing:
    """The editor's block operations (mixed into ``NetworkEditor``: its network, scene, view, document)."""

    def selected_blocks(self) -> list[str]:
        """The blocks picked on the canvas, else the innermost block holding the selected layers."""
        chosen = self.scene.selected_block_ids()
        if chosen:
            return chosen
        owner = owning_block(self.network, self.selected_ids())
        return [owner] if owner else []

    def group_selection(self, name: str | None = None) -> str | None:
        """Group the selected layers and blocks into a new block (asking for its name); its id."""
        ids = self.selected_ids() + self.scene.selected_block_ids()
        if not ids:
            self.message.emit("info", "Select the layers to group first")
            return None
        if name is None:
            name, ok = QInputDialog.getText(self, "Group into Block", "Name of the new block:",
                                            text=default_name(self.network))
            if not ok:
                return None
        try:
            command, block_id = group_command(self.network, ids, name)
        except BlockError as exc:
            self.message.emit("warning", f"Cannot group these layers: {exc}")
            return None
        self.document.push(command)
        self.scene.select_nodes(self.selected_ids(), block_ids=[block_id])
        return block_id

    def ungroup_selection(self) -> bool:
        """Remove the selected block, keeping its layers where they are."""
        chosen = self.selected_blocks()
        if not chosen:
            self.message.emit("info", "Select a block (or a layer inside one) to ungroup")
            return False
        layers = blocks.layers_in(self.network, chosen[0])
        self.document.push(ungroup_command(self.network, chosen[0]))
        self.select([n for n in layers if n in self.scene.nodes and self.scene.nodes[n].isVisible()])
        return True

    def repeat_block(self, times: int | None = None) -> list[str]:
        """Add copies of the selected block after it (a ResNet stage), asking how many."""
        chosen = self.selected_blocks()
        if not chosen:
            self.message.emit("info", "Select a block to repeat")
            return []
        name = self.network.blocks[chosen[0]].name
        if times is None:
            times, ok = QInputDialog.getInt(self, "Repeat Block", f"Copies of {name} to add after it:", 1, 1, 100)
            if not ok:
                return []
        try:
            command, made = repeat_command(self.network, chosen[0], times)
        except BlockError as exc:
            self.message.emit("warning", f"Cannot repeat {name}: {exc}")
            return []
        self.document.push(command)
        self.scene.select_nodes([], block_ids=made)
        return made

    def set_block_collapsed(self, block_id: str, collapsed: bool) -> None:
        self.scene.fold_requested(block_id, collapsed)

    def reveal(self, item_id: str) -> None:
        """Open the folded blocks around a layer or block so it shows (one undo step)."""
        command = reveal_command(self.network, item_id)
        if command is not None:
            self.document.push(command)

    def select_block(self, block_id: str, center: bool = True) -> None:
        """Select a block on the canvas (its node when folded, its frame when open) and show it."""
        if block_id not in self.network.blocks:
            return
        self.reveal(block_id)
        self.scene.select_nodes([], block_ids=[block_id])
        item = self.scene.block_view.item_of(block_id)
        if center and item is not None:
            self.view.ensureVisible(item.sceneBoundingRect(), 60, 60)
