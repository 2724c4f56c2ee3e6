"""Multi-head attention: every position looks at every other (transformer blocks, MobileViT)."""

from __future__ import annotations

import math
from typing import Any

from . import common as c
from .spec import AXIS, BOOL, FLOAT, INT, NO_FIELD, SHAPE, Inference, LayerSpec, Param, ShapeError, dims_text

# How the builder calls it: query, value[, key] as separate arguments; one input attends to itself.
ATTENTION_CALL = "query, value, key"


def _attention_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    if len({len(query), len(value), len(key)}) != 1 or len(query) < 2:
        shapes = ", ".join(dims_text(s) for s in inputs)
        raise ShapeError(f"attention needs inputs of the same rank with at least a position and a feature axis, "
                         f"but gets {shapes}")
    if any(a is not None and b is not None and a != b for a, b in zip(key[:-1], value[:-1])):
        raise ShapeError(f"the key {dims_text(key)} and the value {dims_text(value)} must have the same positions")
    if p["attention_axes"] is not None:
        axes = p["attention_axes"] if isinstance(p["attention_axes"], tuple) else (p["attention_axes"],)
        rank = len(query) + 1
        for axis in axes:
            index = axis + rank if axis < 0 else axis
            if not 1 <= index < rank:
                raise ShapeError(f"attention axis {axis} does not exist for a {dims_text(query)} input "
                                 f"(1..{rank - 1}, counting the batch as 0)")
    heads, key_dim = p["num_heads"], p["key_dim"]
    value_dim = p["value_dim"] or key_dim
    dq, dk, dv = (c.last_dim(s, "MultiHeadAttention") for s in (query, key, value))
    out = tuple(p["output_shape"]) if p["output_shape"] else (dq,)
    size = math.prod(out)
    weights = heads * (key_dim * (dq + dk) + value_dim * (dv + size))
    biases = heads * (2 * key_dim + value_dim) + size if p["use_bias"] else 0
    return Inference(
        output_shape=(*query[:-1], *out),
        weights=weights,
        biases=biases,
        step=NO_FIELD,
        shape_formula=[f"every position of {dims_text(query)} attends to every position of {dims_text(value)}; "
                       f"output {dims_text(out)} per position"],
        param_formula=[f"params = {heads} heads * ({key_dim}*({dq} + {dk}) + {value_dim}*({dv} + {size}))"
                       + (f" + biases {biases}" if biases else "") + f" = {weights + biases}"],
    )


SPECS = (
    LayerSpec(
        type="MultiHeadAttention",
        category="Core",
        doc="each position gathers information from all positions, weighted by learned relevance (transformers)",
        params=(
            c.positive_int("num_heads", "number of attention heads, each with its own projections", 2, maximum=1024),
            c.positive_int("key_dim", "size of each head's query and key vectors", 32),
            Param("value_dim", INT, "size of each head's value vectors "
                  "(none = key_dim)", default=None, nullable=True, minimum=1, maximum=1_000_000, advanced=True),
            Param("dropout", FLOAT, "fraction of attention weights dropped while training", default=0.0,
                  minimum=0.0, maximum=1.0),
            Param("use_bias", BOOL, "add learned biases to the projections", default=True),
            Param("output_shape", SHAPE, "size of each position's output (none = the query's features)",
                  default=None, nullable=True, advanced=True),
            Param("attention_axes", AXIS, "the axes attended over (none = every position axis)", default=None,
                  nullable=True, advanced=True),
            c.initializer("kernel_initializer"),
            c.initializer("bias_initializer", default="zeros", what="biases"),
            c.regularizer("kernel_regularizer"),
            c.regularizer("bias_regularizer", "biases"),
            c.activity_regularizer(),
        ),
        rule=_attention_rule,
        min_inputs=1,
        max_inputs=3,
        call=ATTENTION_CALL,
        summary=lambda p: f"{p['num_heads']} heads x {p['key_dim']}",
    ),
)
