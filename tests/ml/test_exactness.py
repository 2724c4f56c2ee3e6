"""Core's shapes and parameter counts are exactly Keras's, for every layer in the catalog.

The property test grows random networks one layer at a time (chains, branches and
skip connections into merge layers), with parameters drawn from each catalog
``Param``'s own range. For every layer core's verdict is checked against Keras:
a layer core accepts must build in Keras with the same output shape, weights,
biases and non-trainable count; a layer core refuses must be refused by Keras too.
A mismatch means the catalog rule is wrong; fix the rule and add a regression below.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import CATALOG, LayerSpec, Param
from cnnstudio.core.catalog import spec as kinds
from cnnstudio.core.network import Network
from cnnstudio.ml.builder import build_model, call_layer, layer_class, make_layer  # noqa: E402

EXAMPLES = settings(
    max_examples=150, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LAYER_TYPES = sorted(t for t, s in CATALOG.items() if t != "Input" and s.category != "Pretrained")
# Deliberate differences from Keras's defaults: a backbone is usually the base of a new head.
DIFFERENT_DEFAULTS = {"include_top"}
IMAGE_LAYERS = {"Resizing", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"}
MERGES = {t for t, s in CATALOG.items() if s.max_inputs != 1 and s.min_inputs > 1}

# Small sizes keep Keras fast; the catalog's own minimum is always the lower bound.
INT_CAPS = {"filters": 5, "units": 6, "groups": 4, "depth_multiplier": 3, "height": 9, "width": 9}
INTS_CAPS = {"kernel_size": 4, "strides": 3, "dilation_rate": 3, "pool_size": 3, "size": 3, "output_padding": 2}
REGULARIZERS = (None, "l1", "l2", {"l2": 0.001}, {"l1": 0.01, "l2": 0.02})
CONCRETE_SIZE = 5  # stands in for a None size when Keras has to run a layer


def spatial_rank_needed(type_name: str) -> int | None:
    """The input rank (without batch) a layer type insists on, where it does."""
    if "1D" in type_name:
        return 2
    if "2D" in type_name or type_name in IMAGE_LAYERS:
        return 3
    return None


# ---------------------------------------------------------------- drawing parameters


def eighths(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(math.ceil(low * 8), math.floor(high * 8)).map(lambda v: v / 8)


def draw_target_shape(data: st.DataObject, shape: tuple) -> list[int]:
    """A Reshape target: usually a valid factorisation of the input size (maybe with -1)."""
    if None in shape or data.draw(st.integers(0, 9)) == 0:
        return data.draw(st.lists(st.sampled_from([-1, 1, 2, 3, 4, 6]), min_size=1, max_size=3))
    size = math.prod(shape)
    dims: list[int] = []
    rest = size
    for _ in range(data.draw(st.integers(0, 2))):
        divisor = data.draw(st.sampled_from([d for d in range(1, min(rest, 12) + 1) if rest % d == 0]))
        dims.append(divisor)
        rest //= divisor
    dims.append(rest)
    dims = data.draw(st.permutations(dims))
    if data.draw(st.booleans()):
        dims[data.draw(st.integers(0, len(dims) - 1))] = -1
    return list(dims)


def draw_value(data: st.DataObject, spec: LayerSpec, p: Param, shapes: list[tuple]) -> Any:
    """One value for ``p`` from its own range (sizes kept small)."""
    shape = shapes[0] if shapes else ()
    rank = len(shape)
    if p.name == "target_shape":
        return draw_target_shape(data, shape)
    if p.name == "output_shape":
        return data.draw(st.none() | st.lists(st.integers(1, 4), min_size=1, max_size=2))
    if p.name == "noise_shape":
        sizes = [st.sampled_from([None, 1, size]) for size in (None, *shape)]
        return data.draw(st.tuples(*sizes).map(list) | st.lists(st.sampled_from([None, 1, 2]), max_size=4))
    if p.name == "groups" and shape and shape[-1]:
        divisors = [d for d in range(1, shape[-1] + 1) if shape[-1] % d == 0]
        return data.draw(st.sampled_from(divisors) | st.integers(1, 4))
    if p.kind == kinds.AXIS or (p.kind == kinds.INT and p.name == "axis"):
        one = st.integers(-rank - 1, rank)
        if p.kind == kinds.AXIS:
            one = one | st.lists(st.integers(-rank - 1, rank), min_size=1, max_size=2, unique=True)
        return data.draw(one)
    if p.kind == kinds.INT:
        low = int(p.minimum if p.minimum is not None else 0)
        return data.draw(st.integers(low, max(low, INT_CAPS.get(p.name, low + 4))))
    if p.kind == kinds.FLOAT:
        if p.name == "rate":
            return data.draw(eighths(0, 0.875))
        low = -2.0 if p.minimum is None else p.minimum
        high = 2.0 if p.maximum is None else p.maximum
        value = data.draw(eighths(low, min(high, low + 4)))
        return None if p.nullable and data.draw(st.integers(0, 3)) == 0 else value
    if p.kind == kinds.BOOL:
        return data.draw(st.booleans())
    if p.kind == kinds.CHOICE:
        return data.draw(st.sampled_from(p.choices))
    if p.kind == kinds.INTS:
        low = int(p.minimum if p.minimum is not None else 1)
        one = st.integers(low, INTS_CAPS.get(p.name, 3))
        value = data.draw(one | st.lists(one, min_size=p.rank, max_size=p.rank))
        return None if p.nullable and data.draw(st.integers(0, 2)) == 0 else value
    if p.kind == kinds.REGULARIZER:
        return data.draw(st.sampled_from(REGULARIZERS))
    if p.kind == kinds.PADDING:
        one = st.integers(0, 3)
        pair = st.lists(one, min_size=2, max_size=2)
        return data.draw(one | pair | st.lists(pair, min_size=2, max_size=2))
    if p.kind == kinds.FACTOR:
        low = -2.0 if p.minimum is None else p.minimum
        high = 2.0 if p.maximum is None else p.maximum
        value = eighths(low, high)
        pair = st.lists(value, min_size=2, max_size=2).map(sorted)
        return data.draw(pair if p.rank == 2 else value | pair)
    if p.kind == kinds.FLOATS:
        one = eighths(0.125, 4)
        length = shape[-1] if shape and shape[-1] else 3
        return data.draw(one | st.lists(one, min_size=length, max_size=length) | st.lists(one, min_size=1,
                                                                                         max_size=4))
    raise AssertionError(f"no strategy for {p.kind} ({spec.type}.{p.name})")


def draw_params(data: st.DataObject, spec: LayerSpec, shapes: list[tuple]) -> dict[str, Any]:
    """Required parameters always; each optional one about half the time."""
    params = {}
    for p in spec.params:
        if p.required or data.draw(st.booleans()):
            params[p.name] = draw_value(data, spec, p, shapes)
    return params


# ---------------------------------------------------------------- growing a network


def valid_shapes(net: Network) -> dict[str, tuple]:
    result = analyze(net)
    return {n: info.output_shape for n, info in result.layers.items() if info.output_shape is not None}


def draw_type(data: st.DataObject, ranks: set[int]) -> str:
    """Mostly a type that fits one of the shapes at hand; sometimes any (to test refusals)."""
    fitting = [t for t in LAYER_TYPES if spatial_rank_needed(t) in ranks | {None}]
    return data.draw(st.sampled_from(fitting) if data.draw(st.integers(0, 6)) else st.sampled_from(LAYER_TYPES))


def add_branch(data: st.DataObject, net: Network, source: str, shape: tuple, same_channels: bool) -> str:
    """A convolution (or Dense) beside ``source``, so a merge can join the two: a skip connection."""
    channels = shape[-1] if same_channels else data.draw(st.integers(1, 4))
    node_id = f"branch_{len(net)}"
    if shape[-1] is None:
        net.add_node("Activation", {"activation": "relu"}, node_id=node_id)
    elif len(shape) in (2, 3):
        kernel = data.draw(st.integers(1, 3))
        net.add_node(f"Conv{len(shape) - 1}D", {"filters": channels, "kernel_size": kernel, "padding": "same"},
                     node_id=node_id)
    else:
        net.add_node("Dense", {"units": channels}, node_id=node_id)
    net.connect(source, node_id)
    return node_id


def draw_sources(data: st.DataObject, net: Network, type_name: str, shapes: dict[str, tuple]) -> list[str]:
    ids = list(reversed(list(shapes)))  # the newest first, so shrinking gives chains
    need = spatial_rank_needed(type_name)
    if type_name not in MERGES:
        fitting = [n for n in ids if need is None or len(shapes[n]) == need]
        return [data.draw(st.sampled_from(fitting if fitting and data.draw(st.integers(0, 5)) else ids))]
    first = data.draw(st.sampled_from(ids))
    count = data.draw(st.integers(2, 3))
    partners = [n for n in ids if n != first and shapes[n] == shapes[first]]
    if type_name == "Concatenate":
        partners = [n for n in ids if n != first and len(shapes[n]) == len(shapes[first])]
    sources = [first]
    while len(sources) < count:
        pool = [n for n in partners if n not in sources]
        others = [n for n in ids if n not in sources]
        choice = data.draw(st.integers(0, 5))
        if pool and choice >= 2:
            sources.append(data.draw(st.sampled_from(pool)))
        elif others and choice == 0:
            sources.append(data.draw(st.sampled_from(others)))  # most likely a mismatch
        else:
            sources.append(add_branch(data, net, first, shapes[first], type_name != "Concatenate"))
    return sources


input_shapes = st.one_of(
    st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4)),
    st.tuples(st.integers(1, 12), st.integers(1, 4)),
    st.tuples(st.integers(1, 12)),
    st.tuples(st.none(), st.none(), st.integers(1, 3)),
    st.tuples(st.none(), st.integers(1, 3)),
)


# ---------------------------------------------------------------- comparing with Keras


def keras_counts(layer: Any) -> tuple[int, int, int]:
    """(params, biases, non-trainable) as Keras has them for one built layer."""
    biases = sum(math.prod(w.shape) for w in layer.weights if re.search(r"(^|/)bias$", w.path))
    non_trainable = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
    return layer.count_params(), biases, non_trainable


def assert_matches_keras(net: Network) -> None:
    """Build the network with ``build_model``; every layer's figures equal core's."""
    result = analyze(net)
    assert result.ok, [str(d) for d in result.errors]
    if len(net) == 1:
        return  # every drawn layer was refused: nothing to build
    try:
        model = build_model(net)
    except Exception as exc:
        raise AssertionError(f"core accepts but Keras cannot build {net.to_dict()}: {exc}") from exc
    for node_id, info in result.layers.items():
        layer = model.get_layer(node_id)
        where = f"{node_id} ({info.type} {net.nodes[node_id].params})"
        assert tuple(layer.output.shape[1:]) == info.output_shape, where
        params, biases, non_trainable = keras_counts(layer)
        assert (info.params, info.biases, info.non_trainable) == (params, biases, non_trainable), where
        assert info.weights == params - biases, where
    assert_runs_with_core_shapes(model, net, result)


def concrete(shape: tuple) -> tuple[int, ...]:
    return tuple(CONCRETE_SIZE if s is None else s for s in shape)


def assert_runs_with_core_shapes(model: Any, net: Network, result: Any) -> None:
    """Running the model (not only tracing it) gives core's output shapes too."""
    shapes = [result.layers[n].output_shape for n in net.input_nodes()]
    if any(None in shape for shape in shapes):
        return  # sizes core cannot know; a made-up size may not fit a Reshape or a merge
    inputs = [np.zeros((1, *shape), "float32") for shape in shapes]
    try:
        outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
    except Exception as exc:
        raise AssertionError(f"core accepts but Keras cannot run {net.to_dict()}: {exc}") from exc
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for node_id, tensor in zip(net.output_nodes(), outputs):
        expected = result.layers[node_id].output_shape
        if None not in expected:
            assert tuple(tensor.shape[1:]) == expected, node_id


def keras_refusal(type_name: str, params: dict, shapes: list[tuple]) -> str | None:
    """Why Keras will not build (or run) this layer on these inputs; None if it does both."""
    try:
        layer = make_layer("candidate", type_name, params)
        symbolic = [keras.Input(shape=s) for s in shapes]
        real = [np.zeros((1, *concrete(s)), "float32") for s in shapes]
        for tensors in (symbolic, real):
            if CATALOG[type_name].call:
                call_layer(layer, type_name, tensors)
            else:
                layer(tensors if len(tensors) > 1 or type_name in MERGES else tensors[0])
    except Exception as exc:  # noqa: BLE001 - any refusal is what we look for
        return f"{type(exc).__name__}: {exc}"
    return None


def deliberately_stricter(type_name: str, params: dict, shapes: list[tuple]) -> bool:
    """Inputs Keras would run that core refuses on purpose, because they are surely mistakes.

    - An axis that is the batch axis (0, or -rank counting the batch): softmax,
      normalisation, concatenation or attention across different examples.
    - An image layer on a 2-D (length, channels) input: Keras takes it for one
      unbatched image, so the batch would silently become the image's height.
    - A CustomScaleLayer with more than two inputs: Keras ignores the rest.
    - A Dropout noise_shape that does not fit the input: Keras fails only when training.
    - A Rescaling with more values per channel than channels: Keras silently widens the output.
    """
    if type_name == "CustomScaleLayer" and len(shapes) > 2:
        return True  # Keras would silently ignore every input after the second
    if type_name == "Dropout" and params.get("noise_shape") is not None:
        return True  # Keras only notices a noise_shape that does not fit once training starts
    if type_name == "Rescaling" and any(isinstance(params.get(k), list) for k in ("scale", "offset")):
        return True  # Keras would broadcast one value per channel into more channels than the input has
    rank = len(shapes[0]) + 1
    axis = params.get("axis", params.get("attention_axes"))
    if axis is not None:
        axes = axis if isinstance(axis, list) else [axis]
        if all(-rank <= a < rank for a in axes) and any(a % rank == 0 for a in axes):
            return True
    return type_name in IMAGE_LAYERS and len(shapes[0]) == 2


@EXAMPLES
@given(st.data())
def test_core_and_keras_agree_on_random_networks(data: st.DataObject) -> None:
    keras.backend.clear_session()
    net = Network()
    net.add_node("Input", {"shape": list(data.draw(input_shapes, label="input shape"))}, node_id="input")
    for step in range(data.draw(st.integers(1, 6), label="layers")):
        shapes = valid_shapes(net)
        type_name = draw_type(data, {len(s) for s in shapes.values()})
        spec = CATALOG[type_name]
        sources = draw_sources(data, net, type_name, shapes)
        shapes = valid_shapes(net)
        in_shapes = [shapes[s] for s in sources]
        params = draw_params(data, spec, in_shapes)
        node_id = f"{type_name.lower()}_{step}"
        net.add_node(type_name, params, node_id=node_id)
        for source in sources:
            net.connect(source, node_id)
        info = analyze(net).layers[node_id]
        if info.has_error:
            refusal = keras_refusal(type_name, params, in_shapes)
            assert refusal is not None or deliberately_stricter(type_name, params, in_shapes), (
                f"core refuses {type_name} {params} on {in_shapes} ({info.diagnostics[0].message}) "
                "but Keras builds and runs it"
            )
            net.remove_node(node_id)
    assert_matches_keras(net)


# ---------------------------------------------------------------- catalog vs Keras signatures

# Arguments Keras takes through **kwargs rather than its signature.
KWARGS_DEFAULTS = {("LayerNormalization", "rms_scaling"): False, ("Embedding", "activity_regularizer"): None}


def keras_signature(type_name: str) -> inspect.Signature:
    if CATALOG[type_name].category == "Pretrained":
        return inspect.signature(getattr(keras.applications, type_name))
    target = keras.Input if type_name == "Input" else layer_class(type_name).__init__
    return inspect.signature(target)


@pytest.mark.parametrize("type_name", sorted(CATALOG))
def test_catalog_defaults_are_keras_defaults(type_name: str) -> None:
    spec = CATALOG[type_name]
    signature = keras_signature(type_name)
    for p in spec.params:
        if (type_name, p.name) in KWARGS_DEFAULTS:
            assert p.default == KWARGS_DEFAULTS[type_name, p.name]
            continue
        if spec.category == "Pretrained" and p.name in DIFFERENT_DEFAULTS:
            continue
        assert p.name in signature.parameters, f"{type_name} has no argument {p.name}"
        keras_default = signature.parameters[p.name].default
        if type_name == "Input" and p.name == "shape":
            assert p.required  # Keras defaults it to None, but a network needs one
            continue
        if keras_default is inspect.Parameter.empty:
            assert p.required, f"{type_name}.{p.name}: Keras requires it, the catalog has a default"
            continue
        assert not p.required, f"{type_name}.{p.name}: Keras defaults it to {keras_default!r}"
        ours = None if p.default is None else p.normalize(p.default)
        theirs = None if keras_default is None else p.normalize(keras_default)
        assert ours == theirs, f"{type_name}.{p.name}: catalog {p.default!r}, Keras {keras_default!r}"


@pytest.mark.parametrize("type_name", sorted(CATALOG))
def test_catalog_requires_what_keras_requires(type_name: str) -> None:
    signature = keras_signature(type_name)
    keras_required = {
        name for name, arg in signature.parameters.items()
        if name != "self" and arg.default is inspect.Parameter.empty
        and arg.kind not in (arg.VAR_KEYWORD, arg.VAR_POSITIONAL)
    }
    ours = {p.name for p in CATALOG[type_name].params if p.required} - {"shape" if type_name == "Input" else ""}
    assert ours == keras_required
