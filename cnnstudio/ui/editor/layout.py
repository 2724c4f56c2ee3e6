"""Auto-layout for the canvas: layered, top to bottom, never overlapping.

The algorithm lives in ``cnnstudio.core.layout`` (the importer uses it too); the
canvas's node boxes (NODE_WIDTH x NODE_HEIGHT, positioned by their centre) are the
boxes it keeps apart.
"""

from __future__ import annotations

from cnnstudio.core.layout import H_GAP, NODE_HEIGHT, NODE_WIDTH, V_GAP, auto_layout
from cnnstudio.core.network import Network

__all__ = ["H_GAP", "NODE_HEIGHT", "NODE_WIDTH", "V_GAP", "layout_positions", "needs_layout"]


def needs_layout(network: Network) -> bool:
    """True when some layer has no position (templates, imported models)."""
    return any(node.position is None for node in network)


def layout_positions(network: Network) -> dict[str, tuple[float, float]]:
    """Centre positions for every layer, in layers from the inputs downwards."""
    return auto_layout(network)
