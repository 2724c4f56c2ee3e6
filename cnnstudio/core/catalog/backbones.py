"""Pretrained backbones: whole keras.applications networks as one node (MobileNetV2, ResNet50, ...).

The node's type is the application's function name and its parameters are the function's
keyword arguments (`weights`, `include_top`, `pooling`, `alpha`, ...). Shapes and parameter
counts come from `backbone_table`, measured once with Keras, so core needs no TensorFlow.
Unlike Keras, `include_top` is off by default: a backbone is usually the base of a new head.
The builder puts each family's preprocessing inside the model; it takes pixels scaled to
[0, 1], as every CNN Studio model does.
"""

from __future__ import annotations

import math
from typing import Any

from . import common as c
from .backbone_table import TABLE
from .spec import BOOL, CHOICE, INT, NO_FIELD, Inference, LayerSpec, Param, ShapeError, Step, dims_text

CATEGORY = "Pretrained"
FLIP_WEIGHTS = 9  # "caffe" preprocessing turns RGB into BGR with a fixed 1x1 convolution (3x3 weights)
_DOCS = {
    "MobileNet": "a small, fast network of depthwise-separable convolutions (2017)",
    "MobileNetV2": "a small, fast network of inverted residual blocks; a good first backbone",
    "MobileNetV3Small": "the smallest MobileNetV3, tuned for phones",
    "MobileNetV3Large": "the larger MobileNetV3, tuned for phones",
    "EfficientNetB0": "the base EfficientNet: high accuracy for its size",
    "EfficientNetB1": "EfficientNet scaled up once (240x240 images)",
    "EfficientNetB2": "EfficientNet scaled up twice (260x260 images)",
    "EfficientNetB3": "EfficientNet scaled up three times (300x300 images)",
    "EfficientNetV2B0": "EfficientNetV2, faster to train than the first EfficientNets",
    "ResNet50": "the classic 50-layer residual network (2015)",
    "ResNet50V2": "ResNet50 with pre-activation residual blocks",
    "DenseNet121": "every layer sees all earlier layers of its block (121 layers)",
    "ConvNeXtTiny": "a modern convolutional network designed like a transformer",
    "VGG16": "16 plain convolution layers: large, simple, slow",
    "Xception": "Inception's ideas with depthwise-separable convolutions (299x299 images)",
    "InceptionV3": "parallel convolutions of several sizes in each module (299x299 images)",
}


# The preprocessing keras.applications' preprocess_input does, as layers, for pixels in [0, 1].
_CAFFE_MEAN = (123.68, 116.779, 103.939)  # ImageNet's mean in RGB order, on 0..255
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def preprocessing_layers(node_id: str, family: str) -> list[tuple[str, dict[str, Any]]]:
    """(Keras layer class, arguments) turning [0, 1] pixels into what the family's weights expect."""
    mode = TABLE[family]["preprocessing"]
    if mode == "tf":  # [-1, 1]
        return [("Rescaling", {"scale": 2.0, "offset": -1.0, "name": f"{node_id}_preprocessing"})]
    if mode == "caffe":  # 0..255 minus ImageNet's mean, channels in BGR order
        return [("Rescaling", {"scale": 255.0, "offset": [-m for m in _CAFFE_MEAN], "name": f"{node_id}_preprocessing"}),
                ("Conv2D", {"filters": 3, "kernel_size": 1, "use_bias": False, "trainable": False,
                            "name": f"{node_id}_rgb_to_bgr"})]
    if mode == "torch":  # ImageNet's mean and standard deviation per channel
        return [("Normalization", {"mean": list(_TORCH_MEAN), "variance": [s * s for s in _TORCH_STD],
                                   "name": f"{node_id}_preprocessing"})]
    return [("Rescaling", {"scale": 255.0, "name": f"{node_id}_to_pixels"})]  # the network scales 0..255 itself


def application_arguments(family: str, params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments for the keras.applications function (include_top stated: ours defaults off)."""
    resolved = CATALOG_SPECS[family].resolve(params)
    arguments = {"include_top": resolved["include_top"], "weights": resolved["weights"]}
    for name, value in resolved.items():
        if name in params and name not in arguments:
            arguments[name] = float(value) if name == "alpha" else value
    return arguments


def output_size(steps: list[list[Any]], axis: int, size: int) -> int:
    """One side of the backbone's output for an input side of `size` (ValueError when too small)."""
    for step in steps:
        if step[0] == "pad":
            size += sum(step[1][axis])
        elif step[0] == "crop":
            size -= sum(step[1][axis])
        else:
            _, kernel, stride, dilation, padding = step
            try:
                size, _ = c.window_length(size, kernel[axis], stride[axis], dilation[axis], padding, "",
                                          what="padding")
            except ShapeError:
                raise ValueError(size) from None
        if size < 1:
            raise ValueError(size)
    return size


def variant_key(family: str, p: dict[str, Any]) -> str:
    """The table's key for the settings that change a backbone's size: "alpha=1.0,minimalistic=False"."""
    names = sorted(_size_settings(family))
    return ",".join(f"{name}={float(p[name]) if name == 'alpha' else p[name]}" for name in names)


def _size_settings(family: str) -> dict[str, list[Any]]:
    """The settings whose values the table has a row for (e.g. alpha: [0.35, ..., 1.4])."""
    found: dict[str, list[Any]] = {}
    for key in TABLE[family]["variants"]:
        for part in filter(None, key.split(",")):
            name, value = part.split("=")
            parsed = value == "True" if value in ("True", "False") else float(value)
            if parsed not in found.setdefault(name, []):
                found[name].append(parsed)
    return found


def _rule(family: str):
    facts = TABLE[family]

    def rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
        (shape,) = inputs
        if len(shape) != 3:
            raise ShapeError(f"{family} takes images (height, width, channels), but gets {dims_text(shape)}")
        height, width, channels = shape
        least, default = facts["minimum"], facts["default"]
        small = any(s is not None and s < least for s in (height, width))
        if channels != 3 or small:
            raise ShapeError(_input_problem(family, height, width, channels, least, small))
        v = facts["variants"][variant_key(family, p)]
        weights, biases, frozen = v["params"], v["biases"], v["params"] - v["trainable"]
        formula = [f"params = {family} without its classifier: {v['params']:,} ({frozen:,} not trained: "
                   "batch statistics)"]
        if facts["preprocessing"] == "caffe":
            weights, frozen = weights + FLIP_WEIGHTS, frozen + FLIP_WEIGHTS
            formula.append(f"+ {FLIP_WEIGHTS} fixed weights turning RGB into BGR")
        if p["include_top"]:
            if (height, width) != (default, default):
                raise ShapeError(f"{family} with include_top needs its {default}x{default} input (the classifier "
                                 f"was made for it), but this one is {dims_text((height, width))}; turn "
                                 "include_top off to use another size")
            if p["weights"] == "imagenet" and p["classes"] != 1000:
                raise ShapeError("ImageNet weights come with a classifier for 1000 classes; set classes to 1000, "
                                 "or turn include_top off and add your own classifier")
            top = v["top_fixed"] + v["top_per_class"] * p["classes"]
            weights += top
            biases += v["top_fixed_biases"] + p["classes"]
            formula.append(f"+ classifier {v['top_fixed']:,} + {v['top_per_class']:,} * {p['classes']} classes "
                           f"= {top:,}")
            out, step = (p["classes"],), NO_FIELD
        else:
            try:
                sides = tuple(None if s is None else output_size(v["steps"], axis, s)
                              for axis, s in enumerate((height, width)))
            except ValueError:
                raise ShapeError(f"{family} cannot take a {dims_text((height, width))} input: its layers would "
                                 f"shrink it to nothing; use at least {least}x{least}") from None
            out = (v["channels"],) if p["pooling"] else (*sides, v["channels"])
            field = v["receptive_field"]  # None where squeeze-and-excite blocks look at the whole image
            step = NO_FIELD if p["pooling"] or field is None else Step(tuple(field), tuple(v["jump"]))
        total_stride = math.prod(s[2][0] for s in v["steps"] if s[0] == "window")
        return Inference(
            output_shape=out,
            weights=weights - biases,
            biases=biases,
            non_trainable=frozen,
            step=step,
            shape_formula=[f"{dims_text((height, width))} / {total_stride} (the backbone's strides) -> "
                           f"{dims_text(out)}"],
            param_formula=formula,
        )

    return rule


def _input_problem(family: str, height: int | None, width: int | None, channels: int | None, least: int,
                   small: bool) -> str:
    """Why the backbone cannot take this input, and the layers to put before it (the window adds them
    when a backbone is dropped on the canvas; a project file lists its own)."""
    wrong, fixes = [], []
    if small:
        wrong.append(f"needs an input of at least {least}x{least}, but this one is {dims_text((height, width))}")
        fixes.append(f"a Resizing layer (height and width {least} or more)")
    if channels != 3:
        wrong.append(f"takes colour images with 3 channels, but this input has {channels}")
        fixes.append("a frozen 1x1 Conv2D with 3 filters, kernel_initializer 'ones' and no bias (it repeats the "
                     "grey channel)" if channels == 1 else "a 1x1 Conv2D with 3 filters")
    return f"{family} {'; it also '.join(wrong)}; put {' and '.join(fixes)} before it, or choose a dataset that fits"


def _spec(family: str) -> LayerSpec:
    facts = TABLE[family]
    settings = _size_settings(family)
    extra: list[Param] = []
    if "alpha" in settings:
        extra.append(Param("alpha", CHOICE, "width: the number of filters in each layer, relative to the original",
                           default=1.0, choices=tuple(settings["alpha"])))
    if "minimalistic" in settings:
        extra.append(Param("minimalistic", BOOL, "the plainer variant without squeeze-and-excite or hard-swish",
                           default=False))
    if family.startswith(("MobileNetV3", "EfficientNetV2", "ConvNeXt")):
        extra.append(Param("include_preprocessing", BOOL, "the network scales the pixels itself (keep on)",
                           default=True, advanced=True))
    return LayerSpec(
        type=family,
        category=CATEGORY,
        doc=f"{_DOCS.get(family, family)}; pretrained on ImageNet ({facts['default']}x{facts['default']} images)",
        params=(
            Param("weights", CHOICE, "'imagenet': start from what it learned on ImageNet; none: random start",
                  default="imagenet", choices=("imagenet", None)),
            Param("include_top", BOOL, "keep its ImageNet classifier (off: it ends with feature maps for your "
                  "own head)", default=False),
            Param("pooling", CHOICE, "average or max over the feature maps (one vector per image), or none",
                  default=None, choices=(None, "avg", "max")),
            Param("classes", INT, "number of classes of the kept classifier (with include_top)", default=1000,
                  minimum=1, maximum=100_000, advanced=True),
            Param("classifier_activation", CHOICE, "activation of the kept classifier (with include_top)",
                  default="softmax", choices=tuple(a for a in c.ACTIVATIONS if a != "linear"), advanced=True),
            *extra,
        ),
        rule=_rule(family),
        keras_module="keras.applications",
        summary=lambda p: ("ImageNet" if p["weights"] else "no weights")
        + (f", {p['pooling']} pooling" if p["pooling"] else ""),
    )


SPECS = tuple(_spec(family) for family in TABLE)
CATALOG_SPECS = {spec.type: spec for spec in SPECS}
