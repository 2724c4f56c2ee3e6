"""The input pixels one position of a layer's output depends on, exactly as TensorFlow computes it.

`analysis` gives the receptive field's *size*; this module gives *where* it lies for
a clicked position. It walks back from that position through every layer (kernel,
stride, dilation, 'same' padding split as TensorFlow splits it: the extra zero goes
after), keeping per spatial axis the exact set of positions reached, and clips to
real pixels at every layer (zeros added by padding depend on nothing). Merges take
the union of their branches; after Flatten, Dense, Reshape or global pooling every
position depends on the whole input.

Pure Python + NumPy, instant: the editor calls it on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .analysis import Analysis, analyze
from .catalog import CATALOG, IDENTITY, Step
from .errors import UserError
from .network import Network

Region = tuple[tuple[int, int], ...]  # per spatial axis, half-open [start, stop)
Sets = list[np.ndarray]  # per spatial axis, the sorted positions reached



def field_box(
    network: Network, layer_id: str, row: int, col: int, *,
    input_id: str | None = None, analysis: Analysis | None = None,
) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the input pixels that output position (row, col) of
    `layer_id` sees, half-open like slices: ``image[top:bottom, left:right]``.

    None when the position sees no pixel at all (it lies in zeros a ZeroPadding2D added).
    """
    region = field_region(network, layer_id, (row, col), input_id=input_id, analysis=analysis)
    if region is None:
        return None
    if len(region) != 2:
        raise UserError(f"the input of layer '{layer_id}' is not an image; use field_region for sequences")
    (top, bottom), (left, right) = region
    return top, left, bottom, right


def field_region(
    network: Network, layer_id: str, position: Sequence[int], *,
    input_id: str | None = None, analysis: Analysis | None = None,
) -> Region | None:
    """Per spatial axis of the input, the half-open range [start, stop) that `position`
    of `layer_id`'s output depends on (one axis for sequences, two for images)."""
    analysis = analysis or analyze(network)
    shapes = _checked_shapes(network, analysis, layer_id)
    out_shape = shapes[layer_id]
    if len(out_shape) < 2:
        raise UserError(
            f"layer '{layer_id}' has no spatial feature maps; choose a convolution or pooling layer"
        )
    position = tuple(int(p) for p in position)
    sizes = out_shape[:-1]
    if len(position) != len(sizes) or any(not 0 <= p < s for p, s in zip(position, sizes)):
        raise UserError(
            f"position {position} is outside layer '{layer_id}', whose feature maps are "
            + "x".join(map(str, sizes))
        )
    reached = _walk_back(network, analysis, shapes, layer_id, [np.array([p]) for p in position])
    inputs = [n for n in reached if network.nodes[n].type == "Input"]
    if input_id is None:
        if len(inputs) > 1:
            raise UserError(
                f"layer '{layer_id}' depends on several inputs ({', '.join(inputs)}); choose one"
            )
        if not inputs:
            raise UserError(f"layer '{layer_id}' is not connected to an input")
        input_id = inputs[0]
    elif input_id not in inputs:
        raise UserError(f"layer '{layer_id}' does not depend on input '{input_id}'")
    sets = reached[input_id]
    if len(shapes[input_id]) < 2:
        raise UserError(f"input '{input_id}' is a flat vector; it has no pixel positions")
    if any(len(s) == 0 for s in sets):
        return None
    return tuple((int(s[0]), int(s[-1]) + 1) for s in sets)


# ---------------------------------------------------------------- the walk back


def _checked_shapes(network: Network, analysis: Analysis, layer_id: str) -> dict[str, tuple]:
    if layer_id not in network:
        raise UserError(f"there is no layer '{layer_id}'")
    shapes: dict[str, tuple] = {}
    for node_id, info in analysis.layers.items():
        if info.output_shape is not None:
            shapes[node_id] = info.output_shape
    if layer_id not in shapes or any(s is None for s in shapes[layer_id]):
        raise UserError(f"layer '{layer_id}' has no known output size yet; fix the errors before it first")
    return shapes


def _walk_back(
    network: Network, analysis: Analysis, shapes: dict[str, tuple], start: str, sets: Sets
) -> dict[str, Sets]:
    """Position sets of every layer upstream of `start`, reached through its inputs."""
    order = [n for n in analysis.layers if n in shapes]
    reached: dict[str, Sets] = {start: sets}
    for node_id in reversed(order[: order.index(start) + 1]):
        if node_id not in reached:
            continue
        node = network.nodes[node_id]
        sources = network.inputs_of(node_id)
        if node.type == "Input" or not sources:
            continue
        if any(s not in shapes or None in shapes[s] for s in sources):
            raise UserError(f"the size of the input to layer '{node_id}' is not known; fix the errors before it")
        in_shapes = [shapes[s] for s in sources]
        params = analysis.layers[node_id].resolved or {}
        mapped = _layer_back(node.type, params, in_shapes, shapes[node_id], reached[node_id])
        for source, source_sets in zip(sources, mapped):
            previous = reached.get(source)
            reached[source] = source_sets if previous is None else [
                np.union1d(a, b) for a, b in zip(previous, source_sets)
            ]
    return reached


def _full(shape: tuple) -> Sets:
    return [np.arange(size) for size in shape[:-1]] if len(shape) >= 2 else []


def _layer_back(type_name: str, p: dict[str, Any], in_shapes: list[tuple], out_shape: tuple, sets: Sets) -> list[Sets]:
    """The position sets of each input of one layer that feed `sets` of its output (the layer's catalog
    entry says how, in `receptive_field`)."""
    step = _step_of(type_name, p, in_shapes)
    spec = CATALOG.get(type_name)
    role = spec.receptive_field if spec is not None else None
    if len(out_shape) < 2 or step is None or (isinstance(step, Step) and role not in _STEP_RULES):
        return [_full(s) for s in in_shapes]  # positions are gone or mixed: everything counts
    (in_shape, *_) = in_shapes
    if role in _STEP_RULES:
        rule = _STEP_RULES[role]
        return [[_clip(rule(p, axis, in_shape[axis], out_shape[axis], s), in_shape[axis])
                 for axis, s in enumerate(sets)]]
    if step == "merge":
        return [_merge_back(type_name, p, i, in_shapes, out_shape, sets) for i in range(len(in_shapes))]
    if role == "mixes_axis":
        return [_normalized_back(p, in_shape, sets)]
    if step == IDENTITY and len(in_shape) == len(out_shape):
        return [list(sets)]
    return [_full(s) for s in in_shapes]


def _step_of(type_name: str, p: dict[str, Any], in_shapes: list[tuple]) -> Any:
    spec = CATALOG.get(type_name)
    if spec is None:
        return None
    return spec.rule(p, list(in_shapes)).step


def _clip(values: np.ndarray, size: int) -> np.ndarray:
    values = np.unique(values)
    return values[(values >= 0) & (values < size)]


def _merge_back(type_name: str, p: dict[str, Any], index: int, in_shapes: list[tuple], out_shape: tuple, sets: Sets) -> Sets:
    shape = in_shapes[index]
    shift = len(out_shape) - len(shape)  # element-wise merges align axes from the right
    result: Sets = []
    for axis in range(len(shape) - 1):
        out_axis = axis + shift
        if out_axis < 0 or out_axis >= len(sets):
            result.append(np.arange(shape[axis]))
            continue
        s = sets[out_axis]
        if type_name == "Concatenate" and _concat_axis(p, len(out_shape)) == out_axis:
            start = sum(other[axis] for other in in_shapes[:index])
            s = s[(s >= start) & (s < start + shape[axis])] - start
        elif shape[axis] == 1 and out_shape[out_axis] != 1:
            s = np.array([0]) if len(s) else s  # broadcast: one value serves every position
        result.append(s)
    return result


def _concat_axis(p: dict[str, Any], rank: int) -> int:
    axis = p.get("axis", -1)
    return (axis + rank + 1 if axis < 0 else axis) - 1


def _normalized_back(p: dict[str, Any], in_shape: tuple, sets: Sets) -> Sets:
    axes = p.get("axis", -1)
    rank = len(in_shape)
    mixed = {(a + rank + 1 if a < 0 else a) - 1 for a in (axes if isinstance(axes, tuple) else (axes,))}
    return [np.arange(in_shape[axis]) if axis in mixed else s for axis, s in enumerate(sets)]


# ---------------------------------------------------------------- per-axis rules
# Each maps the output positions `s` of one spatial axis to the input positions
# they read (before clipping to the input).


def _window(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    kernel = (p.get("kernel_size") or p["pool_size"])[axis]
    stride = (p.get("strides") or p["pool_size"])[axis]
    dilation = p.get("dilation_rate", (1,) * (axis + 1))[axis]
    span = (kernel - 1) * dilation + 1
    padding = p.get("padding", "valid")
    if padding == "same":
        before = max((size_out - 1) * stride + span - size_in, 0) // 2
    elif padding == "causal":
        before = span - 1
    else:
        before = 0
    taps = np.arange(kernel) * dilation
    return (s[:, None] * stride - before + taps[None, :]).ravel()


def _transpose(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    """Input i writes to outputs i*stride - before + k*dilation (TF's conv2d_transpose)."""
    kernel, stride = p["kernel_size"][axis], p["strides"][axis]
    dilation = p["dilation_rate"][axis]
    span = (kernel - 1) * dilation + 1
    before = max((size_in - 1) * stride + span - size_out, 0) // 2 if p["padding"] == "same" else 0
    numerator = s[:, None] + before - np.arange(kernel)[None, :] * dilation
    hit = numerator % stride == 0
    return (numerator[hit] // stride).ravel()


def _zero_padding(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    return s - p["padding"][axis][0]


def _cropping(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    return s + p["cropping"][axis][0]


# Extra input pixels each side that an interpolation kernel reads, per unit of scale.
_INTERPOLATION_REACH = {"bicubic": 2, "lanczos3": 3, "lanczos5": 5}


def _resampled(interpolation: str, size_in: int, size_out: int, s: np.ndarray, antialias: bool = False) -> np.ndarray:
    """Input pixels read by TensorFlow's image resize (half-pixel centres) for outputs `s`."""
    if interpolation == "nearest":
        return (2 * s + 1) * size_in // (2 * size_out)
    if interpolation == "bilinear" and not (antialias and size_in > size_out):
        # source coordinate (o + 0.5) * in / out - 0.5, kept exact as numerator / (2 * out)
        numerator = (2 * s + 1) * size_in - size_out
        low = numerator // (2 * size_out)
        exact = numerator % (2 * size_out) == 0  # the upper neighbour gets weight 0
        return np.concatenate([low, (low + 1)[~exact]])
    # area, bicubic, lanczos, antialiased shrinking: the kernel's reach, a pixel generous
    scale = size_in / size_out
    widen = max(scale, 1.0) if (antialias or interpolation == "area") else 1.0
    reach = _INTERPOLATION_REACH.get(interpolation, 1) * widen
    centre = (s + 0.5) * scale - 0.5
    low = np.floor(centre - reach).astype(int)
    high = np.ceil(centre + reach).astype(int)
    return np.concatenate([np.arange(a, b + 1) for a, b in zip(low, high)]) if len(s) else s


def _upsampling(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    return _resampled(p["interpolation"], size_in, size_out, s)


def _resizing(p: dict[str, Any], axis: int, size_in: int, size_out: int, s: np.ndarray) -> np.ndarray:
    if p.get("crop_to_aspect_ratio") or p.get("pad_to_aspect_ratio"):
        return np.arange(size_in)  # the crop or pad moves every position; claim the whole axis
    return _resampled(p["interpolation"], size_in, size_out, s, bool(p.get("antialias")))


_STEP_RULES = {  # LayerSpec.receptive_field -> the per-axis rule
    "window": _window,
    "transposed": _transpose,
    "padding": _zero_padding,
    "cropping": _cropping,
    "upsampling": _upsampling,
    "resizing": _resizing,
}


def field_size_text(region: Region) -> str:
    """'5x5' for a region: what the inspector writes next to the box."""
    return "x".join(str(stop - start) for start, stop in region)


__all__ = ["Region", "field_box", "field_region", "field_size_text"]
