"""Layers the keras.applications networks define for themselves (ConvNeXt, InceptionResNetV2).

Keras keeps them in the application's own module rather than in keras.layers, so each
entry names that module; the builder, the code generator and the importer use Keras's
own classes, and files saved from the applications round-trip exactly.
"""

from __future__ import annotations

from typing import Any

from .elementwise import broadcast_shapes
from .spec import FLOAT, INT, Inference, LayerSpec, Param, ShapeError, dims_text

CONVNEXT = "keras.src.applications.convnext"
INCEPTION_RESNET = "keras.src.applications.inception_resnet_v2"


def _layer_scale_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    (shape,) = inputs
    size = p["projection_dim"]
    channels = shape[-1]
    if channels is not None and size not in (channels, 1) and channels != 1:
        raise ShapeError(f"LayerScale multiplies {size} channels but its input {dims_text(shape)} has "
                         f"{channels}; set projection_dim to {channels}")
    # one value or a channel count not known yet broadcasts to the scales, as Keras builds it
    out = (*shape[:-1], size) if channels == 1 or (channels is None and size != 1) else shape
    return Inference(output_shape=out, weights=size, shape_formula=["shape unchanged" if out == shape else
                                                                     f"broadcast to {dims_text(out)}"],
                     param_formula=[f"params = one scale per channel = {size}"])


def _stochastic_depth_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    return Inference(output_shape=inputs[0], shape_formula=["shape unchanged"], param_formula=["params = 0"])


def _scaled_sum_rule(p: dict[str, Any], inputs: list[tuple]) -> Inference:
    shape = broadcast_shapes(inputs[0], inputs[1], "CustomScaleLayer")
    return Inference(
        output_shape=shape,
        step="merge",
        shape_formula=[f"first + {p['scale']:g} * second, element by element: {dims_text(shape)}"],
        param_formula=["params = 0"],
    )


SPECS = (
    LayerSpec(
        type="LayerScale",
        category="Normalization & regularization",
        doc="multiplies each channel by a learned scale that starts tiny (ConvNeXt's residual branches)",
        params=(
            Param("init_values", FLOAT, "the scales' starting value, e.g. 1e-6", initial=1e-6, minimum=0.0),
            Param("projection_dim", INT, "number of channels scaled (the input's channels)", initial=96,
                  minimum=1, maximum=1_000_000),
        ),
        rule=_layer_scale_rule,
        keras_module=CONVNEXT,
        summary=lambda p: f"{p['projection_dim']} x {p['init_values']:g}",
    ),
    LayerSpec(
        type="StochasticDepth",
        category="Normalization & regularization",
        doc="while training, skips a whole residual branch for a random part of the batch (drop path)",
        params=(Param("drop_path_rate", FLOAT, "chance that the branch is skipped while training",
                      initial=0.1, minimum=0.0, maximum=1.0),),
        rule=_stochastic_depth_rule,
        keras_module=CONVNEXT,
        summary=lambda p: f"{p['drop_path_rate']:g}",
        passes_values=True,  # outside training it outputs its input unchanged
    ),
    LayerSpec(
        type="CustomScaleLayer",
        category="Merge",
        doc="adds its second input, scaled, to its first: x + scale * residual (InceptionResNetV2)",
        params=(Param("scale", FLOAT, "factor the second input is multiplied by", initial=0.1),),
        rule=_scaled_sum_rule,
        min_inputs=2,
        max_inputs=2,
        keras_module=INCEPTION_RESNET,
        summary=lambda p: f"x + {p['scale']:g} * r",
    ),
)
