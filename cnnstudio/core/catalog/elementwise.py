"""Activation layers and merge layers (skip connections, branches)."""

from __future__ import annotations

from typing import Any

from . import common as c
from .spec import AXIS, CHOICE, FLOAT, INT, Inference, LayerSpec, Param, ShapeError, dims_text


def _same_shape(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    return Inference(output_shape=inputs[0], shape_formula=["shape unchanged"], param_formula=["params = 0"])


def _softmax_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    axis = p["axis"]
    for a in axis if isinstance(axis, tuple) else (axis,):
        if not -(len(shape) + 1) <= a <= len(shape) or a == 0 or a == -(len(shape) + 1):
            raise ShapeError(f"axis {a} does not exist for a {dims_text(shape)} input")
    return _same_shape(p, inputs)


def broadcast_shapes(first: tuple, second: tuple, type_name: str) -> tuple:
    """Keras's element-wise shape rule: sizes must match, or one of them is 1."""
    if len(first) < len(second):
        first, second = second, first
    out = list(first[: len(first) - len(second)])
    for a, b in zip(first[len(first) - len(second):], second):
        if a is None or b is None:
            out.append(None)
        elif a == 1 or b == 1 or a == b:
            out.append(b if a == 1 else a)
        else:
            raise ShapeError(
                f"{type_name} needs inputs of the same shape, but gets {dims_text(first)} and "
                f"{dims_text(second)}; make the branches agree (e.g. a 1x1 Conv2D or matching strides)"
            )
    return tuple(out)


def _elementwise_rule(type_name: str, verb: str):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        shape = inputs[0]
        for other in inputs[1:]:
            shape = broadcast_shapes(shape, other, type_name)
        return Inference(
            output_shape=shape,
            step="merge",
            shape_formula=[f"{verb} {len(inputs)} inputs of shape {dims_text(shape)} element by element"],
            param_formula=["params = 0"],
        )

    return rule


def _concatenate_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    rank = len(inputs[0])
    if any(len(s) != rank for s in inputs):
        shapes = ", ".join(dims_text(s) for s in inputs)
        raise ShapeError(f"Concatenate needs inputs with the same number of axes, but gets {shapes}")
    axis = p["axis"]
    index = axis + rank + 1 if axis < 0 else axis
    if not 1 <= index <= rank:
        raise ShapeError(f"axis {axis} does not exist for {dims_text(inputs[0])} inputs")
    index -= 1
    for other in inputs[1:]:
        for i in range(rank):
            a, b = inputs[0][i], other[i]
            if i != index and a is not None and b is not None and a != b:
                raise ShapeError(
                    f"Concatenate joins along axis {axis}, so the other sizes must match, but gets "
                    f"{dims_text(inputs[0])} and {dims_text(other)}"
                )
    sizes = [s[index] for s in inputs]
    joined = None if None in sizes else sum(sizes)
    out = tuple(joined if i == index else next((s[i] for s in inputs if s[i] is not None), None)
                for i in range(rank))
    return Inference(
        output_shape=out,
        step="merge",
        shape_formula=[f"joined size = {' + '.join('?' if s is None else str(s) for s in sizes)} = {'?' if joined is None else joined}"],
        param_formula=["params = 0"],
    )


def _merge_spec(type_name: str, doc: str, verb: str) -> LayerSpec:
    return LayerSpec(
        type=type_name, category="Merge", doc=doc, params=(),
        rule=_elementwise_rule(type_name, verb), min_inputs=2, max_inputs=None,
    )


SPECS = (
    LayerSpec(
        type="Activation",
        category="Activation",
        doc="applies a function to every value (relu, sigmoid, softmax, ...)",
        params=(Param("activation", CHOICE, "the function applied to every value", initial="relu",
                      choices=tuple(a for a in c.ACTIVATIONS if a is not None)),),
        rule=_same_shape,
        summary=lambda p: p["activation"],
        passes_values=True,
    ),
    LayerSpec(
        type="ReLU",
        category="Activation",
        doc="rectified linear unit: negative values become 0, positive values pass",
        params=(
            Param("max_value", FLOAT, "cap on the output (none = no cap; 6 gives ReLU6)", default=None,
                  nullable=True, minimum=0.0),
            Param("negative_slope", FLOAT, "slope for values below the threshold", default=0.0, minimum=0.0),
            Param("threshold", FLOAT, "values below this are treated as negative", default=0.0,
                  minimum=0.0, advanced=True),
        ),
        rule=_same_shape,
        passes_values=True,
    ),
    LayerSpec(
        type="LeakyReLU",
        category="Activation",
        doc="like ReLU, but negative values are scaled by a small slope instead of zeroed",
        params=(Param("negative_slope", FLOAT, "slope for negative values", default=0.3, minimum=0.0),),
        rule=_same_shape,
        summary=lambda p: f"slope {p['negative_slope']:g}",
        passes_values=True,
    ),
    LayerSpec(
        type="Softmax",
        category="Activation",
        doc="turns scores into probabilities that add up to 1 (usually the last layer of a classifier)",
        params=(Param("axis", AXIS, "axis the probabilities add up along (-1 = last)", default=-1, advanced=True),),
        rule=_softmax_rule,
        receptive_field="mixes_axis",
        passes_values=True,
    ),
    _merge_spec("Add", "adds its inputs element by element (residual / skip connections)", "adds"),
    LayerSpec(
        type="Subtract", category="Merge", doc="subtracts its second input from its first, element by element",
        params=(), rule=_elementwise_rule("Subtract", "subtracts"), min_inputs=2, max_inputs=2,
    ),
    _merge_spec("Multiply", "multiplies its inputs element by element (gating, attention)", "multiplies"),
    _merge_spec("Average", "averages its inputs element by element (ensembles of branches)", "averages"),
    _merge_spec("Maximum", "keeps the largest of its inputs element by element", "takes the maximum of"),
    _merge_spec("Minimum", "keeps the smallest of its inputs element by element", "takes the minimum of"),
    LayerSpec(
        type="Concatenate",
        category="Merge",
        doc="joins its inputs side by side along one axis (channels by default, as in Inception/U-Net)",
        params=(Param("axis", INT, "axis to join along (-1 = channels)", default=-1),),
        rule=_concatenate_rule,
        min_inputs=2,
        max_inputs=None,
    ),
)
