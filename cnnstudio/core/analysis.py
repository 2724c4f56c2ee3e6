"""Output shapes, parameter counts, receptive fields and diagnostics for a network.

Pure Python and instant: run after every edit. Each figure equals what Keras
reports for the same model, and comes with its formula for the inspector.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from .blocks import block_tree, frozen_layers, parents
from .catalog import CATALOG, IDENTITY, Inference, ParamError, ShapeError, Step, dims_text
from .network import CycleError, Network

ERROR = "error"
WARNING = "warning"
# A warning of this kind means the network is valid but does not suit the project's data (outputs vs
# classes): summary, inspection and export go ahead, training refuses it.
DATA_FIT = "does not fit the data"

CLASSIFICATION_LOSSES = {"sparse_categorical_crossentropy", "categorical_crossentropy"}


@dataclass(frozen=True)
class Diagnostic:
    """A problem (error) or a remark (warning) attached to the layer that causes it."""

    node: str | None
    severity: str
    message: str
    kind: str = ""  # DATA_FIT for a mismatch with the data; empty for everything else

    def __str__(self) -> str:
        where = f"{self.node}: " if self.node else ""
        return f"{where}{self.message}"


@dataclass
class LayerInfo:
    """Everything the summary table and inspector show for one layer."""

    id: str
    type: str
    output_shape: tuple[int | None, ...] | None = None
    weights: int = 0
    biases: int = 0
    non_trainable: int = 0
    receptive_field: tuple[int, ...] | None = None
    jump: tuple[float, ...] | None = None
    field_size: tuple[float, ...] | None = None  # receptive field before rounding up
    shape_formula: list[str] = field(default_factory=list)
    param_formula: list[str] = field(default_factory=list)
    field_formula: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolved: dict[str, Any] | None = None  # parameters with Keras's defaults filled in
    trainable: bool = True  # False when the layer (or a block holding it) is frozen

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def has_error(self) -> bool:
        return any(d.severity == ERROR for d in self.diagnostics)

    def summary_cells(self) -> tuple[str, ...]:
        """One row exactly as ``cnnstudio summary`` prints it (and the Summary panel shows it)."""
        return (
            self.id,
            self.type,
            dims_text(self.output_shape) if self.output_shape else "-",
            f"{self.weights:,}",
            f"{self.biases:,}",
            f"{self.params:,}",
            dims_text(self.receptive_field) if self.receptive_field else "-",
        )

    def to_json(self) -> dict[str, Any]:
        """The per-layer object of ``cnnstudio summary --json`` (CONTRACTS.md)."""
        return {
            "id": self.id,
            "type": self.type,
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "weights": self.weights,
            "biases": self.biases,
            "params": self.params,
            "receptive_field": None if self.receptive_field is None else list(self.receptive_field),
            "trainable": self.trainable,
        }


@dataclass
class Analysis:
    layers: dict[str, LayerInfo]
    diagnostics: list[Diagnostic]

    @property
    def total_params(self) -> int:
        return sum(info.params for info in self.layers.values())

    @property
    def non_trainable_params(self) -> int:
        return sum(info.non_trainable for info in self.layers.values())

    @property
    def trainable_params(self) -> int:
        return self.total_params - self.non_trainable_params

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == WARNING]

    @property
    def data_fit_problems(self) -> list[Diagnostic]:
        """Warnings that the network does not suit the data; training refuses these, nothing else does."""
        return [d for d in self.diagnostics if d.kind == DATA_FIT]

    @property
    def ok(self) -> bool:
        return not self.errors

    def activation_values(self) -> int:
        """Values every layer outputs for one example (for memory estimates)."""
        return sum(
            math.prod(s for s in info.output_shape if s is not None)
            for info in self.layers.values()
            if info.output_shape
        )

    def estimated_memory_bytes(self, batch_size: int) -> int:
        """Rough float32 training memory: weights, gradients and two Adam slots, plus
        activations and their gradients for one batch."""
        return 4 * (4 * self.total_params + 2 * batch_size * self.activation_values())

    def to_json(self, name: str, network: Network | None = None) -> dict[str, Any]:
        """The object `cnnstudio summary --json` prints; with the network, each layer names its block
        and "blocks" gives the block tree with per-block totals."""
        data = {
            "name": name,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "layers": [info.to_json() for info in self.layers.values()],
        }
        if network is not None:
            owner = parents(network)
            for layer in data["layers"]:
                layer["block"] = owner.get(layer["id"])
            data["blocks"] = [block.to_json() for block in block_tree(network, self)]
        return data


class Analyzer:
    """Analyses a network, reusing per-layer results whose inputs did not change."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Any, LayerInfo]] = {}
        self._resolved: dict[str, tuple[Any, Any]] = {}

    def _resolve(self, node: Any) -> dict[str, Any] | ParamError | None:
        """The node's checked parameters (or the error), reused until the node changes."""
        key = (id(node), node.revision, node.type)
        cached = self._resolved.get(node.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        spec = CATALOG.get(node.type)
        try:
            value: Any = None if spec is None else spec.resolve(node.params)
        except ParamError as exc:
            value = exc
        self._resolved[node.id] = (key, value)
        return value

    def analyze(self, network: Network, *, loss: str | None = None, num_classes: int | None = None) -> Analysis:
        inputs_of: dict[str, list[str]] = {n: [] for n in network.nodes}
        outputs_of: dict[str, list[str]] = {n: [] for n in network.nodes}
        for src, dst in network.edges:
            inputs_of[dst].append(src)
            outputs_of[src].append(dst)
        order, looped = _partial_order(network.nodes, inputs_of, outputs_of)
        layers: dict[str, LayerInfo] = {}
        states: dict[str, tuple[tuple[float, ...], tuple[float, ...]] | None] = {}
        diagnostics: list[Diagnostic] = []
        fresh: dict[str, tuple[Any, LayerInfo]] = {}
        for node_id in order:
            node = network.nodes[node_id]
            sources = inputs_of[node_id]
            in_shapes = tuple(layers[s].output_shape for s in sources)
            in_states = tuple(states[s] for s in sources)
            key = (id(node), node.revision, node.type, sources, in_shapes, in_states)
            cached = self._cache.get(node_id)
            if cached is not None and cached[0] == key:
                info = cached[1]
            else:
                info = _analyze_node(node_id, node.type, self._resolve(node), sources, in_shapes, in_states)
            fresh[node_id] = (key, info)
            layers[node_id] = info
            states[node_id] = None if info.field_size is None else (info.field_size, info.jump)
            diagnostics.extend(info.diagnostics)
        self._cache = fresh
        cycle = _cycle(network) if looped else []
        for node_id in looped:  # layers after a loop get no figures and no message of their own
            node = network.nodes[node_id]
            own = []
            if node_id in cycle:
                loop = " -> ".join(cycle + cycle[:1])
                own = [Diagnostic(node_id, ERROR, f"is part of a loop ({loop}); remove one of these connections")]
            layers[node_id] = LayerInfo(node_id, node.type, diagnostics=own)
            diagnostics.extend(own)
        network_level = _network_checks(network, outputs_of, layers, loss, num_classes)
        diagnostics.extend(network_level)
        for diag in network_level:  # copies: cached layer results are never changed
            if diag.node in layers:
                info = layers[diag.node]
                layers[diag.node] = replace(info, diagnostics=info.diagnostics + [diag])
        for node_id in frozen_layers(network) & layers.keys():  # frozen: every weight stays as it is
            info = layers[node_id]
            layers[node_id] = replace(info, non_trainable=info.params, trainable=False)
        ordered = {n: layers[n] for n in network.nodes if n in layers}
        if not looped:
            ordered = {n: layers[n] for n in order}
        return Analysis(ordered, diagnostics)


def analyze(network: Network, *, loss: str | None = None, num_classes: int | None = None) -> Analysis:
    """One-off analysis (the editor keeps an ``Analyzer`` to reuse unchanged layers)."""
    return Analyzer().analyze(network, loss=loss, num_classes=num_classes)


def first_convolution(network: Network) -> str | None:
    """The id of the first convolution layer in the network's order (the one the window watches live
    while training), or None: none, or a cycle (the trainer will say so)."""
    try:
        order = network.topological_order()
    except CycleError:
        return None
    for node_id in order:
        spec = CATALOG.get(network.node(node_id).type)
        if spec is not None and spec.convolution:
            return node_id
    return None


def _cycle(network: Network) -> list[str]:
    try:
        network.topological_order()
    except CycleError as exc:
        return exc.nodes
    return []


def _partial_order(
    nodes: Any, inputs_of: dict[str, list[str]], outputs_of: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    """Topological order of every layer not on or after a loop, and the rest."""
    incoming = {n: len(inputs_of[n]) for n in nodes}
    ready = deque(n for n in nodes if incoming[n] == 0)
    order: list[str] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for child in outputs_of[current]:
            incoming[child] -= 1
            if incoming[child] == 0:
                ready.append(child)
    done = set(order)
    return order, [n for n in nodes if n not in done]


def _analyze_node(
    node_id: str,
    type_name: str,
    resolved: dict[str, Any] | ParamError | None,
    sources: list[str],
    in_shapes: tuple,
    in_states: tuple,
) -> LayerInfo:
    info = LayerInfo(node_id, type_name)

    def fail(message: str) -> LayerInfo:
        info.diagnostics.append(Diagnostic(node_id, ERROR, message))
        return info

    spec = CATALOG.get(type_name)
    if spec is None:
        import difflib

        close = difflib.get_close_matches(type_name, CATALOG, n=2)
        return fail(f"unknown layer type '{type_name}'" + (f"; did you mean {' or '.join(close)}?" if close else ""))
    if isinstance(resolved, ParamError):
        return fail(str(resolved))
    info.resolved = resolved

    count = len(sources)
    if spec.max_inputs == 0 and count:
        return fail(f"an Input takes no inputs; remove the connection from {', '.join(sources)}")
    if count < spec.min_inputs:
        if count == 0:
            return fail("has no input; connect a layer to it")
        return fail(f"{type_name} needs at least {spec.min_inputs} inputs but has {count} ({', '.join(sources)})")
    if spec.max_inputs is not None and count > spec.max_inputs:
        if spec.max_inputs > 1:
            return fail(f"{type_name} takes {spec.max_inputs} inputs but has {count} ({', '.join(sources)})")
        return fail(
            f"{type_name} takes one input but has {count} ({', '.join(sources)}); "
            "join them first with Add or Concatenate"
        )
    if any(shape is None for shape in in_shapes):
        return info  # an earlier layer is wrong; its own message says why
    try:
        result = spec.rule(resolved, list(in_shapes))
    except ShapeError as exc:
        return fail(str(exc))
    shape = tuple(result.output_shape)
    if any(s is not None and s <= 0 for s in shape):
        return fail(f"the output would be {dims_text(shape)}: sizes must be at least 1")
    info.output_shape = shape
    info.weights, info.biases, info.non_trainable = result.weights, result.biases, result.non_trainable
    info.shape_formula = result.shape_formula
    info.param_formula = result.param_formula
    info.diagnostics.extend(Diagnostic(node_id, WARNING, w) for w in result.warnings)
    _receptive_field(info, type_name, shape, result, in_states)
    return info


def _receptive_field(info: LayerInfo, type_name: str, shape: tuple, result: Inference, in_states: tuple) -> None:
    """Size and jump of the input region one output position sees, per spatial axis."""
    state = None
    if type_name == "Input":
        if len(shape) >= 2:
            state = ((1.0,) * (len(shape) - 1), (1.0,) * (len(shape) - 1))
            info.field_formula = ["receptive field = 1 (one input pixel)"]
    elif result.step == IDENTITY:
        state = in_states[0] if in_states else None
    elif result.step == "merge":
        if all(s is not None for s in in_states) and len({len(s[0]) for s in in_states}) == 1:
            size = tuple(max(s[0][i] for s in in_states) for i in range(len(in_states[0][0])))
            jump = tuple(max(s[1][i] for s in in_states) for i in range(len(in_states[0][1])))
            state = (size, jump)
            info.field_formula = ["receptive field = the largest of the inputs' fields"]
    elif isinstance(result.step, Step) and in_states and in_states[0] is not None:
        size_in, jump_in = in_states[0]
        if len(size_in) == len(result.step.kernel):
            size = tuple(r + (k - 1) * j for r, k, j in zip(size_in, result.step.kernel, jump_in))
            jump = tuple(j * s for j, s in zip(jump_in, result.step.stride))
            state = (size, jump)
            info.field_formula = [
                f"rf = {_num(r)} + ({_num(k)} - 1) * {_num(j)} = {_num(o)}; jump = {_num(j)} * {_num(s)} = {_num(jo)}"
                for r, k, j, o, s, jo in zip(size_in, result.step.kernel, jump_in, size, result.step.stride, jump)
            ]
            if len(set(info.field_formula)) == 1:
                info.field_formula = info.field_formula[:1]
    if state is not None:
        info.field_size, info.jump = state
        info.receptive_field = tuple(math.ceil(v - 1e-9) for v in state[0])


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _activation_of(info: LayerInfo) -> str | None:
    if info.resolved is None:
        return None
    if info.type == "Softmax":
        return "softmax"
    return info.resolved.get("activation")


def _network_checks(
    network: Network,
    outputs_of: dict[str, list[str]],
    layers: dict[str, LayerInfo],
    loss: str | None,
    num_classes: int | None,
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if len(network) and not network.input_nodes():
        found.append(Diagnostic(None, ERROR, "the network has no Input layer; add one and connect it"))
    for node_id in network.input_nodes():
        if not outputs_of[node_id] and len(network) > 1:
            found.append(Diagnostic(node_id, WARNING, "is not connected to any layer"))
    for node_id, info in layers.items():
        if _activation_of(info) == "softmax" and outputs_of[node_id]:
            after = ", ".join(outputs_of[node_id])
            found.append(Diagnostic(
                node_id, WARNING,
                f"softmax turns values into probabilities and is meant for the output layer, "
                f"but {after} comes after it",
            ))
    outputs = [n for n, after in outputs_of.items() if not after and network.nodes[n].type != "Input"]
    for node_id in outputs:
        info = layers.get(node_id)
        if info is None or info.output_shape is None or info.has_error:
            continue
        found.extend(_output_checks(info, loss, num_classes))
    return found


def _misfit(node_id: str, message: str) -> Diagnostic:
    return Diagnostic(node_id, WARNING, message, DATA_FIT)


def _output_checks(info: LayerInfo, loss: str | None, num_classes: int | None) -> list[Diagnostic]:
    """Does the output layer fit the loss and the data's classes? Mismatches are DATA_FIT warnings."""
    found: list[Diagnostic] = []
    shape = info.output_shape or ()
    activation = _activation_of(info)
    loss = loss or "auto"
    classification = loss in CLASSIFICATION_LOSSES or (loss == "auto" and num_classes is not None)
    if classification or loss == "binary_crossentropy":
        if len(shape) != 1:
            found.append(_misfit(
                info.id,
                f"a classifier's output must be a flat vector of class scores, but this one is "
                f"{dims_text(shape)}; add Flatten or GlobalAveragePooling2D and a Dense layer",
            ))
            return found
    if loss == "binary_crossentropy":
        if num_classes is not None and num_classes > 2 and shape[-1] != num_classes:
            found.append(_misfit(info.id, f"outputs {shape[-1]} values but the data has {num_classes} classes"))
        if activation not in ("sigmoid", None, "linear"):
            found.append(Diagnostic(info.id, WARNING, f"binary cross-entropy expects a sigmoid output, not {activation}"))
        return found
    if classification:
        units = shape[-1]
        if num_classes is not None and units != num_classes:
            found.append(_misfit(
                info.id, f"outputs {units} values but the data has {num_classes} classes; set units to {num_classes}",
            ))
        elif units == 1:
            found.append(_misfit(
                info.id, "outputs 1 value, so it cannot score several classes; use one unit per class with softmax",
            ))
        if activation == "sigmoid":
            found.append(Diagnostic(
                info.id, WARNING,
                "a sigmoid output scores classes independently; softmax makes them add up to 1 (usual for one label per image)",
            ))
        elif activation not in ("softmax", None, "linear"):
            found.append(Diagnostic(
                info.id, WARNING,
                f"the output uses {activation}; a classifier's last layer normally uses softmax",
            ))
    return found
