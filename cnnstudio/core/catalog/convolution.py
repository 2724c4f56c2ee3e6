"""Convolution layers: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D."""

from __future__ import annotations

import math
from typing import Any

from . import common as c
from .spec import INT, INTS, Inference, LayerSpec, Param, ShapeError, Step, dims_text

CATEGORY = "Convolution"


def _filters(initial: int = 32) -> Param:
    return c.positive_int("filters", "number of filters: each learns one pattern and makes one output channel", initial)


def _bias_params(weight_name: str = "kernel", what: str = "weights") -> tuple[Param, ...]:
    return (
        c.initializer(f"{weight_name}_initializer", what=what),
        c.initializer("bias_initializer", default="zeros", what="biases"),
        c.regularizer(f"{weight_name}_regularizer", what),
        c.regularizer("bias_regularizer", "biases"),
        c.activity_regularizer(),
    )


def _no_stride_with_dilation(p: dict[str, Any]) -> None:
    if max(p["strides"]) > 1 and max(p["dilation_rate"]) > 1:
        raise ShapeError(
            f"strides {dims_text(p['strides'])} cannot be combined with dilation rate "
            f"{dims_text(p['dilation_rate'])}; set one of them to 1"
        )


def _spans(p: dict[str, Any]) -> tuple[int, ...]:
    return tuple((k - 1) * d + 1 for k, d in zip(p["kernel_size"], p["dilation_rate"]))


def _bias_formula(window: str, inputs: str, filters: int, use_bias: bool, total: int) -> str:
    if use_bias:
        return f"params = ({window}*{inputs} + 1) * {filters} = {total}"
    return f"params = {window}*{inputs} * {filters} = {total}"


def _conv_rule(rank: int, type_name: str):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        c.spatial_rank(rank, shape, type_name)
        channels = c.last_dim(shape, type_name)
        filters, groups = p["filters"], p["groups"]
        _no_stride_with_dilation(p)
        if filters % groups:
            raise ShapeError(f"{filters} filters cannot be split evenly into {groups} groups")
        if channels % groups:
            raise ShapeError(f"the input's {channels} channels cannot be split evenly into {groups} groups")
        pad = "same" if p["padding"] == "causal" else p["padding"]
        what = "'causal' padding" if p["padding"] == "causal" else "'same' padding"
        sizes, formulas = c.windows(
            shape, p["kernel_size"], p["strides"], p["dilation_rate"], pad, type_name, what=what
        )
        per_filter = channels // groups
        weights = math.prod(p["kernel_size"]) * per_filter * filters
        biases = filters if p["use_bias"] else 0
        window = "*".join(map(str, p["kernel_size"]))
        inputs_text = str(channels) if groups == 1 else f"({channels}/{groups})"
        return Inference(
            output_shape=sizes + (filters,),
            weights=weights,
            biases=biases,
            step=Step(_spans(p), p["strides"]),
            shape_formula=formulas + [f"channels = filters = {filters}"],
            param_formula=[_bias_formula(window, inputs_text, filters, p["use_bias"], weights + biases)],
        )

    return rule


def _conv_spec(rank: int) -> LayerSpec:
    type_name = f"Conv{rank}D"
    return LayerSpec(
        type=type_name,
        category=CATEGORY,
        doc=(
            "slides learned filters along a sequence; each filter makes one output channel"
            if rank == 1
            else "slides learned filters over the image; each filter detects one pattern and makes one feature map"
        ),
        params=(
            _filters(),
            c.kernel_size(rank, 3 if rank == 2 else 5),
            c.strides(rank),
            c.padding(causal=rank == 1),
            c.dilation_rate(rank),
            Param("groups", INT, "split the input channels into this many independent groups",
                  default=1, minimum=1, maximum=4096, advanced=True),
            c.activation(),
            c.use_bias(),
            *_bias_params(),
        ),
        rule=_conv_rule(rank, type_name),
        summary=c.conv_summary,
        receptive_field="window",
        convolution=True,
        plain_filters=True,
    )


def _transpose_length(size, kernel, stride, dilation, pad, out_pad, label):
    span = (kernel - 1) * dilation + 1
    if size is None:
        return None, f"{label}: any size in, any size out"
    if pad == "valid" and out_pad is None:
        out = (size - 1) * stride + max(span, stride)
        return out, f"{label} = ({size} - 1) * {stride} + max({span}, {stride}) = {out}"
    if out_pad is None:
        out = size * stride
        return out, f"{label} = {size} * {stride} = {out}"
    extra = span if pad == "valid" else span % 2
    out = (size - 1) * stride + extra + out_pad
    return out, f"{label} = ({size} - 1) * {stride} + {extra} + {out_pad} = {out}"


def _transpose_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "Conv2DTranspose")
    channels = c.last_dim(shape, "Conv2DTranspose")
    _no_stride_with_dilation(p)
    out_pad = p["output_padding"]
    if out_pad is not None:
        for op, s in zip(out_pad, p["strides"]):
            if op >= s:
                raise ShapeError(
                    f"output_padding {dims_text(out_pad)} must be smaller than strides {dims_text(p['strides'])}"
                )
    sizes, formulas = [], []
    for axis, label in enumerate(("height", "width")):
        size, text = _transpose_length(
            shape[axis], p["kernel_size"][axis], p["strides"][axis], p["dilation_rate"][axis],
            p["padding"], None if out_pad is None else out_pad[axis], label,
        )
        sizes.append(size)
        formulas.append(text)
    filters = p["filters"]
    weights = math.prod(p["kernel_size"]) * channels * filters
    biases = filters if p["use_bias"] else 0
    window = "*".join(map(str, p["kernel_size"]))
    step = Step(
        tuple(math.ceil(k / s) for k, s in zip(_spans(p), p["strides"])),
        tuple(1 / s for s in p["strides"]),
    )
    return Inference(
        output_shape=tuple(sizes) + (filters,),
        weights=weights,
        biases=biases,
        step=step,
        shape_formula=formulas + [f"channels = filters = {filters}"],
        param_formula=[_bias_formula(window, str(channels), filters, p["use_bias"], weights + biases)],
    )


def _depthwise_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "DepthwiseConv2D")
    channels = c.last_dim(shape, "DepthwiseConv2D")  # Keras allows strides with dilation here
    sizes, formulas = c.windows(shape, p["kernel_size"], p["strides"], p["dilation_rate"], p["padding"], "DepthwiseConv2D")
    multiplier = p["depth_multiplier"]
    outputs = channels * multiplier
    weights = math.prod(p["kernel_size"]) * outputs
    biases = outputs if p["use_bias"] else 0
    window = "*".join(map(str, p["kernel_size"]))
    formula = f"params = ({window} + 1) * {channels}*{multiplier} = {weights + biases}" if p["use_bias"] \
        else f"params = {window} * {channels}*{multiplier} = {weights}"
    return Inference(
        output_shape=sizes + (outputs,),
        weights=weights,
        biases=biases,
        step=Step(_spans(p), p["strides"]),
        shape_formula=formulas + [f"channels = {channels} * depth_multiplier {multiplier} = {outputs}"],
        param_formula=[formula],
    )


def _separable_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "SeparableConv2D")
    channels = c.last_dim(shape, "SeparableConv2D")  # Keras allows strides with dilation here
    sizes, formulas = c.windows(shape, p["kernel_size"], p["strides"], p["dilation_rate"], p["padding"], "SeparableConv2D")
    multiplier, filters = p["depth_multiplier"], p["filters"]
    depthwise = math.prod(p["kernel_size"]) * channels * multiplier
    pointwise = channels * multiplier * filters
    biases = filters if p["use_bias"] else 0
    window = "*".join(map(str, p["kernel_size"]))
    bias_text = f" + {filters}" if p["use_bias"] else ""
    return Inference(
        output_shape=sizes + (filters,),
        weights=depthwise + pointwise,
        biases=biases,
        step=Step(_spans(p), p["strides"]),
        shape_formula=formulas + [f"channels = filters = {filters}"],
        param_formula=[
            f"depthwise = {window}*{channels}*{multiplier} = {depthwise}",
            f"pointwise = {channels}*{multiplier}*{filters} = {pointwise}",
            f"params = {depthwise} + {pointwise}{bias_text} = {depthwise + pointwise + biases}",
        ],
    )


SPECS = (
    _conv_spec(1),
    _conv_spec(2),
    LayerSpec(
        type="Conv2DTranspose",
        category=CATEGORY,
        doc="a learned upsampling: each input value spreads a filter onto a larger output (decoders, segmentation)",
        params=(
            _filters(),
            c.kernel_size(2),
            c.strides(2),
            c.padding(),
            Param("output_padding", INTS, "extra rows/columns added to one side of the output",
                  default=None, nullable=True, rank=2, minimum=0, maximum=1024, advanced=True),
            c.dilation_rate(2),
            c.activation(),
            c.use_bias(),
            *_bias_params(),
        ),
        rule=_transpose_rule,
        summary=c.conv_summary,
        receptive_field="transposed",
        convolution=True,
    ),
    LayerSpec(
        type="DepthwiseConv2D",
        category=CATEGORY,
        doc="one filter per input channel, channels never mixed: far fewer weights than Conv2D",
        params=(
            c.kernel_size(2),
            c.strides(2),
            c.padding(),
            Param("depth_multiplier", INT, "filters per input channel", default=1, minimum=1, maximum=1024),
            c.dilation_rate(2),
            c.activation(),
            c.use_bias(),
            *_bias_params("depthwise"),
        ),
        rule=_depthwise_rule,
        summary=c.conv_summary,
        receptive_field="window",
        convolution=True,
    ),
    LayerSpec(
        type="SeparableConv2D",
        category=CATEGORY,
        doc="a depthwise convolution then a 1x1 convolution that mixes channels (as in MobileNet, Xception)",
        params=(
            _filters(),
            c.kernel_size(2),
            c.strides(2),
            c.padding(),
            c.dilation_rate(2),
            Param("depth_multiplier", INT, "depthwise filters per input channel", default=1, minimum=1, maximum=1024),
            c.activation(),
            c.use_bias(),
            c.initializer("depthwise_initializer", what="depthwise weights"),
            c.initializer("pointwise_initializer", what="pointwise weights"),
            c.initializer("bias_initializer", default="zeros", what="biases"),
            c.regularizer("depthwise_regularizer", "depthwise weights"),
            c.regularizer("pointwise_regularizer", "pointwise weights"),
            c.regularizer("bias_regularizer", "biases"),
            c.activity_regularizer(),
        ),
        rule=_separable_rule,
        summary=c.conv_summary,
        receptive_field="window",
        convolution=True,
    ),
)
