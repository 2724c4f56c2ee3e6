"""Auto-layout for the canvas: layered, top to bottom, never overlapping.

Uses ``cnnstudio.core.layout.auto_layout`` when it is there and a small layered
layout of our own otherwise; either way the positions are spread out so that
the canvas's node boxes (NODE_WIDTH x NODE_HEIGHT, positioned by their centre)
never overlap.
"""

from __future__ import annotations

from collections import defaultdict

from cnnstudio.core.network import CycleError, Network

NODE_WIDTH = 240.0
NODE_HEIGHT = 80.0
H_GAP = 40.0
V_GAP = 56.0


def needs_layout(network: Network) -> bool:
    """True when some layer has no position (templates, imported models)."""
    return any(node.position is None for node in network)


def layout_positions(network: Network) -> dict[str, tuple[float, float]]:
    """Centre positions for every layer, in layers from the inputs downwards."""
    if not len(network):
        return {}
    try:
        from cnnstudio.core.layout import auto_layout
    except ImportError:
        positions = _layered(network)
    else:
        positions = {k: (float(x), float(y)) for k, (x, y) in auto_layout(network).items()}
        positions.update({k: v for k, v in _layered(network).items() if k not in positions})
    return _spread(positions)


def _order(network: Network) -> list[str]:
    try:
        return network.topological_order()
    except CycleError:
        return list(network.nodes)


def _layered(network: Network) -> dict[str, tuple[float, float]]:
    """Longest-path layers; within a layer, each node sits under its inputs' mean x."""
    order = _order(network)
    depth: dict[str, int] = {}
    for node_id in order:
        parents = [p for p in network.inputs_of(node_id) if p in depth]
        depth[node_id] = max((depth[p] + 1 for p in parents), default=0)
    rows: dict[int, list[str]] = defaultdict(list)
    for node_id in order:
        rows[depth[node_id]].append(node_id)
    step = NODE_WIDTH + H_GAP
    xs: dict[str, float] = {}
    for row in sorted(rows):
        members = rows[row]
        wanted = {}
        for rank, node_id in enumerate(members):
            parents = [xs[p] for p in network.inputs_of(node_id) if p in xs]
            wanted[node_id] = (
                sum(parents) / len(parents) if parents else (rank - (len(members) - 1) / 2) * step
            )
        members.sort(key=lambda n: wanted[n])
        placed: list[float] = []
        for node_id in members:
            x = wanted[node_id] if not placed else max(wanted[node_id], placed[-1] + step)
            placed.append(x)
        shift = sum(wanted.values()) / len(members) - sum(placed) / len(placed)
        for node_id, x in zip(members, placed, strict=True):
            xs[node_id] = x + shift
    return {n: (xs[n], depth[n] * (NODE_HEIGHT + V_GAP)) for n in order}


def _spread(positions: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Scale and push positions apart until no two node boxes overlap."""
    ys = sorted({round(y, 6) for _, y in positions.values()})
    gaps = [b - a for a, b in zip(ys, ys[1:], strict=False) if b - a > 1e-9]
    scale_y = max(1.0, (NODE_HEIGHT + V_GAP) / min(gaps)) if gaps else 1.0
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for node_id, (x, y) in positions.items():
        rows[round(y, 6)].append((x, node_id))
    x_gaps = []
    for members in rows.values():
        members.sort()
        x_gaps += [b[0] - a[0] for a, b in zip(members, members[1:], strict=False) if b[0] - a[0] > 1e-9]
    scale_x = max(1.0, (NODE_WIDTH + H_GAP) / min(x_gaps)) if x_gaps else 1.0
    out: dict[str, tuple[float, float]] = {}
    for y, members in rows.items():
        last = None
        for x, node_id in members:
            x *= scale_x
            if last is not None and x < last + NODE_WIDTH + H_GAP:
                x = last + NODE_WIDTH + H_GAP
            out[node_id] = (round(x, 1), round(y * scale_y, 1))
            last = x
    return out
