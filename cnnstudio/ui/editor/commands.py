"""Undoable edits. Each command only calls ``Network`` methods; views redraw from events.

(The Ryven FlowCommands pattern: no command ever touches a scene item.)
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from cnnstudio.core import blocks
from cnnstudio.core.network import Network, Node

Position = tuple[float, float]

PARAM_EDIT_ID = 1001
NUDGE_ID = 1002
_bursts = itertools.count(1)


def new_burst() -> int:
    """A token for one typing burst: param edits carrying the same token merge."""
    return next(_bursts)


class NetworkCommand(QUndoCommand):
    def __init__(self, network: Network, text: str) -> None:
        super().__init__(text)
        self.network = network


class AddNodesCommand(NetworkCommand):
    """Add layers (``Node.to_dict()`` form, ids already unique) and edges among them."""

    def __init__(
        self,
        network: Network,
        nodes: list[dict[str, Any]],
        edges: Iterable[tuple[str, str]] = (),
        text: str = "Add Layer",
    ) -> None:
        super().__init__(network, text)
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = list(edges)

    @property
    def node_ids(self) -> list[str]:
        return [n["id"] for n in self.nodes]

    def redo(self) -> None:
        for data in self.nodes:
            extra = {k: v for k, v in data.items() if k not in ("id", "type", "params", "position", "trainable")}
            self.network.add_node(
                data["type"],
                copy.deepcopy(data.get("params", {})),
                node_id=data["id"],
                position=data.get("position"),
                extra=copy.deepcopy(extra),
            )
            if data.get("trainable", True) is False:  # a frozen layer copied stays frozen
                self.network.set_trainable(data["id"], False)
        for src, dst in self.edges:
            self.network.connect(src, dst)

    def undo(self) -> None:
        for src, dst in reversed(self.edges):
            self.network.disconnect(src, dst)
        for data in reversed(self.nodes):
            self.network.remove_node(data["id"])


class RemoveCommand(NetworkCommand):
    """Delete connections and layers (with their connections); undo puts everything back in place."""

    def __init__(
        self,
        network: Network,
        node_ids: Iterable[str] = (),
        edges: Iterable[tuple[str, str]] = (),
        text: str = "Delete",
    ) -> None:
        super().__init__(network, text)
        self.node_ids = list(node_ids)
        self.edges = [e for e in edges if e[0] not in self.node_ids and e[1] not in self.node_ids]
        self._edge_steps: list[tuple[int, tuple[str, str]]] = []
        self._node_steps: list[tuple[Node, int, list[tuple[int, tuple[str, str]]]]] = []

    def redo(self) -> None:
        self._edge_steps = [(self.network.disconnect(src, dst), (src, dst)) for src, dst in self.edges]
        self._node_steps = []
        for node_id in self.node_ids:
            node, index = self.network.node(node_id), self.network.node_index(node_id)
            removed = self.network.remove_node(node_id)
            self._node_steps.append((node, index, removed))

    def undo(self) -> None:
        for node, index, removed in reversed(self._node_steps):
            self.network.restore_node(node, index)
            for edge_index, (src, dst) in sorted(removed):
                self.network.connect(src, dst, edge_index)
        for edge_index, (src, dst) in reversed(self._edge_steps):
            self.network.connect(src, dst, edge_index)


class ConnectCommand(NetworkCommand):
    def __init__(self, network: Network, src: str, dst: str, index: int | None = None) -> None:
        super().__init__(network, f"Connect {src} to {dst}")
        self.src, self.dst, self.index = src, dst, index

    def redo(self) -> None:
        self.network.connect(self.src, self.dst, self.index)

    def undo(self) -> None:
        self.network.disconnect(self.src, self.dst)


class InsertCommand(NetworkCommand):
    """Add a layer and splice it into connections: src -> new -> each of ``targets``.

    Each target keeps its input position (it matters for Concatenate). ``moves``
    shifts layers below the new one to make room.
    """

    def __init__(
        self,
        network: Network,
        node: dict[str, Any],
        src: str | None,
        targets: Iterable[str] = (),
        moves: Mapping[str, tuple[Position | None, Position]] | None = None,
        text: str = "Insert Layer",
    ) -> None:
        super().__init__(network, text)
        self.node = copy.deepcopy(node)
        self.src = src
        self.targets = list(targets)
        self.moves = dict(moves or {})
        self._indices: list[int] = []

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.network.move_node(node_id, new)
        new_id = self.node["id"]
        self.network.add_node(
            self.node["type"],
            copy.deepcopy(self.node.get("params", {})),
            node_id=new_id,
            position=self.node.get("position"),
        )
        if self.node.get("trainable", True) is False:
            self.network.set_trainable(new_id, False)
        self._indices = [self.network.disconnect(self.src, dst) for dst in self.targets]
        if self.src is not None:
            self.network.connect(self.src, new_id)
        for dst, index in zip(self.targets, self._indices, strict=True):
            self.network.connect(new_id, dst, index)

    def undo(self) -> None:
        new_id = self.node["id"]
        for dst in reversed(self.targets):
            self.network.disconnect(new_id, dst)
        if self.src is not None:
            self.network.disconnect(self.src, new_id)
        for dst, index in reversed(list(zip(self.targets, self._indices, strict=True))):
            self.network.connect(self.src, dst, index)
        self.network.remove_node(new_id)
        for node_id, (old, _) in self.moves.items():
            self.network.move_node(node_id, old)


class MoveCommand(NetworkCommand):
    """Move layers: one drag, one auto-layout or one nudge is one step."""

    def __init__(
        self, network: Network, moves: Mapping[str, tuple[Position | None, Position]], text: str = "Move"
    ) -> None:
        super().__init__(network, text)
        self.moves = dict(moves)

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.network.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.network.move_node(node_id, old)


class NudgeCommand(MoveCommand):
    """Arrow-key moves; a run of them on the same layers is one step."""

    def id(self) -> int:
        return NUDGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, NudgeCommand) or set(other.moves) != set(self.moves):
            return False
        self.moves = {n: (self.moves[n][0], other.moves[n][1]) for n in self.moves}
        self.setObsolete(all(old == new for old, new in self.moves.values()))
        return True


class SetParamsCommand(NetworkCommand):
    """Replace a layer's parameters (undo restores the exact former dict)."""

    def __init__(
        self, network: Network, node_id: str, new_params: Mapping[str, Any], text: str | None = None
    ) -> None:
        super().__init__(network, text or f"Change {node_id}")
        self.node_id = node_id
        self.old_params = copy.deepcopy(network.node(node_id).params)
        self.new_params = copy.deepcopy(dict(new_params))

    def redo(self) -> None:
        self.network.set_params(self.node_id, copy.deepcopy(self.new_params))

    def undo(self) -> None:
        self.network.set_params(self.node_id, copy.deepcopy(self.old_params))


class SetParamCommand(SetParamsCommand):
    """Set one parameter. Consecutive edits of the same field in one burst merge into one step."""

    def __init__(
        self, network: Network, node_id: str, name: str, value: Any, burst: int | None = None
    ) -> None:
        params = dict(network.node(node_id).params)
        params[name] = value
        super().__init__(network, node_id, params, f"Change {node_id}.{name}")
        self.name = name
        self.burst = burst

    def id(self) -> int:
        return PARAM_EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, SetParamCommand)
            and self.burst is not None
            and other.burst == self.burst
            and other.node_id == self.node_id
            and other.name == self.name
        ):
            return False
        self.new_params = copy.deepcopy(other.new_params)
        self.setObsolete(self.new_params == self.old_params)
        return True


class RenameCommand(NetworkCommand):
    def __init__(self, network: Network, old: str, new: str) -> None:
        super().__init__(network, f"Rename {old} to {new}")
        self.old, self.new = old, new

    def redo(self) -> None:
        self.network.rename_node(self.old, self.new)

    def undo(self) -> None:
        self.network.rename_node(self.new, self.old)


class ReplaceNetworkCommand(NetworkCommand):
    """Swap the whole network for another (template replace, import)."""

    def __init__(self, network: Network, replacement: Network, text: str = "Replace Network") -> None:
        super().__init__(network, text)
        self.before = network.copy()
        self.after = replacement.copy()

    def redo(self) -> None:
        self.network.replace_with(self.after)

    def undo(self) -> None:
        self.network.replace_with(self.before)


class MacroCommand(QUndoCommand):
    """Several commands as one step (Cut = copy + delete; paste + connect)."""

    def __init__(self, text: str, commands: Iterable[QUndoCommand]) -> None:
        super().__init__(text)
        self.commands = list(commands)  # kept in Python: no Qt parent ownership to worry about

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()


class BlocksCommand(NetworkCommand):
    """A change to the blocks only (group, ungroup, fold, rename): undo puts the former blocks back."""

    def __init__(self, network: Network, before: list[dict[str, Any]], after: list[dict[str, Any]],
                 text: str) -> None:
        super().__init__(network, text)
        self.before, self.after = copy.deepcopy(before), copy.deepcopy(after)

    @classmethod
    def fold(cls, network: Network, block_id: str, collapsed: bool) -> BlocksCommand:
        before = blocks.blocks_state(network)
        after = copy.deepcopy(before)
        for item in after:
            if item["id"] == block_id:
                item["collapsed"] = collapsed
        name = network.blocks[block_id].name
        return cls(network, before, after, f"{'Collapse' if collapsed else 'Expand'} {name}")

    def redo(self) -> None:
        blocks.restore_blocks(self.network, self.after)

    def undo(self) -> None:
        blocks.restore_blocks(self.network, self.before)
