"""Input, Dense, Embedding, Flatten, Reshape, dropout and normalisation layers."""

from __future__ import annotations

import math
from typing import Any

from . import common as c
from .spec import (
    AXIS,
    BOOL,
    CHOICE,
    FLOAT,
    IDENTITY,
    INT,
    NO_FIELD,
    SHAPE,
    Inference,
    LayerSpec,
    Param,
    ShapeError,
    dims_text,
)

INPUT_DTYPES = ("float32", "int32", "int64", "float16", "bfloat16", "float64", "uint8", "bool")


def _input_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    shape = p["shape"]
    return Inference(output_shape=shape, shape_formula=[f"shape = {dims_text(shape)} (set here)"])


def _dropout_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    noise = p["noise_shape"]
    if noise is not None:
        full = (None, *shape)
        if len(noise) != len(full) or any(n not in (None, 1, size) for n, size in zip(noise, full)):
            raise ShapeError(f"noise_shape {list(noise)} does not fit a batch of {dims_text(shape)} inputs: give "
                             f"{len(full)} sizes (the batch first), each 1, the input's size or null")
    return Inference(output_shape=shape, shape_formula=["shape unchanged"], param_formula=["params = 0"])


def _embedding_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    rows, width = p["input_dim"], p["output_dim"]
    return Inference(
        output_shape=(*shape, width),
        weights=rows * width,
        step=NO_FIELD,
        shape_formula=[f"each of the {dims_text(shape)} whole numbers becomes a vector of {width}"],
        param_formula=[f"params = {rows} words * {width} values = {rows * width}"],
    )


def _dense_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    features = c.last_dim(shape, "Dense")
    units = p["units"]
    weights = features * units
    biases = units if p["use_bias"] else 0
    out = shape[:-1] + (units,)
    warnings = []
    if len(shape) > 1:
        positions = dims_text(shape[:-1])
        warnings.append(
            f"Dense on a {dims_text(shape)} input acts on the last axis only: each of the "
            f"{positions} positions gets its own {units} outputs (like a 1x1 convolution), giving "
            f"{dims_text(out)}. Add Flatten before it to connect every value to every unit."
        )
    formula = f"params = ({features} + 1) * {units} = {weights + biases}" if p["use_bias"] \
        else f"params = {features} * {units} = {weights}"
    return Inference(
        output_shape=out,
        weights=weights,
        biases=biases,
        step=IDENTITY if len(shape) > 1 else NO_FIELD,
        shape_formula=[f"outputs = units = {units}"],
        param_formula=[formula],
        warnings=warnings,
    )


def _flatten_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    size = None if None in shape else math.prod(shape)
    text = "*".join("?" if s is None else str(s) for s in shape)
    return Inference(
        output_shape=(size,),
        step=NO_FIELD,
        shape_formula=[f"values = {text} = {'?' if size is None else size}"],
        param_formula=["params = 0"],
    )


def _reshape_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    target = p["target_shape"]
    if target.count(-1) > 1:
        raise ShapeError(f"target shape {list(target)} may contain -1 only once")
    known = math.prod(t for t in target if t != -1)
    if None in shape:
        out = tuple(None if t == -1 else t for t in target)
        return Inference(output_shape=out, step=NO_FIELD, shape_formula=[f"shape = {dims_text(out)}"])
    size = math.prod(shape)
    if -1 in target:
        if size % known:
            raise ShapeError(
                f"cannot reshape {dims_text(shape)} ({size} values) into {list(target)}: "
                f"{size} is not divisible by {known}"
            )
        out = tuple(size // known if t == -1 else t for t in target)
    else:
        if known != size:
            raise ShapeError(
                f"cannot reshape {dims_text(shape)} ({size} values) into {dims_text(target)} "
                f"({known} values); the number of values must stay the same"
            )
        out = target
    return Inference(
        output_shape=out, step=NO_FIELD,
        shape_formula=[f"{dims_text(shape)} = {size} values -> {dims_text(out)}"],
        param_formula=["params = 0"],
    )


def _identity_rule(min_rank: int = 1, exact_rank: int | None = None, type_name: str = ""):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        if exact_rank is not None:
            c.spatial_rank(exact_rank - 1, shape, type_name)
        return Inference(output_shape=shape, shape_formula=["shape unchanged"], param_formula=["params = 0"])

    return rule


def _batchnorm_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    (channels,) = c.axis_sizes(p["axis"], shape, "BatchNormalization")
    learned = channels * (int(p["scale"]) + int(p["center"]))
    parts = [n for n, on in (("gamma", p["scale"]), ("beta", p["center"])) if on]
    trainable_text = f"{len(parts)}*{channels} learned ({', '.join(parts)})" if parts else "nothing learned"
    return Inference(
        output_shape=shape,
        weights=learned + 2 * channels,
        non_trainable=2 * channels,
        shape_formula=["shape unchanged"],
        param_formula=[
            f"params = {trainable_text} + 2*{channels} running statistics "
            f"(mean, variance; not trained) = {learned + 2 * channels}"
        ],
    )


def _layernorm_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    size = math.prod(c.axis_sizes(p["axis"], shape, "LayerNormalization"))
    gamma = p["scale"] or p["rms_scaling"]
    beta = p["center"] and not p["rms_scaling"]
    learned = size * (int(gamma) + int(beta))
    return Inference(
        output_shape=shape,
        weights=learned,
        shape_formula=["shape unchanged"],
        param_formula=[f"params = {int(gamma) + int(beta)}*{size} = {learned}"],
    )


def _rate(initial: float = 0.5) -> Param:
    return Param("rate", FLOAT, "fraction of values set to zero at random while training",
                 initial=initial, minimum=0.0, maximum=1.0)


def _axis() -> Param:
    return Param("axis", AXIS, "the axis normalised (-1 = channels)", default=-1, advanced=True)


def _norm_flags() -> tuple[Param, ...]:
    return (
        Param("epsilon", FLOAT, "small number added to the variance to avoid dividing by zero",
              default=0.001, minimum=0.0, advanced=True),
        Param("center", BOOL, "learn an offset (beta)", default=True),
        Param("scale", BOOL, "learn a scale (gamma)", default=True),
        c.initializer("beta_initializer", default="zeros", what="offsets"),
        c.initializer("gamma_initializer", default="ones", what="scales"),
        c.regularizer("beta_regularizer", "offsets"),
        c.regularizer("gamma_regularizer", "scales"),
    )


SPECS = (
    LayerSpec(
        type="Input",
        category="Input",
        doc="where the data enters: the size of one example (height, width, channels)",
        params=(
            Param("shape", SHAPE, "size of one example without the batch, e.g. [28, 28, 1]",
                  initial=(28, 28, 1), nullable=True),
            Param("dtype", CHOICE, "the kind of numbers fed in (none = float32; whole numbers for word indices)",
                  default=None, choices=(None, *INPUT_DTYPES), advanced=True),
        ),
        rule=_input_rule,
        min_inputs=0,
        max_inputs=0,
        summary=lambda p: dims_text(p["shape"]),
    ),
    LayerSpec(
        type="Dense",
        category="Core",
        doc="every input connected to every unit (fully connected); the classic neural-network layer",
        params=(
            c.positive_int("units", "number of outputs (neurons)", 128),
            c.activation(),
            c.use_bias(),
            c.initializer("kernel_initializer"),
            c.initializer("bias_initializer", default="zeros", what="biases"),
            c.regularizer("kernel_regularizer"),
            c.regularizer("bias_regularizer", "biases"),
            c.activity_regularizer(),
        ),
        rule=_dense_rule,
        summary=lambda p: f"{p['units']}" + ("" if p["activation"] in (None, "linear") else f", {p['activation']}"),
        output_units="units",
    ),
    LayerSpec(
        type="Embedding",
        category="Core",
        doc="turns whole numbers (word or category indices) into learned vectors, e.g. before Conv1D on text",
        params=(
            c.positive_int("input_dim", "how many different indices there are (the vocabulary size)", 1000,
                           maximum=100_000_000),
            c.positive_int("output_dim", "length of the vector each index becomes", 64),
            Param("embeddings_initializer", CHOICE, "how the vectors are set before training starts",
                  default="uniform", choices=("uniform", *c.INITIALIZERS), advanced=True),
            c.regularizer("embeddings_regularizer", "vectors"),
            c.activity_regularizer(),
            Param("mask_zero", BOOL, "index 0 means padding: later layers skip it", default=False, advanced=True),
        ),
        rule=_embedding_rule,
        summary=lambda p: f"{p['input_dim']} -> {p['output_dim']}",
    ),
    LayerSpec(
        type="Flatten",
        category="Reshaping",
        doc="unrolls the feature maps into one long vector, e.g. before Dense layers",
        params=(),
        rule=_flatten_rule,
    ),
    LayerSpec(
        type="Reshape",
        category="Reshaping",
        doc="rearranges the values into a new shape with the same number of values (-1: work it out)",
        params=(Param("target_shape", SHAPE, "new shape without the batch, e.g. [28, 28, 1]; -1 once to infer",
                      initial=(-1,), minimum=-1),),
        rule=_reshape_rule,
        summary=lambda p: dims_text(p["target_shape"]),
    ),
    LayerSpec(
        type="Dropout",
        category="Normalization & regularization",
        doc="while training, zeroes a random fraction of values so the network cannot rely on any one",
        params=(
            _rate(),
            Param("noise_shape", SHAPE, "drop together along axes of size 1, batch first, e.g. [null, 1, 1, 64]",
                  default=None, nullable=True, advanced=True),
        ),
        rule=_dropout_rule,
        summary=lambda p: f"{p['rate']:g}",
        passes_values=True,
    ),
    LayerSpec(
        type="SpatialDropout2D",
        category="Normalization & regularization",
        doc="while training, drops whole feature maps at random (better than Dropout after convolutions)",
        params=(_rate(0.2),),
        rule=_identity_rule(exact_rank=3, type_name="SpatialDropout2D"),
        summary=lambda p: f"{p['rate']:g}",
    ),
    LayerSpec(
        type="BatchNormalization",
        category="Normalization & regularization",
        doc="rescales each channel to zero mean and unit variance over the batch: faster, steadier training",
        params=(
            Param("axis", INT, "the axis normalised (-1 = channels)", default=-1, advanced=True),
            Param("momentum", FLOAT, "how slowly the running mean and variance follow the batches",
                  default=0.99, minimum=0.0, maximum=1.0, advanced=True),
            *_norm_flags(),
            c.initializer("moving_mean_initializer", default="zeros", what="running means"),
            c.initializer("moving_variance_initializer", default="ones", what="running variances"),
        ),
        rule=_batchnorm_rule,
    ),
    LayerSpec(
        type="LayerNormalization",
        category="Normalization & regularization",
        doc="rescales each example's values to zero mean and unit variance (independent of the batch)",
        params=(
            _axis(),
            *_norm_flags(),
            Param("rms_scaling", BOOL, "scale by the root mean square only (no centring)", default=False, advanced=True),
        ),
        rule=_layernorm_rule,
        receptive_field="mixes_axis",
    ),
)
