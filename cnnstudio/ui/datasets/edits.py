"""Undoable network edits the dataset panel offers: a layer spliced in after another, or taken out.

Built from the editor's own commands (InsertCommand, RemoveCommand, ConnectCommand,
MoveCommand), so undo/redo and the canvas behave exactly as for edits made by hand.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.catalog import CATALOG, get_spec
from cnnstudio.core.network import Network

from ..editor.commands import (
    ConnectCommand,
    InsertCommand,
    MacroCommand,
    MoveCommand,
    RemoveCommand,
    SetParamCommand,
    SetParamsCommand,
)
from ..editor.layout import NODE_HEIGHT, V_GAP

STEP = NODE_HEIGHT + V_GAP  # one row on the canvas



def is_augmentation(type_name: str) -> bool:
    """A layer that changes the images at random while training (its catalog entry says so)."""
    spec = CATALOG.get(type_name)
    return spec is not None and spec.augmentation


def the_input(network: Network) -> str | None:
    """The network's one Input layer, or None when it has none or several."""
    inputs = network.input_nodes()
    return inputs[0] if len(inputs) == 1 else None


def downstream(network: Network, starts: list[str]) -> set[str]:
    """Every layer reachable from ``starts`` (them included)."""
    seen, stack = set(), list(starts)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(network.outputs_of(current))
    return seen


def new_node(network: Network, type_name: str, params: dict[str, Any], near: str) -> dict[str, Any]:
    """A node dict for InsertCommand: catalog starting values overridden by ``params``, one row below ``near``."""
    x, y = network.node(near).position or (0.0, 0.0)
    return {"id": network.unique_id(type_name), "type": type_name,
            "params": {**get_spec(type_name).initial_params(), **params}, "position": [x, y + STEP]}


def insert_after(network: Network, anchor: str, type_name: str, params: dict[str, Any],
                 text: str | None = None) -> InsertCommand:
    """Splice a new layer between ``anchor`` and the layers it feeds, making room below it."""
    node = new_node(network, type_name, params, anchor)
    targets = network.outputs_of(anchor)
    top = node["position"][1]
    moves = {}
    for node_id in downstream(network, targets):
        position = network.node(node_id).position
        if position is not None and position[1] >= top - NODE_HEIGHT / 2:
            moves[node_id] = (position, (position[0], position[1] + STEP))
    return InsertCommand(network, node, anchor, targets, moves, text=text or f"Insert {type_name} after {anchor}")


def splice_out(network: Network, node_id: str, text: str | None = None) -> QUndoCommand:
    """Remove a one-input layer and connect its input straight to the layers it fed; close the gap."""
    sources = network.inputs_of(node_id)
    targets = network.outputs_of(node_id)
    steps: list[QUndoCommand] = []
    if len(sources) == 1:
        src = sources[0]
        for dst in targets:
            index = network.edges.index((node_id, dst))
            steps.append(RemoveCommand(network, edges=[(node_id, dst)]))
            if (src, dst) not in network.edges:
                steps.append(ConnectCommand(network, src, dst, index))
    steps.append(RemoveCommand(network, [node_id]))
    y = (network.node(node_id).position or (0.0, 0.0))[1]
    moves = {}
    for other in downstream(network, targets):
        position = network.node(other).position
        if position is not None and position[1] > y:
            moves[other] = (position, (position[0], position[1] - STEP))
    if moves:
        steps.append(MoveCommand(network, moves))
    return MacroCommand(text or f"Remove {node_id}", steps)


def augmentation_chain(network: Network) -> list[str]:
    """The augmentation layers in a row right after the Input (where the panel's checkboxes put them)."""
    chain: list[str] = []
    current = the_input(network)
    while current is not None:
        after = network.outputs_of(current)
        if len(after) != 1 or not is_augmentation(network.node(after[0]).type):
            break
        current = after[0]
        if len(network.inputs_of(current)) != 1:
            break
        chain.append(current)
    return chain


def augmentation_layers(network: Network, type_name: str) -> list[str]:
    """Every layer of this augmentation type, wherever it is in the network."""
    return [node.id for node in network if node.type == type_name]


def add_augmentation(network: Network, type_name: str, params: dict[str, Any]) -> QUndoCommand | None:
    """Put an augmentation layer at the end of the augmentation chain after the Input."""
    start = the_input(network)
    if start is None:
        return None
    chain = augmentation_chain(network)
    anchor = chain[-1] if chain else start
    return insert_after(network, anchor, type_name, params, text=f"Add {type_name} augmentation")


def remove_augmentation(network: Network, type_name: str) -> QUndoCommand | None:
    """Take every layer of this augmentation type out, as one step."""
    found = augmentation_layers(network, type_name)
    if not found:
        return None
    if len(found) == 1:
        return splice_out(network, found[0], text=f"Remove {type_name} augmentation")
    # Each splice is built against the network as the earlier ones leave it (tried quietly, then undone).
    steps: list[QUndoCommand] = []
    with network.changed.blocker():
        for node_id in found:
            steps.append(splice_out(network, node_id))
            steps[-1].redo()
        for step in reversed(steps):
            step.undo()
    return MacroCommand(f"Remove {type_name} augmentation", steps)


def set_input_shape(network: Network, input_id: str, shape: list[int]) -> SetParamCommand:
    return SetParamCommand(network, input_id, "shape", list(shape))


def set_params(network: Network, node_id: str, changes: dict[str, Any], text: str) -> SetParamsCommand:
    return SetParamsCommand(network, node_id, {**network.node(node_id).params, **changes}, text)
