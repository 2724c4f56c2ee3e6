"""Padding, cropping, upsampling, rescaling, normalization, resizing and data-augmentation layers."""

from __future__ import annotations

import math
from typing import Any

from . import common as c
from .spec import (
    AXIS,
    BOOL,
    CHOICE,
    FACTOR,
    FLOAT,
    FLOATS,
    INT,
    INTS,
    PADDING,
    Inference,
    LayerSpec,
    Param,
    ShapeError,
    Step,
    dims_text,
)

AUGMENT = "Preprocessing & augmentation"
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")


def _zero_padding_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "ZeroPadding2D")
    (top, bottom), (left, right) = p["padding"]
    h = None if shape[0] is None else shape[0] + top + bottom
    w = None if shape[1] is None else shape[1] + left + right
    return Inference(
        output_shape=(h, w, shape[2]),
        shape_formula=[f"height = {shape[0]} + {top} + {bottom} = {h}", f"width = {shape[1]} + {left} + {right} = {w}"],
        param_formula=["params = 0"],
    )


def _cropping_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "Cropping2D")
    (top, bottom), (left, right) = p["cropping"]
    h = None if shape[0] is None else shape[0] - top - bottom
    w = None if shape[1] is None else shape[1] - left - right
    if (h is not None and h <= 0) or (w is not None and w <= 0):
        raise ShapeError(
            f"cropping {top}+{bottom} rows and {left}+{right} columns from a {dims_text(shape[:2])} input "
            f"leaves {dims_text((h, w))}; crop less"
        )
    return Inference(
        output_shape=(h, w, shape[2]),
        shape_formula=[f"height = {shape[0]} - {top} - {bottom} = {h}", f"width = {shape[1]} - {left} - {right} = {w}"],
        param_formula=["params = 0"],
    )


def _upsampling_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "UpSampling2D")
    sh, sw = p["size"]
    h = None if shape[0] is None else shape[0] * sh
    w = None if shape[1] is None else shape[1] * sw
    return Inference(
        output_shape=(h, w, shape[2]),
        step=Step((1, 1), (1 / sh, 1 / sw)),
        shape_formula=[f"height = {shape[0]} * {sh} = {h}", f"width = {shape[1]} * {sw} = {w}"],
        param_formula=["params = 0"],
    )


def _resizing_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    c.spatial_rank(2, shape, "Resizing")
    if p["crop_to_aspect_ratio"] and p["pad_to_aspect_ratio"]:
        raise ShapeError("crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be on; choose one")
    h, w = p["height"], p["width"]
    step = None
    if shape[0] is not None and shape[1] is not None:
        step = Step((1, 1), (shape[0] / h, shape[1] / w))
    return Inference(
        output_shape=(h, w, shape[2]),
        step=step,
        shape_formula=[f"{dims_text(shape[:2])} -> {h}x{w} ({p['interpolation']})"],
        param_formula=["params = 0"],
    )


def _image_rule(type_name: str):
    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        c.spatial_rank(2, shape, type_name)
        return Inference(
            output_shape=shape,
            shape_formula=["shape unchanged (active only while training)"],
            param_formula=["params = 0"],
        )

    return rule


def _per_channel(name: str, value: Any, sizes: tuple[int, ...], shape: tuple) -> None:
    """A list of values must give one per normalised position (a single number applies to all)."""
    if isinstance(value, tuple) and len(value) != math.prod(sizes):
        raise ShapeError(f"'{name}' has {len(value)} values but the {dims_text(shape)} input needs "
                         f"{math.prod(sizes)} (one per channel) or a single number")


def _rescaling_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    for name in ("scale", "offset"):
        if isinstance(p[name], tuple) and len(p[name]) != 1:
            _per_channel(name, p[name], (c.last_dim(shape, "Rescaling"),), shape)
    return Inference(output_shape=shape, shape_formula=["shape unchanged"], param_formula=["params = 0"])


def _normalization_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    axes = () if p["axis"] is None else p["axis"] if isinstance(p["axis"], tuple) else (p["axis"],)
    sizes = c.axis_sizes(axes, shape, "Normalization")
    mean, variance = p["mean"], p["variance"]
    if (mean is None) != (variance is None):
        raise ShapeError("give both 'mean' and 'variance', or neither (then they are learned from the data "
                         "with adapt() and stored with the weights)")
    if mean is not None:
        _per_channel("mean", mean, sizes, shape)
        _per_channel("variance", variance, sizes, shape)
        return Inference(output_shape=shape, shape_formula=["shape unchanged"],
                         param_formula=["params = 0 (mean and variance are fixed settings)"])
    size = math.prod(sizes)
    return Inference(
        output_shape=shape,
        weights=2 * size + 1,
        non_trainable=2 * size + 1,
        shape_formula=["shape unchanged"],
        param_formula=[f"params = 2*{size} (mean, variance) + 1 (count), measured from the data, "
                       f"not trained = {2 * size + 1}"],
    )


def _numbers_text(value: Any) -> str:
    return ", ".join(f"{v:.4g}" for v in value) if isinstance(value, tuple) else f"{value:.4g}"


def _factor(name: str, doc: str, initial: Any = 0.1, **extra: Any) -> Param:
    return Param(name, FACTOR, doc, initial=initial, **extra)


def _fill() -> tuple[Param, ...]:
    return (
        Param("fill_mode", CHOICE, "how new pixels at the border are filled", default="reflect", choices=FILL_MODES),
        Param("interpolation", CHOICE, "how pixel values are resampled", default="bilinear",
              choices=("bilinear", "nearest")),
        Param("fill_value", FLOAT, "value of new pixels when fill_mode is 'constant'", default=0.0, advanced=True),
    )


SPECS = (
    LayerSpec(
        type="ZeroPadding2D",
        category="Reshaping",
        doc="adds rows and columns of zeros around the image",
        params=(Param("padding", PADDING, "zeros added: n, [rows, columns] or [[top, bottom], [left, right]]",
                      default=1, rank=2),),
        rule=_zero_padding_rule,
        receptive_field="padding",
    ),
    LayerSpec(
        type="Cropping2D",
        category="Reshaping",
        doc="cuts rows and columns off the image's borders",
        params=(Param("cropping", PADDING, "removed: n, [rows, columns] or [[top, bottom], [left, right]]",
                      default=0, rank=2),),
        rule=_cropping_rule,
        receptive_field="cropping",
    ),
    LayerSpec(
        type="UpSampling2D",
        category="Reshaping",
        doc="enlarges the feature maps by repeating (or interpolating) values",
        params=(
            Param("size", INTS, "enlargement factor for rows and columns", default=2, rank=2, minimum=1, maximum=64),
            Param("interpolation", CHOICE, "how new values are made", default="nearest",
                  choices=("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")),
        ),
        rule=_upsampling_rule,
        summary=lambda p: f"x{dims_text(p['size'])}",
        receptive_field="upsampling",
    ),
    LayerSpec(
        type="Rescaling",
        category=AUGMENT,
        doc="multiplies every value by a scale and adds an offset, e.g. 1/255 to map pixels to [0, 1]",
        params=(
            Param("scale", FLOATS, "factor every value is multiplied by (or one per channel)", initial=1 / 255),
            Param("offset", FLOATS, "value added after scaling (or one per channel)", default=0.0),
        ),
        rule=_rescaling_rule,
        summary=lambda p: f"x{_numbers_text(p['scale'])} + {_numbers_text(p['offset'])}",
        rescales=True,
    ),
    LayerSpec(
        type="Normalization",
        category=AUGMENT,
        doc="subtracts a mean and divides by the standard deviation (per channel), e.g. ImageNet statistics",
        params=(
            Param("axis", AXIS, "the axes kept (one mean per channel with -1; none = one overall mean)",
                  default=-1, nullable=True, advanced=True),
            Param("mean", FLOATS, "the mean subtracted (one per channel); none = measured from the data",
                  default=None, nullable=True),
            Param("variance", FLOATS, "the variance divided by (its square root is used); none = measured",
                  default=None, nullable=True),
            Param("invert", BOOL, "undo a normalisation instead (multiply back and add the mean)", default=False,
                  advanced=True),
        ),
        rule=_normalization_rule,
        summary=lambda p: "" if p["mean"] is None else f"mean {_numbers_text(p['mean'])}",
    ),
    LayerSpec(
        type="Resizing",
        category=AUGMENT,
        doc="resizes images to a fixed height and width",
        params=(
            Param("height", INT, "output height in pixels", initial=32, minimum=1, maximum=8192),
            Param("width", INT, "output width in pixels", initial=32, minimum=1, maximum=8192),
            Param("interpolation", CHOICE, "how pixel values are resampled", default="bilinear",
                  choices=RESIZE_INTERPOLATIONS),
            Param("crop_to_aspect_ratio", BOOL, "crop instead of distorting the aspect ratio", default=False, advanced=True),
            Param("pad_to_aspect_ratio", BOOL, "pad instead of distorting the aspect ratio", default=False, advanced=True),
            Param("antialias", BOOL, "smooth before shrinking", default=False, advanced=True),
        ),
        rule=_resizing_rule,
        summary=lambda p: f"{p['height']}x{p['width']}",
        receptive_field="resizing",
    ),
    LayerSpec(
        type="RandomFlip",
        category=AUGMENT,
        doc="while training, mirrors images at random (more varied data, less over-fitting)",
        params=(Param("mode", CHOICE, "which flips are allowed", default="horizontal_and_vertical",
                      choices=("horizontal", "vertical", "horizontal_and_vertical")),),
        rule=_image_rule("RandomFlip"),
        summary=lambda p: p["mode"],
        augmentation=True,
    ),
    LayerSpec(
        type="RandomRotation",
        category=AUGMENT,
        doc="while training, rotates images by a random angle",
        params=(_factor("factor", "largest rotation as a fraction of a full turn (0.1 = 36 degrees), or [low, high]",
                        minimum=-1.0, maximum=1.0), *_fill()),
        rule=_image_rule("RandomRotation"),
        augmentation=True,
    ),
    LayerSpec(
        type="RandomTranslation",
        category=AUGMENT,
        doc="while training, shifts images by a random offset",
        params=(
            _factor("height_factor", "largest vertical shift as a fraction of the height, or [low, high]",
                    minimum=-1.0, maximum=1.0),
            _factor("width_factor", "largest horizontal shift as a fraction of the width, or [low, high]",
                    minimum=-1.0, maximum=1.0),
            *_fill(),
        ),
        rule=_image_rule("RandomTranslation"),
        augmentation=True,
    ),
    LayerSpec(
        type="RandomZoom",
        category=AUGMENT,
        doc="while training, zooms images in or out at random",
        params=(
            _factor("height_factor", "zoom range as a fraction (0.1 = up to 10% in or out), or [low, high]",
                    minimum=-1.0, above_minimum=True, maximum=1.0),
            Param("width_factor", FACTOR, "horizontal zoom range (none = same as height)", default=None,
                  nullable=True, minimum=-1.0, above_minimum=True, maximum=1.0),
            *_fill(),
        ),
        rule=_image_rule("RandomZoom"),
        augmentation=True,
    ),
    LayerSpec(
        type="RandomContrast",
        category=AUGMENT,
        doc="while training, changes image contrast by a random factor",
        params=(
            _factor("factor", "largest contrast change as a fraction (0.2 = ±20%), or [low, high]",
                    initial=0.2, minimum=0.0, maximum=1.0),
            Param("value_range", FACTOR, "the range pixel values lie in, [low, high]", default=(0, 255),
                  rank=2, advanced=True),
        ),
        rule=_image_rule("RandomContrast"),
        augmentation=True,
    ),
)
