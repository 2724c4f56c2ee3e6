"""A pretrained backbone dropped on the canvas takes the data as it is, through layers the user can see.

Dropped on a connection or added after a layer, the backbone gets the layers its input needs
before it (a Resizing layer up to its smallest size, a frozen Conv2D repeating a grey channel
three times: `core/backbone_input.py`). Dropped on an empty network (or one holding only its
Input), it becomes a whole network that trains on the project's data with no edit: an Input
of the data's size, those layers, the backbone, and a head (global average pooling and a Dense
layer with one unit per class). Each drop is one undo step and is said in the status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.backbone_input import InputLayer, describe, input_layers, is_backbone
from cnnstudio.core.catalog import get_spec
from cnnstudio.core.catalog.backbone_table import TABLE
from cnnstudio.core.network import Network

from .commands import AddNodesCommand, ConnectCommand, InsertCommand, MacroCommand
from .layout import NODE_HEIGHT, V_GAP

STEP = NODE_HEIGHT + V_GAP
DataFacts = tuple[tuple[int, ...] | None, int | None]  # (image shape as loaded, classes of a classifier)


def project_data(dataset: dict[str, Any]) -> DataFacts:
    """The images' shape as loaded (the project's resize and colour settings applied) and the classes,
    from the dataset's description; (None, None) where it is not known without loading."""
    from cnnstudio.core.datasets import dataset_info
    from cnnstudio.core.errors import UserError
    from cnnstudio.core.tasks import CLASSIFICATION

    try:
        info = dataset_info(str(dataset.get("name") or "mnist-sample"))
    except UserError:
        return None, None
    shape = info.input_shape
    size, colour = dataset.get("image_size"), dataset.get("color_mode")
    if shape is not None or (size and colour):
        h, w, c = shape if shape is not None else (0, 0, 0)
        if isinstance(size, (list, tuple)) and len(size) == 2:
            h, w = int(size[0]), int(size[1])
        if colour in ("grayscale", "rgb"):
            c = 1 if colour == "grayscale" else 3
        shape = (h, w, c)
    return shape, (info.num_classes if info.task == CLASSIFICATION else None)


class BackbonePlacing:
    """Mixed into ``NetworkEditor`` (its network, document, message signal and layout helpers)."""

    data_facts: Callable[[], DataFacts] | None = None  # the window's dataset panel, when there is one

    def place_backbone(self, type_name: str, position: tuple[float, float], *, source: str | None = None,
                       targets: list[str] | None = None, loose: bool = False) -> str | None:
        """Add a backbone fed by ``source`` (spliced in before ``targets``), or, ``loose``, as a whole
        network when the canvas holds nothing else; None when a loose backbone is an ordinary drop."""
        network: Network = self.network
        targets = list(targets or [])
        shape, classes = self._data()
        steps: list[QUndoCommand] = []
        new: list[dict[str, Any]] = []
        if loose:
            inputs = network.input_nodes()
            if len(network) == 1 and inputs:  # only the Input: the backbone follows it
                source = inputs[0]
            elif len(network) == 0:
                usual = int(TABLE[type_name]["default"])
                shape = shape or (usual, usual, 3)  # a folder not read yet: the family's usual size
                new.append({"id": "image", "type": "Input", "params": {"shape": list(shape)},
                            "position": [position[0], position[1]]})
            else:
                return None
        params = get_spec(type_name).initial_params()
        coming = shape if source is None else self.document.analysis().layers[source].output_shape
        adapters = input_layers(type_name, params, None if coming is None else tuple(coming))
        head = (not targets and not params.get("include_top") and classes is not None and classes >= 2
                and coming is not None and len(coming) == 3)  # it ends the network, fed with images
        x, y = position if source is None else (network.node(source).position or position)
        row = 1
        taken: set[str] = {"image"} if new else set()
        chain = [layer.node(_fresh(network, stem, taken), None) for layer, stem in
                 zip(adapters, _stems(adapters), strict=True)]
        backbone_id = _fresh(network, network.unique_id(type_name), taken)
        chain.append({"id": backbone_id, "type": type_name, "params": params})
        if head:
            chain.append({"id": _fresh(network, "global_average_pooling2d", taken), "type": "GlobalAveragePooling2D",
                          "params": {}})
            chain.append({"id": _fresh(network, "dense", taken), "type": "Dense",
                          "params": {**get_spec("Dense").initial_params(), "units": classes,
                                     "activation": "softmax"}})
        for node in chain:
            node["position"] = [x, y + row * STEP]
            row += 1
        if source is None:  # a network of its own
            nodes = new + chain
            edges = [(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:])]
            steps.append(AddNodesCommand(network, nodes, edges))
        else:
            moves = self._rows_down(targets, chain[0]["position"][1], len(chain))
            previous = source
            for index, node in enumerate(chain):
                steps.append(InsertCommand(network, node, previous, targets, moves if index == 0 else None))
                previous = node["id"]
        text = f"Add {type_name}" + (" with what it needs" if len(chain) > 1 or new else "")
        self.document.push(MacroCommand(text, steps))
        self.select([backbone_id], center=True)
        said = describe(type_name, backbone_id, adapters,
                        [f"an Input of {'x'.join(map(str, new[0]['params']['shape']))}"] if new else [],
                        [f"a head for {classes} classes"] if head else [])
        if said:
            self.message.emit("info", said)
        return backbone_id

    def backbone_connection(self, src: str, dst: str) -> QUndoCommand | None:
        """Connecting a layer to a backbone nothing feeds yet: through the layers its input needs (one undo
        step, said in the status bar); None for an ordinary connection."""
        network: Network = self.network
        node = network.node(dst)
        if not is_backbone(node.type) or network.inputs_of(dst):
            return None
        coming = self.document.analysis().layers[src].output_shape if src in self.document.analysis().layers \
            else None
        adapters = input_layers(node.type, node.params, None if coming is None else tuple(coming))
        if not adapters:
            return None
        (sx, sy), (dx, dy) = network.node(src).position or (0.0, 0.0), node.position or (0.0, 0.0)
        taken: set[str] = set()
        chain = []
        for index, (layer, stem) in enumerate(zip(adapters, _stems(adapters), strict=True)):
            share = (index + 1) / (len(adapters) + 1)  # spread along the way from the layer to the backbone
            chain.append(layer.node(_fresh(network, stem, taken), (sx + (dx - sx) * share, sy + (dy - sy) * share)))
        ids = [src, *(n["id"] for n in chain), dst]
        add = AddNodesCommand(network, chain, list(zip(ids[1:-1], ids[2:-1])))
        self.message.emit("info", describe(node.type, dst, adapters))
        return MacroCommand(f"Connect {src} to {dst}", [add, ConnectCommand(network, src, ids[1]),
                                                        ConnectCommand(network, ids[-2], dst)])

    def _data(self) -> DataFacts:
        if self.data_facts is not None:
            found = self.data_facts()
            if found is not None:
                return found
        return project_data(self.document.project.dataset)

    def _rows_down(self, starts: list[str], top: float, rows: int) -> dict[str, Any]:
        """Moves that push everything from ``starts`` on down by ``rows`` rows, where it is in the way."""
        seen, stack = set(), list(starts)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.network.outputs_of(current))
        moves = {}
        for node_id in seen:
            position = self.network.node(node_id).position
            if position is not None and position[1] >= top - NODE_HEIGHT / 2:
                moves[node_id] = (position, (position[0], position[1] + rows * STEP))
        return moves


def _stems(adapters: list[InputLayer]) -> list[str]:
    return ["resizing" if a.type == "Resizing" else "grey_to_rgb" if not a.trainable else "to_rgb"
            for a in adapters]


def _fresh(network: Network, stem: str, taken: set[str]) -> str:
    candidate, n = stem, 1
    while candidate in network.nodes or candidate in network.blocks or candidate in taken:
        candidate = f"{stem}_{n}"
        n += 1
    taken.add(candidate)
    return candidate

