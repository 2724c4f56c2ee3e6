"""Folding blocks on the canvas, as a text editor folds code: a collapsed block takes one row.

A collapsed block's layers keep their saved positions; the canvas shows the block as one node at
the top of their rows, and everything below moves up by the height the block no longer takes.
``Fold`` maps a saved height to the height shown and back (moves made while folded are saved
unfolded).
"""

from __future__ import annotations

from cnnstudio.core import blocks
from cnnstudio.core.analysis import Analysis
from cnnstudio.core.network import Network


def folded_blocks(network: Network, held: dict[str, str] | None = None) -> list[str]:
    """The collapsed blocks that are shown (not inside another collapsed block), in the order made."""
    held = blocks.parents(network) if held is None else held
    shown = []
    for block_id, block in network.blocks.items():
        if not block.collapsed:
            continue
        owner = held.get(block_id)
        while owner is not None and not network.blocks[owner].collapsed:
            owner = held.get(owner)
        if owner is None:
            shown.append(block_id)
    return shown


def hidden_layers(folded: list[str], layers: dict[str, list[str]]) -> dict[str, str]:
    """Layer id -> the folded block that hides it (``layers``: each block's layers)."""
    return {layer: block_id for block_id in folded for layer in layers[block_id]}


def hidden_blocks(network: Network, folded: list[str], held: dict[str, str]) -> set[str]:
    """The blocks inside a folded block (not drawn: their folded block stands for them)."""
    shut = set(folded)
    inside = set()
    for block_id in network.blocks:
        owner = held.get(block_id)
        while owner is not None:
            if owner in shut:
                inside.add(block_id)
                break
            owner = held.get(owner)
    return inside


class Fold:
    """Saved heights -> shown heights: each folded span (top, bottom] of saved rows shrinks to nothing."""

    def __init__(self, spans: list[tuple[float, float]] = ()) -> None:
        merged: list[list[float]] = []
        for top, bottom in sorted(spans):
            if bottom <= top:
                continue
            if merged and top <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], bottom)
            else:
                merged.append([top, bottom])
        self.spans = [(top, bottom) for top, bottom in merged]

    def __bool__(self) -> bool:
        return bool(self.spans)

    def shown(self, y: float) -> float:
        """Where a saved height is shown."""
        shift = 0.0
        for top, bottom in self.spans:
            if y <= top:
                break
            shift += min(y, bottom) - top
        return y - shift

    def saved(self, y: float) -> float:
        """The saved height of a shown one (the inverse of ``shown`` outside folded spans)."""
        for top, bottom in self.spans:
            if y <= top:
                break
            y += bottom - top
        return y


_tree: list = [None, None, []]  # the analysis and blocks last summed up, and their tree


def block_totals(network: Network, analysis: Analysis) -> list[blocks.BlockInfo]:
    """``blocks.block_tree``, worked out once per analysis and set of blocks: the canvas, the Summary and
    the Inspector all show it after every edit of a large network."""
    if _tree[0] is not analysis or _tree[1] is not network.blocks:
        _tree[:] = [analysis, network.blocks, blocks.block_tree(network, analysis) if network.blocks else []]
    return _tree[2]
