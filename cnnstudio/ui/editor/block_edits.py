"""Group, ungroup and repeat blocks from the canvas selection, each as one undo step.

Each edit is tried on a copy of the network first; when core refuses it (a group that would
make a loop once folded, or cut a block in two; a repeat whose input and output differ) the
reason comes back in the user's words and nothing changes.
"""

from __future__ import annotations

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
