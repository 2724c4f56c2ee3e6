"""ONNX files from a model's inference graph, through tf2onnx, for every network Keras builds.

Keras's own ONNX export hands tf2onnx the traced function as it is, which fails on three
things the applications use: constants a layer computes once and keeps outside the graph
(Normalization's mean and variance become extra inputs), grouped convolutions (Keras runs
them in a function compiled by XLA, which TensorFlow will not inline) and the exact GELU
(TensorFlow's `Erfc`, which ONNX lacks). Here the traced function is frozen first (weights
and kept constants become graph constants), the XLA marks are dropped so the convolution is
inlined as an ordinary grouped `Conv`, and `Erfc` is written as `1 - Erf`. What ONNX still
cannot express is refused, naming the layer. Other Keras backends use Keras's own export.
"""

from __future__ import annotations

import collections
import logging
import re
import warnings
from pathlib import Path

import keras
import numpy as np

from ..core.errors import UserError

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
        graph, inputs, outputs = frozen_graph(model)
        renames = _renames(model, inputs, outputs)
        quiet = tf2onnx.logging.set_scope_level(logging.CRITICAL, logging.getLogger("tf2onnx"))
        with quiet:  # it logs each operation it cannot convert: check_supported says it once
            proto, _ = tf2onnx.convert.from_graph_def(graph, name=model.name, input_names=inputs,
                                                      output_names=outputs, tensors_to_rename=renames)
    check_supported(proto, model)
    Path(path).write_bytes(proto.SerializeToString())


def frozen_graph(model: keras.Model):
    """The model's inference call (batch size left open) as a GraphDef with its weights as constants and
    nothing XLA-only left in it; with the names of its input and output tensors."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    specs = [tf.TensorSpec((None, *t.shape[1:]), t.dtype, name=name) for t, name in zip(model.inputs,
                                                                                        _input_names(model))]

    def call(*tensors):
        return model(tensors[0] if len(tensors) == 1 else list(tensors), training=False)

    concrete = tf.function(call).get_concrete_function(*specs)
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False, aggressive_inlining=True)
    graph = frozen.graph.as_graph_def(add_shapes=True)
    for function in graph.library.function:
        for mark in XLA_MARKS:
            function.attr.pop(mark, None)
        for node in function.node_def:
            node.attr.pop("_XlaMustCompile", None)
    for node in graph.node:
        node.attr.pop("_XlaMustCompile", None)
    return graph, [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]


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
