"""Parameters many layers share, and the sliding-window arithmetic with its formulas."""

from __future__ import annotations

from typing import Any

from .spec import (
    BOOL,
    CHOICE,
    INT,
    INTS,
    REGULARIZER,
    Param,
    ShapeError,
    dims_text,
)

ACTIVATIONS = (
    None, "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu",
    "swish", "silu", "leaky_relu", "relu6", "softplus", "softsign", "hard_sigmoid",
    "mish", "exponential", "log_softmax", "hard_silu", "hard_swish",
)  # fmt: skip

INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros", "ones",
)  # fmt: skip
# Vectors (one value per channel: biases, BatchNormalization's scales, offsets and running
# statistics) cannot be orthogonal: that needs a matrix, and Keras fails when the layer is built.
VECTOR_INITIALIZERS = tuple(name for name in INITIALIZERS if name != "orthogonal")
VECTOR_PARAMS = ("bias_initializer", "beta_initializer", "gamma_initializer",
                 "moving_mean_initializer", "moving_variance_initializer")

SPATIAL_NAMES = {1: ("length",), 2: ("height", "width")}


def activation(default: Any = None) -> Param:
    return Param(
        "activation", CHOICE, "function applied to every output value (none = linear)",
        default=default, choices=ACTIVATIONS,
    )


def use_bias() -> Param:
    return Param("use_bias", BOOL, "add a learned bias to every output channel", default=True)


def initializer(name: str, default: str = "glorot_uniform", what: str = "weights") -> Param:
    """The choice of initializer; parameters that are vectors are not offered (nor accept) 'orthogonal'."""
    return Param(
        name, CHOICE, f"how the {what} are set before training starts",
        default=default, choices=VECTOR_INITIALIZERS if name in VECTOR_PARAMS else INITIALIZERS,
        advanced=True,
    )


def regularizer(name: str, what: str = "weights") -> Param:
    return Param(
        name, REGULARIZER,
        f"penalty on large {what} added to the loss: l1, l2 or {{'l2': factor}}",
        default=None, nullable=True, advanced=True,
    )


def activity_regularizer() -> Param:
    return regularizer("activity_regularizer", "outputs")


def kernel_size(rank: int, initial: int = 3) -> Param:
    return Param(
        "kernel_size", INTS, "size of the sliding window (the filter)",
        initial=initial, rank=rank, minimum=1, maximum=1024,
    )


def strides(rank: int, nullable: bool = False) -> Param:
    doc = "how far the window moves per step"
    if nullable:
        return Param("strides", INTS, doc + " (none = the pool size)", default=None,
                     nullable=True, rank=rank, minimum=1, maximum=1024)
    return Param("strides", INTS, doc, default=1, rank=rank, minimum=1, maximum=1024)


def padding(causal: bool = False) -> Param:
    choices = ("valid", "same", "causal") if causal else ("valid", "same")
    return Param(
        "padding", CHOICE,
        "'valid': no padding, the output shrinks; 'same': zeros around the input keep the size"
        + ("; 'causal': pad only the start (for sequences)" if causal else ""),
        default="valid", choices=choices,
    )


def dilation_rate(rank: int) -> Param:
    return Param(
        "dilation_rate", INTS, "spacing between the kernel's taps (a wider view, same weights)",
        default=1, rank=rank, minimum=1, maximum=64, advanced=True,
    )


def positive_int(name: str, doc: str, initial: int, maximum: int = 1_000_000) -> Param:
    return Param(name, INT, doc, initial=initial, minimum=1, maximum=maximum)


# ---------------------------------------------------------------- arithmetic


def spatial_rank(rank: int, shape: tuple, type_name: str) -> None:
    """Raise unless ``shape`` has ``rank`` spatial axes plus channels."""
    if len(shape) != rank + 1:
        expected = {1: "(length, channels)", 2: "(height, width, channels)"}[rank]
        raise ShapeError(
            f"{type_name} needs a {rank + 1}-D input {expected}, but gets {dims_text(shape)}"
            + ("; add a Reshape layer first" if len(shape) < rank + 1 else "")
        )


def window_length(
    size: int | None, kernel: int, stride: int, dilation: int, pad: str, label: str, *, what: str
) -> tuple[int | None, str]:
    """Output length of a sliding window (convolution or pooling) and its formula."""
    span = (kernel - 1) * dilation + 1
    span_text = str(kernel) if dilation == 1 else f"{span}"
    if size is None:
        return None, f"{label}: any size in, any size out"
    if pad == "valid":
        if size < span:
            raise ShapeError("")  # the caller words the message with every axis
        out = (size - span) // stride + 1
        return out, f"{label} = floor(({size} - {span_text}) / {stride}) + 1 = {out}"
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    pad_text = f"2*{total // 2}" if total % 2 == 0 else str(total)
    formula = f"{label} = floor(({size} - {span_text} + {pad_text}) / {stride}) + 1 = {out}"
    return out, formula + (f"  ({what} adds {total} zeros)" if total else "")


def windows(
    shape: tuple, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
    pad: str, type_name: str, *, what: str = "'same' padding",
) -> tuple[tuple[int | None, ...], list[str]]:
    """Spatial output sizes of a sliding window over every spatial axis, with formulas."""
    rank = len(kernel)
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    names = SPATIAL_NAMES[rank]
    sizes: list[int | None] = []
    formulas: list[str] = []
    for axis in range(rank):
        try:
            out, text = window_length(
                shape[axis], kernel[axis], stride[axis], dilation[axis], pad,
                names[axis], what=what,
            )
        except ShapeError:
            noun = "kernel" if "Pool" not in type_name else "pool window"
            dil = "" if spans == kernel else f" (dilated to {dims_text(spans)})"
            raise ShapeError(
                f"{noun} {dims_text(kernel)}{dil} does not fit a {dims_text(shape[:rank])} input "
                f"with padding 'valid'; use padding 'same' or a smaller {noun.split()[-1]}"
            ) from None
        sizes.append(out)
        formulas.append(text)
    if rank == 2 and formulas[0][len("height"):] == formulas[1][len("width"):]:
        formulas = ["height, width" + formulas[0][len("height"):]]
    return tuple(sizes), formulas


def axis_sizes(axis: int | tuple[int, ...], shape: tuple, type_name: str) -> tuple[int, ...]:
    """Sizes of the normalised axes; Keras counts axes with the batch axis as 0."""
    rank = len(shape) + 1
    axes = axis if isinstance(axis, tuple) else (axis,)
    dims = []
    seen: dict[int, int] = {}
    for a in axes:
        index = a + rank if a < 0 else a
        if not 1 <= index < rank:
            raise ShapeError(
                f"axis {a} does not exist for a {dims_text(shape)} input "
                f"(use -1 for the channels, 1..{rank - 1} counting the batch as 0)"
            )
        size = shape[index - 1]
        if size is None:
            raise ShapeError(f"{type_name} axis {a} has no fixed size in {dims_text(shape)}")
        if index in seen:
            raise ShapeError(f"axis {a} is the same axis as {seen[index]} for a {dims_text(shape)} input; "
                             "list each axis once")
        seen[index] = a
        dims.append(size)
    return tuple(dims)


def last_dim(shape: tuple, type_name: str) -> int:
    channels = shape[-1]
    if channels is None:
        raise ShapeError(f"{type_name} needs a known number of channels, but the input is {dims_text(shape)}")
    return channels


def conv_summary(params: dict[str, Any]) -> str:
    parts = []
    if "filters" in params:
        parts.append(f"{params['filters']} @ {dims_text(params['kernel_size'])}")
    else:
        parts.append(dims_text(params["kernel_size"]))
    if any(s != 1 for s in params.get("strides", (1,))):
        parts.append(f"stride {dims_text(params['strides'])}")
    parts.append(params.get("padding", "valid"))
    if params.get("activation") not in (None, "linear"):
        parts.append(params["activation"])
    return ", ".join(parts)
