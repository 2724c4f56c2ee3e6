"""Grad-CAM (Selvaraju et al. 2017): which regions of the image a class's evidence comes from.

Each feature map of a late convolution layer is weighted by how much the class score
(before the softmax) rises with it on average, the weighted maps are summed and
negative evidence is dropped (ReLU). The result has the layer's coarse resolution
(7x7 for a 28x28 image after two halvings) and is stretched bilinearly over the whole
input, as every Grad-CAM implementation does.

Variant 'hires-cam' (HiResCAM, Draelos & Carin 2020) multiplies each map by its
gradient position by position instead of by the gradient's average. For networks
ending in global average pooling the two agree; for networks ending in Flatten +
Dense (LeNet, VGG-style), averaging the gradient often cancels the evidence and
Grad-CAM comes back empty (all zero), while HiResCAM shows what the class score
actually used.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import UserError

from .batching import check_batch_size
from .gradients import batched_gradients
from .heatmap import Attribution, normalize, result
from .layers import as_image_batch, get_layer, last_conv_block, output_shape

VARIANTS = ("grad-cam", "hires-cam")


def grad_cam_layer(model: keras.Model) -> str:
    """The layer Grad-CAM uses unless told: the last convolution (or the block ending in it)."""
    return last_conv_block(model).name


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    *,
    layer: str | None = None,
    variant: str = "grad-cam",
    batch_size: int = 64,
) -> Attribution:
    """Grad-CAM heat maps for the predicted class (`class_index` None) or a chosen one,
    at `layer` (default: `grad_cam_layer(model)`), upsampled to the input size in [0, 1].

    A map that is all zero means the layer holds no positive evidence for the class
    (try variant 'hires-cam', or another class)."""
    if variant not in VARIANTS:
        raise UserError(f"unknown Grad-CAM variant '{variant}'; use one of {', '.join(VARIANTS)}")
    check_batch_size(batch_size)
    x, single = as_image_batch(model, images)
    name = layer or grad_cam_layer(model)
    shape = output_shape(get_layer(model, name))
    if len(shape) != 4:
        raise UserError(
            f"Grad-CAM needs a layer with feature maps (height x width x channels); "
            f"'{name}' outputs {'x'.join(str(s) for s in shape[1:])}"
        )
    found = batched_gradients(model, x, class_index, batch_size, layer=name)
    if variant == "grad-cam":
        weights = found.gradients.mean(axis=(1, 2))  # (N, C): how much each map helps the class
        cam = np.maximum(np.einsum("nhwc,nc->nhw", found.values, weights), 0.0)
    else:
        cam = np.maximum((found.gradients * found.values).sum(axis=-1), 0.0)
    coarse = normalize(cam)
    height, width = x.shape[1:3]
    upsampled = tf.image.resize(cam[..., None], (height, width), method="bilinear").numpy()[..., 0]
    heat = normalize(upsampled)
    return result(heat, found.classes, found.probabilities, single, variant, name, coarse)
