"""Pieces of a network to copy, cut, duplicate and paste: layers, their inner connections and their blocks.

A fragment is plain project-file JSON, `{"nodes", "edges", "blocks"}`: the chosen layers, the
connections among them, and the blocks that come whole with them (a chosen block brings its
layers and nested blocks; a block whose layers are all chosen comes too), so a pasted copy is
grouped, nested, folded and frozen as the original was. Pasting renames what is taken.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from . import blocks
from .network import ID_PATTERN, Network


def fragment(network: Network, node_ids: Iterable[str], block_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The chosen layers and blocks (with every layer inside them), the connections among them, and the
    blocks wholly inside, as project-file JSON."""
    wanted = set(node_ids)
    for block_id in block_ids:
        if block_id in network.blocks:
            wanted.update(blocks.layers_in(network, block_id))
    chosen = [n for n in network.nodes if n in wanted]
    edges = [[s, d] for s, d in network.edges if s in wanted and d in wanted]
    whole = [b for b in network.blocks if (inside := blocks.layers_in(network, b)) and set(inside) <= wanted]
    kept = set(whole)
    copies = []
    for block_id in whole:
        data = network.blocks[block_id].to_dict()
        data["nodes"] = [m for m in data["nodes"] if m in wanted or m in kept]
        copies.append(data)
    result: dict[str, Any] = {"nodes": [network.node(n).to_dict() for n in chosen], "edges": edges}
    if copies:
        result["blocks"] = copies
    return result


def checked(data: Any) -> dict[str, Any] | None:
    """The fragment with what does not fit left out (from the clipboard: any text); None if no layer is left."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return None
    nodes = [n for n in data["nodes"] if isinstance(n, dict) and isinstance(n.get("type"), str)
             and isinstance(n.get("id"), str) and ID_PATTERN.match(n["id"])]
    if not nodes:
        return None
    ids = {n["id"] for n in nodes}
    edges = [e for e in data.get("edges", [])
             if isinstance(e, list) and len(e) == 2 and e[0] in ids and e[1] in ids and e[0] != e[1]]
    raw = data.get("blocks") if isinstance(data.get("blocks"), list) else []
    found = [b for b in raw if isinstance(b, dict) and isinstance(b.get("id"), str) and ID_PATTERN.match(b["id"])
             and b["id"] not in ids and isinstance(b.get("nodes"), list)]
    block_ids = {b["id"] for b in found}
    groups, held = [], set()
    for item in found:
        members = [m for m in item["nodes"] if isinstance(m, str) and (m in ids or m in block_ids) and m not in held]
        held.update(members)
        groups.append({**item, "nodes": members})
    parent = {m: g["id"] for g in groups for m in g["nodes"]}
    for group in groups:  # a block that would end up inside itself loses its nested blocks
        current, steps = parent.get(group["id"]), 0
        while current is not None and current != group["id"] and steps <= len(groups):
            current, steps = parent.get(current), steps + 1
        if current is not None:
            group["nodes"] = [m for m in group["nodes"] if m in ids]
            parent = {m: g["id"] for g in groups for m in g["nodes"]}
    result: dict[str, Any] = {"nodes": nodes, "edges": edges}
    if groups:
        result["blocks"] = groups
    return result


def paste_plan(network: Network, data: dict[str, Any], offset: tuple[float, float]
               ) -> tuple[list[dict[str, Any]], list[tuple[str, str]], list[dict[str, Any]]]:
    """Nodes with fresh ids (conv1 -> conv1_1 when taken) moved by ``offset``, their edges, and their blocks
    with fresh ids and names ("Stage 1 (copy)"), ready to add to the network's blocks at the top level."""
    taken = set(network.nodes) | set(network.blocks)
    renamed: dict[str, str] = {}
    nodes = []
    for raw in data["nodes"]:
        node = copy.deepcopy(raw)
        new_id = _fresh(node["id"], taken)
        renamed[node["id"]] = new_id
        node["id"] = new_id
        x, y = node.get("position") or (0.0, 0.0)
        node["position"] = [float(x) + offset[0], float(y) + offset[1]]
        nodes.append(node)
    edges = []
    for src, dst in data.get("edges", []):
        if src in renamed and dst in renamed:
            edge = (renamed[src], renamed[dst])
            if edge not in edges:
                edges.append(edge)
    raw_blocks = data.get("blocks", [])
    block_ids = {item["id"]: _fresh(item["id"], taken) for item in raw_blocks}
    names = {b.name for b in network.blocks.values()}
    groups = []
    for item in raw_blocks:
        group = copy.deepcopy(item)
        group["id"] = block_ids[item["id"]]
        group["name"] = _copy_name(str(item.get("name") or item["id"]), names)
        names.add(group["name"])
        group["nodes"] = [renamed.get(m) or block_ids[m] for m in item["nodes"] if m in renamed or m in block_ids]
        original = group.get("copy_of")
        if original in block_ids:
            group["copy_of"] = block_ids[original]
        elif original is not None and original not in network.blocks:
            del group["copy_of"]  # a copy of a block this network does not hold
        groups.append(group)
    return nodes, edges, groups


def top_items(nodes: list[dict[str, Any]], groups: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(layers in no block, blocks in no block) of a pasted fragment: what to select once it is added."""
    held = {m for g in groups for m in g["nodes"]}
    return [n["id"] for n in nodes if n["id"] not in held], [g["id"] for g in groups if g["id"] not in held]


def blocks_without(network: Network, layer_ids: Iterable[str], block_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The network's blocks as plain data once the given blocks (with those nested in them) and the
    given layers are deleted: a block left with no layer goes too."""
    gone_layers = set(layer_ids)
    gone = set()
    for block_id in block_ids:
        if block_id in network.blocks:
            gone.add(block_id)
            gone.update(_nested(network, block_id))
    for block_id in network.blocks:
        inside = set(blocks.layers_in(network, block_id))
        if inside and inside <= gone_layers:
            gone.add(block_id)
    state = []
    for item in blocks.blocks_state(network):
        if item["id"] not in gone:
            state.append({**item, "nodes": [m for m in item["nodes"] if m not in gone]})
    return state


def _nested(network: Network, block_id: str) -> list[str]:
    found, stack = [], [block_id]
    while stack:
        for member in network.blocks[stack.pop()].members:
            if member in network.blocks:
                found.append(member)
                stack.append(member)
    return found


def _fresh(item_id: str, taken: set[str]) -> str:
    """``item_id`` itself when free, else its stem with the first free number (conv1 -> conv1_1)."""
    new_id = item_id
    if new_id in taken:
        stem = item_id.rstrip("0123456789").rstrip("_") if item_id.rsplit("_", 1)[-1].isdigit() else item_id
        stem = stem or "layer"
        i = 1
        while f"{stem}_{i}" in taken:
            i += 1
        new_id = f"{stem}_{i}"
    taken.add(new_id)
    return new_id


def _copy_name(name: str, names: set[str]) -> str:
    if name not in names:
        return name
    base = name.removesuffix(" (copy)")
    candidate, n = f"{base} (copy)", 2
    while candidate in names:
        candidate = f"{base} (copy {n})"
        n += 1
    return candidate
