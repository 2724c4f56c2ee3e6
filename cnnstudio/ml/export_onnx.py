"""ONNX files from a model's inference graph, through tf2onnx, for every network Keras builds.

Keras's own ONNX export hands tf2onnx the traced function as it is, which fails on three
things the applications use: constants a layer computes once and keeps outside the graph
(Normalization's mean and variance become extra inputs), grouped convolutions (Keras runs
them in a function compiled by XLA, which TensorFlow will not inline) and the exact GELU
(TensorFlow's `Erfc`, which ONNX lacks). Here the traced function is frozen first (weights
and kept constants become graph constants), the XLA marks are dropped so the convolution is
inlined as an ordinary grouped `Conv`, and `Erfc` is written as `1 - Erf`. What ONNX still
cannot express is refused, naming the layer. Other Keras backends use Keras's own export.

Memory: tf2onnx as called by `from_graph_def` held 32 to 64 copies of the weights (VGG16 did
not fit in 24 GB). Here: the frozen graph is made without the function TensorFlow would build
of it, and is not imported and frozen again; the weights stand aside as placeholders while
TensorFlow's graph optimizer runs (it held a dozen copies of them; it folds nothing that
large); each of tf2onnx's optimizers gets a fresh protobuf message per node it rewrites (a
message's removed fields stay in its arena until it is freed: a constant grew by its whole
tensor per pass); and the optimizers run on the graph itself rather than on a deep copy kept
in case one fails (whose cyclic garbage piled up): only if one fails does the conversion
start again with copies, collected as it goes. `benchmarks/onnx_memory.py` measures it:
ResNet50 8 copies against 64, VGG16 6.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import re
import warnings
from pathlib import Path

import keras
import numpy as np

from ..core.errors import UserError

LARGE_CONSTANT = 64 * 1024  # bytes: a constant this large is a weight, and nothing folds it
XLA_MARKS = ("_XlaMustCompile", "_noinline")  # attributes that keep a function from being inlined


def write_onnx(model: keras.Model, path: str | Path) -> None:
    """Write `model`'s inference call to `path` as ONNX; inputs keep the model's input names, outputs
    take the model's output names. UserError naming the layer ONNX cannot express."""
    with warnings.catch_warnings():  # tf2onnx probes NumPy for names it no longer has
        warnings.simplefilter("ignore", FutureWarning)
        if keras.backend.backend() != "tensorflow":
            model.export(str(path), format="onnx", verbose=False)
            return
        import tf2onnx
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()  # tf2onnx's fixes for NumPy 2, as Keras applies them
        _register_erfc()
        quiet = tf2onnx.logging.set_scope_level(logging.CRITICAL, logging.getLogger("tf2onnx"))
        with quiet:  # it logs each operation it cannot convert: check_supported says it once
            proto = _convert(model)
    check_supported(proto, model)
    Path(path).write_bytes(proto.SerializeToString())


def _convert(model: keras.Model):
    """The ONNX model proto, as tf2onnx's `from_graph_def` makes it of the frozen graph, in a fraction of its
    memory (see the module's notes)."""
    import tensorflow as tf
    from tf2onnx import constants, optimizer, tf_loader
    from tf2onnx.convert import _convert_common

    graph, inputs, outputs = frozen_graph(model)
    light, large = _weights_aside(graph)
    with tf.device("/cpu:0"), tf.Graph().as_default():
        optimized = _weights_back(tf_loader.tf_optimize(inputs, outputs, light), graph, large)
    del graph, light
    gc.collect()
    options = dict(name=model.name, continue_on_error=True, input_names=inputs, output_names=outputs,
                   tensors_to_rename=_renames(model, inputs, outputs))
    with _fresh_node_messages():
        try:  # tf2onnx catches an optimizer's failure only when this is not set (whatever its value)
            with _environment(constants.ENV_TF2ONNX_CATCH_ERRORS, "FALSE"):
                return _convert_common(optimized, **options)[0]
        except MemoryError:
            raise
        except Exception:  # an optimizer failed: again as tf2onnx does it, skipping the optimizer that fails
            with _environment(constants.ENV_TF2ONNX_CATCH_ERRORS, None):
                return _convert_common(optimized, optimizers=_collecting(optimizer._get_optimizers()),
                                       **options)[0]


def _collecting(optimizers: dict) -> dict:
    """tf2onnx's optimizers, each made after collecting the garbage: where it copies the graph before each
    one (in case it fails), the copies left behind are cyclic garbage."""

    def collected(factory):
        def make():
            gc.collect()
            return factory()
        return make

    return collections.OrderedDict((name, collected(factory)) for name, factory in optimizers.items())


def _weights_aside(graph):
    """A copy of `graph` whose large constants (the weights) are placeholders of their type and shape, for
    TensorFlow's graph optimizer, which holds a dozen copies of what it is given; and the names of those."""
    from tensorflow.core.framework import graph_pb2, node_def_pb2

    light, large = graph_pb2.GraphDef(), set()
    light.versions.CopyFrom(graph.versions)
    light.library.CopyFrom(graph.library)
    for node in graph.node:
        tensor = node.attr["value"].tensor if node.op == "Const" else None
        if tensor is None or tensor.ByteSize() < LARGE_CONSTANT:
            light.node.append(node)
            continue
        stand_in = node_def_pb2.NodeDef(name=node.name, op="Placeholder", device=node.device)
        stand_in.attr["dtype"].type = tensor.dtype
        stand_in.attr["shape"].shape.CopyFrom(tensor.tensor_shape)
        light.node.append(stand_in)
        large.add(node.name)
    return light, large


def _weights_back(optimized, graph, large: set[str]):
    """`optimized` with the constants `_weights_aside` set aside taken from `graph` again."""
    from tensorflow.core.framework import graph_pb2

    constants = {node.name: node for node in graph.node if node.name in large}
    whole = graph_pb2.GraphDef()
    whole.versions.CopyFrom(optimized.versions)
    whole.library.CopyFrom(optimized.library)
    for node in optimized.node:
        whole.node.append(constants[node.name] if node.name in large and node.op == "Placeholder" else node)
    return whole


@contextlib.contextmanager
def _fresh_node_messages():
    """While converting: each node's protobuf is made anew when tf2onnx rewrites it, so the attributes it
    replaces (a constant's whole tensor) are freed rather than kept in the old message's arena."""
    from tf2onnx.graph import Node

    rewrite = Node.update_proto

    def update_proto(self, external_tensor_storage=None):
        old = self._op
        old.ClearField("attribute")
        self._op = type(old)()
        self._op.CopyFrom(old)
        rewrite(self, external_tensor_storage)

    Node.update_proto = update_proto
    try:
        yield
    finally:
        Node.update_proto = rewrite


@contextlib.contextmanager
def _environment(name: str, value: str | None):
    before = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def frozen_graph(model: keras.Model):
    """The model's inference call (batch size left open) as a GraphDef with its weights as constants and
    nothing XLA-only left in it; with the names of its input and output tensors."""
    import tensorflow as tf
    from tensorflow.python.framework import convert_to_constants as freezing

    specs = [tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=name) for t, name in zip(model.inputs,
                                                                                        _input_names(model))]

    def call(*tensors):
        return model(tensors[0] if len(tensors) == 1 else list(tensors), training=False)

    concrete = tf.function(call).get_concrete_function(*specs)
    # convert_variables_to_constants_v2 without the function it builds of the result (two more copies of the
    # weights), as tf2onnx freezes large models
    frozen = freezing._FunctionConverterDataInEager(func=concrete, lower_control_flow=False, aggressive_inlining=True)
    graph, converted = freezing._replace_variables_by_constants(converter_data=frozen)
    del frozen
    captured = {id(concrete.graph.internal_captures[index]) for index in converted}
    inputs = [t.name for t in concrete.inputs if id(t) not in captured]
    for function in graph.library.function:
        for mark in XLA_MARKS:
            function.attr.pop(mark, None)
        for node in function.node_def:
            node.attr.pop("_XlaMustCompile", None)
    for node in graph.node:
        node.attr.pop("_XlaMustCompile", None)
    return graph, inputs, [t.name for t in concrete.outputs]


def check_supported(proto, model: keras.Model) -> None:
    """UserError if an operation was left without an ONNX equivalent: one line naming it and its layers."""
    import onnx

    layers: dict[str, list[str]] = collections.defaultdict(list)
    for node in proto.graph.node:
        if not onnx.defs.has(node.op_type, node.domain):
            layer = layer_of(node.name, model)
            if layer not in layers[node.op_type]:
                layers[node.op_type].append(layer)
    if layers:
        parts = []
        for op, names in layers.items():
            more = f" and {len(names) - 1} more" if len(names) > 1 else ""
            parts.append(f"{op} (layer '{names[0]}'{more})")
        raise UserError("the model cannot be exported as onnx: ONNX has no equivalent for the TensorFlow operation"
                        f"{'s' * (len(parts) > 1)} {', '.join(parts)}; export it as keras, savedmodel or tflite")


def layer_of(node_name: str, model: keras.Model) -> str:
    """The layer a converted node comes from: TensorFlow names nodes model_1/backbone_1/layer_2/op."""
    names, inner = set(), list(model.layers)
    while inner:  # the layers of nested models (a backbone) too
        layer = inner.pop()
        names.add(layer.name)
        inner.extend(getattr(layer, "layers", []))
    for part in reversed(node_name.split("/")[:-1]):  # the innermost layer; the last part names the operation
        for candidate in (part, re.sub(r"_\d+$", "", part)):
            if candidate in names:
                return candidate
    return node_name


def _renames(model: keras.Model, inputs: list[str], outputs: list[str]) -> dict[str, str]:
    """Graph tensor names to the names the ONNX file shows: the model's input and output names (outputs
    keep their graph names where the model's are not unique or returned as a dict)."""
    renames = dict(zip(inputs, _input_names(model)))
    names = list(model.output_names)
    unique = len(set(names)) == len(outputs) and not set(names) & set(renames.values())
    if unique and not isinstance(model.output, dict):
        renames.update(zip(outputs, names))
    return renames


def _input_names(model: keras.Model) -> list[str]:
    names = [str(getattr(t, "name", f"input_{i}")).split(":")[0] for i, t in enumerate(model.inputs)]
    return names if len(set(names)) == len(names) else [f"input_{i}" for i in range(len(names))]


_registered = False


def _register_erfc() -> None:
    """Teach tf2onnx `Erfc` (the exact GELU's), as 1 - Erf: ONNX has Erf from opset 9."""
    global _registered
    if _registered:
        return
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class Erfc:  # noqa: F841 - registered by the decorator
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
            one = ctx.make_const(utils.make_name(f"{node.name}_one"), np.array(1, dtype))
            ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]],
                                          name=utils.make_name(f"{node.name}_complement"))

    _registered = True
