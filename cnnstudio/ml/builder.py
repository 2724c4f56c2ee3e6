"""Network -> keras.Model (functional API; node ids become layer names)."""

from __future__ import annotations

import importlib
from typing import Any

import keras

from ..core.analysis import analyze
from ..core.blocks import frozen_layers
from ..core.catalog import get_spec
from ..core.catalog.spec import REGULARIZER
from ..core.errors import UserError
from ..core.network import Network
from ..core.project import Project
from .backbones import WeightsHooks, build_backbone

BACKBONES = "Pretrained"  # the catalog category of whole keras.applications networks


def keras_arguments(type_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The node's parameters as Keras constructor arguments (only those the user set)."""
    spec = get_spec(type_name)
    resolved = spec.resolve(params)
    arguments: dict[str, Any] = {}
    for name in params:
        value = resolved[name]
        if spec.param(name).kind == REGULARIZER and value is not None:
            value = make_regularizer(value)
        arguments[name] = value
    return arguments


def make_regularizer(value: dict[str, float]) -> keras.regularizers.Regularizer:
    if set(value) == {"l1"}:
        return keras.regularizers.L1(value["l1"])
    if set(value) == {"l2"}:
        return keras.regularizers.L2(value["l2"])
    return keras.regularizers.L1L2(l1=value.get("l1", 0.0), l2=value.get("l2", 0.0))


def layer_class(type_name: str) -> type[keras.layers.Layer]:
    """The Keras class of a catalog layer (from keras.layers, or the application module that defines it)."""
    return getattr(importlib.import_module(get_spec(type_name).keras_module), type_name)


def make_layer(node_id: str, type_name: str, params: dict[str, Any]) -> keras.layers.Layer:
    arguments = keras_arguments(type_name, params)
    return layer_class(type_name)(name=node_id, **arguments)


def call_layer(layer: Any, type_name: str, sources: list[Any]) -> Any:
    """Call a layer on its inputs as Keras expects: one tensor, a list (merges), or separate
    arguments (attention: query, value[, key]; a single input attends to itself)."""
    spec = get_spec(type_name)
    if spec.call:
        query = sources[0]
        return layer(query, sources[1] if len(sources) > 1 else query, *sources[2:])
    return layer(sources if spec.max_inputs != 1 else sources[0])


def make_input(node_id: str, params: dict[str, Any]) -> Any:
    """The Keras input tensor of an Input node (its dtype only when one is set)."""
    resolved = get_spec("Input").resolve(params)
    extra = {"dtype": resolved["dtype"]} if resolved["dtype"] is not None else {}
    return keras.Input(shape=resolved["shape"], name=node_id, **extra)


def build_model(network: Network, name: str = "model", *, hooks: WeightsHooks | None = None) -> keras.Model:
    """A Keras functional model equal to the network; UserError if it is not valid.

    Pretrained backbones become nested models with their weights (downloaded once through
    Keras's cache); `hooks` report the download's progress and can cancel it.
    """
    result = analyze(network)
    if not result.ok:
        shown = "; ".join(str(d) for d in result.errors[:3])
        more = f" (and {len(result.errors) - 3} more)" if len(result.errors) > 3 else ""
        raise UserError(f"the network cannot be built: {shown}{more}")
    tensors: dict[str, Any] = {}
    frozen = frozen_layers(network)
    for node_id in network.topological_order():
        node = network.nodes[node_id]
        if node.type == "Input":
            tensors[node_id] = make_input(node_id, node.params)
            continue
        if get_spec(node.type).category == BACKBONES:
            (source,) = [tensors[s] for s in network.inputs_of(node_id)]
            backbone = build_backbone(node_id, node.type, node.params, tuple(source.shape[1:]),
                                      trainable=node_id not in frozen, hooks=hooks)
            tensors[node_id] = backbone(source)
            continue
        layer = make_layer(node_id, node.type, node.params)
        if node_id in frozen:  # frozen: Keras keeps its weights, and BatchNormalization stays in inference mode
            layer.trainable = False
        tensors[node_id] = call_layer(layer, node.type, [tensors[s] for s in network.inputs_of(node_id)])
    inputs = [tensors[n] for n in network.input_nodes()]
    outputs = [tensors[n] for n in network.output_nodes()]
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=_model_name(name),
    )


def untrained_model(project: Project) -> keras.Model:
    """The project's network as a Keras model with fresh weights drawn with the project's seed
    (the same network always gets the same starting weights)."""
    from .export import deep_graphs

    keras.utils.set_random_seed(int(project.training.get("seed") or 0))
    with deep_graphs(len(project.network)):
        return build_model(project.network, project.name)


def _model_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).strip("_")
    return cleaned or "model"


def layer_output(layer: keras.layers.Layer):
    """The tensor `layer` gives in the model that holds it. For a nested model (a block, a
    pretrained backbone) that is the output of its call, not of its own inner graph, which
    `layer.output` would give and which the outer model's inputs do not reach."""
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes and len(nodes) == 1:
        outputs = nodes[0].output_tensors
        return outputs[0] if len(outputs) == 1 else outputs
    return layer.output
