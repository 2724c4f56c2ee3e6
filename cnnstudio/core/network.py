"""The network graph: layers (nodes) joined by ordered edges, emitting events on change.

Pure data, no Qt and no TensorFlow. Views and the undo stack call these methods
and redraw from ``Network.changed``; nothing else edits a network.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .blocks import Block
from .events import Emitter

ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # use with fullmatch: "$" would let a final newline in


def valid_id(text: str) -> bool:
    """True when ``text`` is a layer id: letters, digits and _, not starting with a digit (nothing else)."""
    return ID_PATTERN.fullmatch(text) is not None


def copy_data(value: Any) -> Any:
    """A deep copy of plain JSON-like data (dicts, lists, tuples, scalars); several times faster than
    ``copy.deepcopy``, which matters for 20,000-layer networks. Anything else is copied with deepcopy."""
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(copy_data(v) for v in value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)


class NetworkChange(StrEnum):
    """What an edit did, as ``Network.changed`` reports it (with the ids concerned)."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"
    PARAMS = "params"
    MOVED = "moved"
    RENAMED = "renamed"
    EDGE_ADDED = "edge_added"
    EDGE_REMOVED = "edge_removed"
    BLOCKS = "blocks"  # blocks grouped, ungrouped, renamed, folded or frozen
    RESET = "reset"


class GraphError(ValueError):
    """An edit that would break the graph (duplicate id, unknown node, ...)."""


class CycleError(GraphError):
    """The edges form a loop; ``nodes`` lists the layers on it."""

    def __init__(self, nodes: list[str]) -> None:
        super().__init__("the connections form a loop through " + " -> ".join(nodes + nodes[:1]))
        self.nodes = nodes


@dataclass
class Node:
    """One layer: its id (the Keras layer name), Keras class name and constructor arguments."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys kept on save
    revision: int = 0  # bumped on every change; lets analysis reuse unchanged results
    trainable: bool = True  # False: frozen, its weights stay as they are while training

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "params": copy_data(self.params)}
        if self.position is not None:
            data["position"] = [self.position[0], self.position[1]]
        if not self.trainable:
            data["trainable"] = False
        data.update(copy_data(self.extra))
        return data


class Network:
    """A directed acyclic graph of layers. Several inputs and outputs are allowed.

    ``changed`` is emitted after every edit with ``kind`` (a `NetworkChange`) and the ids
    concerned.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[tuple[str, str]] = []
        self._index: _Adjacency | None = None  # built on first query after an edit
        self.blocks: dict[str, Block] = {}  # named groups of layers; see core/blocks.py
        self.changed = Emitter()
        self.version = 0  # bumped on every edit that can change shapes or counts

    def _adjacency(self) -> _Adjacency:
        """Inputs and outputs of every layer, kept until the edges change (queries stay linear
        in the network's size however often they are asked)."""
        if self._index is None:
            self._index = _Adjacency(self._edges)
        return self._index

    # ------------------------------------------------------------------ queries
    @property
    def nodes(self) -> Mapping[str, Node]:
        return self._nodes

    @property
    def edges(self) -> list[tuple[str, str]]:
        return list(self._edges)

    @property
    def edge_count(self) -> int:
        return len(self._edges)

    def has_edge(self, src: str, dst: str) -> bool:
        return (src, dst) in self._adjacency().pairs

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no layer '{node_id}'") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def inputs_of(self, node_id: str) -> list[str]:
        """The layers feeding ``node_id``, in the order their edges were listed."""
        return list(self._adjacency().inputs.get(node_id, ()))

    def outputs_of(self, node_id: str) -> list[str]:
        """The layers ``node_id`` feeds, in the order their edges were listed."""
        return list(self._adjacency().outputs.get(node_id, ()))

    def input_nodes(self) -> list[str]:
        return [n.id for n in self._nodes.values() if n.type == "Input"]

    def output_nodes(self) -> list[str]:
        """Layers with no outgoing edge (the model's outputs), in node order."""
        outputs = self._adjacency().outputs
        return [n for n in self._nodes if n not in outputs and self._nodes[n].type != "Input"]

    def unique_id(self, base: str) -> str:
        """A fresh id from a layer type: Conv2D -> conv2d, conv2d_1, ..."""
        stem = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", base).lower()
        stem = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "layer"
        if stem[0].isdigit():
            stem = "_" + stem
        if stem not in self._nodes:
            return stem
        i = 1
        while f"{stem}_{i}" in self._nodes:
            i += 1
        return f"{stem}_{i}"

    def topological_order(self) -> list[str]:
        """Node ids so every layer comes after its inputs; raises CycleError on a loop."""
        index = self._adjacency()
        incoming = {n: len(index.inputs.get(n, ())) for n in self._nodes}
        ready = deque(n for n in self._nodes if incoming[n] == 0)
        order: list[str] = []
        while ready:
            current = ready.popleft()
            order.append(current)
            for child in index.outputs.get(current, ()):
                incoming[child] -= 1
                if incoming[child] == 0:
                    ready.append(child)
        if len(order) < len(self._nodes):
            raise CycleError(self._find_cycle({n for n in self._nodes if incoming[n] > 0}))
        return order

    def _find_cycle(self, candidates: set[str]) -> list[str]:
        """Walk backwards through unfinished layers: each has an unfinished input, so a loop appears."""
        inputs = self._adjacency().inputs
        current = next(n for n in self._nodes if n in candidates)
        path: list[str] = []
        seen: dict[str, int] = {}
        while current not in seen:
            seen[current] = len(path)
            path.append(current)
            current = next(src for src in inputs[current] if src in candidates)
        return list(reversed(path[seen[current]:]))

    def would_cycle(self, src: str, dst: str) -> bool:
        """True when an edge src -> dst would close a loop (dst already reaches src)."""
        outputs = self._adjacency().outputs
        stack, seen = [dst], {dst}
        while stack:
            current = stack.pop()
            if current == src:
                return True
            for child in outputs.get(current, ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return False

    # ------------------------------------------------------------------ edits
    def add_node(
        self,
        type_name: str,
        params: Mapping[str, Any] | None = None,
        *,
        node_id: str | None = None,
        position: tuple[float, float] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Node:
        node_id = node_id or self.unique_id(type_name)
        if not valid_id(node_id):
            raise GraphError(f"'{node_id}' is not a valid layer id (letters, digits and _; not starting with a digit)")
        if node_id in self._nodes:
            raise GraphError(f"there is already a layer '{node_id}'")
        node = Node(node_id, type_name, dict(params or {}), _position(position), dict(extra or {}))
        self._nodes[node_id] = node
        self._bump()
        self.changed.emit(kind=NetworkChange.NODE_ADDED, ids=[node_id])
        return node

    def remove_node(self, node_id: str) -> list[tuple[int, tuple[str, str]]]:
        """Remove a layer and its edges; returns the removed edges with their positions (for undo)."""
        self.node(node_id)
        removed = [(i, e) for i, e in enumerate(self._edges) if node_id in e]
        self._set_edges([e for e in self._edges if node_id not in e])
        del self._nodes[node_id]
        self._bump()
        self.changed.emit(kind=NetworkChange.NODE_REMOVED, ids=[node_id])
        return removed

    def restore_node(self, node: Node, index: int | None = None) -> None:
        """Put back a removed node at its place in the node order (undo)."""
        if node.id in self._nodes:
            raise GraphError(f"there is already a layer '{node.id}'")
        items = list(self._nodes.items())
        index = len(items) if index is None else index
        items.insert(index, (node.id, node))
        self._nodes = dict(items)
        self._bump(node.id)
        self.changed.emit(kind=NetworkChange.NODE_ADDED, ids=[node.id])

    def node_index(self, node_id: str) -> int:
        return list(self._nodes).index(node_id)

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> None:
        """Replace a layer's parameters (values are checked by analysis, not here)."""
        node = self.node(node_id)
        node.params = dict(params)
        self._bump(node_id)
        self.changed.emit(kind=NetworkChange.PARAMS, ids=[node_id])

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one parameter; ``value`` None with a default removes it (back to Keras's default)."""
        params = dict(self.node(node_id).params)
        params[name] = value
        self.set_params(node_id, params)

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        """Freeze (False) or unfreeze one layer."""
        self.node(node_id).trainable = bool(trainable)
        self._bump(node_id)
        self.changed.emit(kind=NetworkChange.PARAMS, ids=[node_id])

    def move_node(self, node_id: str, position: tuple[float, float] | None) -> None:
        self.node(node_id).position = _position(position)
        self.changed.emit(kind=NetworkChange.MOVED, ids=[node_id])

    def rename_node(self, old: str, new: str) -> None:
        if old == new:
            return
        if not valid_id(new):
            raise GraphError(f"'{new}' is not a valid layer id (letters, digits and _; not starting with a digit)")
        if new in self._nodes:
            raise GraphError(f"there is already a layer '{new}'")
        node = self.node(old)
        node.id = new
        self._nodes = {(new if k == old else k): v for k, v in self._nodes.items()}
        self._set_edges([(new if s == old else s, new if d == old else d) for s, d in self._edges])
        for block in self.blocks.values():
            block.members = [new if m == old else m for m in block.members]
        self._bump(new)
        self.changed.emit(kind=NetworkChange.RENAMED, ids=[old, new])

    def connect(self, src: str, dst: str, index: int | None = None) -> None:
        """Add an edge; ``index`` places it in the edge list (input order matters for merges)."""
        self.node(src)
        self.node(dst)
        if src == dst:
            raise GraphError(f"'{src}' cannot be connected to itself")
        if self.has_edge(src, dst):
            raise GraphError(f"'{src}' is already connected to '{dst}'")
        if self.would_cycle(src, dst):
            raise GraphError(f"connecting '{src}' to '{dst}' would make a loop")
        if index is None or index >= len(self._edges):
            self._edges.append((src, dst))
            if self._index is not None:
                self._index.append(src, dst)
        else:
            self._edges.insert(index, (src, dst))
            self._index = None
        self._bump(dst)
        self.changed.emit(kind=NetworkChange.EDGE_ADDED, ids=[src, dst])

    def disconnect(self, src: str, dst: str) -> int:
        """Remove an edge; returns its former index in the edge list (for undo)."""
        try:
            index = self._edges.index((src, dst))
        except ValueError:
            raise GraphError(f"'{src}' is not connected to '{dst}'") from None
        del self._edges[index]
        self._index = None
        self._bump(dst)
        self.changed.emit(kind=NetworkChange.EDGE_REMOVED, ids=[src, dst])
        return index

    def _set_edges(self, edges: list[tuple[str, str]]) -> None:
        self._edges = edges
        self._index = None

    def _bump(self, node_id: str | None = None) -> None:
        self.version += 1
        if node_id is not None and node_id in self._nodes:
            self._nodes[node_id].revision += 1

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nodes": [n.to_dict() for n in self._nodes.values()],
            "edges": [[s, d] for s, d in self._edges],
        }
        if self.blocks:  # layers that left the network are dropped from their blocks
            data["blocks"] = [_present(b, self) for b in self.blocks.values()]
        return data

    @classmethod
    def from_parts(cls, nodes: Iterable[Node], edges: Iterable[tuple[str, str]],
                   blocks: Iterable[Block] = ()) -> Network:
        """Build without checks or events (the project loader validates first)."""
        net = cls()
        net._nodes = {n.id: n for n in nodes}
        net._set_edges([(s, d) for s, d in edges])
        net.blocks = {b.id: b for b in blocks}
        return net

    def copy(self) -> Network:
        return Network.from_parts([_copy_node(n) for n in self._nodes.values()], self._edges,
                                  copy.deepcopy(list(self.blocks.values())))

    def replace_with(self, other: Network) -> None:
        """Take over another network's nodes, edges and blocks (template replace, import)."""
        self._nodes = {n.id: _copy_node(n) for n in other.nodes.values()}
        self._set_edges(other.edges)
        self.blocks = {b.id: b for b in copy.deepcopy(list(other.blocks.values()))}
        self._bump()
        for n in self._nodes.values():
            n.revision += 1
        self.changed.emit(kind=NetworkChange.RESET, ids=list(self._nodes))


def _copy_node(node: Node) -> Node:
    return Node(node.id, node.type, copy_data(node.params), node.position, copy_data(node.extra), node.revision,
                node.trainable)


def _present(block: Block, network: Network) -> dict[str, Any]:
    data = block.to_dict()
    data["nodes"] = [m for m in block.members if m in network.nodes or m in network.blocks]
    return data


class _Adjacency:
    """Each layer's inputs and outputs in edge-list order, and the set of edges."""

    __slots__ = ("inputs", "outputs", "pairs")

    def __init__(self, edges: Iterable[tuple[str, str]]) -> None:
        self.inputs: dict[str, list[str]] = {}
        self.outputs: dict[str, list[str]] = {}
        self.pairs: set[tuple[str, str]] = set()
        for src, dst in edges:
            self.append(src, dst)

    def append(self, src: str, dst: str) -> None:
        self.inputs.setdefault(dst, []).append(src)
        self.outputs.setdefault(src, []).append(dst)
        self.pairs.add((src, dst))


def _position(position: Any) -> tuple[float, float] | None:
    if position is None:
        return None
    x, y = position
    return (float(x), float(y))
