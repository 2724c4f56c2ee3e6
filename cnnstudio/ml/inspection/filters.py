"""The learned filters of a convolution layer, laid out for drawing.

Every layer kind comes out the same way, one kernel per output channel as
(n_filters, kh, kw, channels), so the view needs one drawing routine:

- Conv1D: the kernel length lies along kw (kh = 1).
- DepthwiseConv2D: each filter reads one input channel, so channels = 1.
- SeparableConv2D: the depthwise and pointwise kernels combined into the full
  (kh, kw, in) kernel each filter applies (a separable convolution *is* a normal
  convolution with that kernel).
- Conv2DTranspose: the patch each input value stamps onto the output, per filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from cnnstudio.core.errors import UserError

from .layers import CONV_CLASSES, get_layer

MODES = ("per_channel", "average", "rgb")


@dataclass
class FilterSet:
    """A layer's filters. `kernels` (n, kh, kw, channels), or (n, kh, kw, 3) in mode 'rgb';
    `vmax_shared`: the largest |weight| over all kernels, so every filter is drawn on the
    same symmetric scale [-vmax, vmax] and strengths can be compared."""

    layer: str
    mode: str
    kernels: np.ndarray
    biases: np.ndarray | None
    vmax_shared: float

    @property
    def count(self) -> int:
        return len(self.kernels)

    def normalized(self) -> np.ndarray:
        """Kernels mapped to [0, 1] on the shared scale (0.5 = zero weight): RGB-ready in mode 'rgb'."""
        return np.clip(self.kernels / (2.0 * self.vmax_shared) + 0.5, 0.0, 1.0).astype(np.float32)


def filter_weights(model: keras.Model, layer: str, *, mode: str = "per_channel") -> FilterSet:
    """The filters of convolution layer `layer`.

    mode 'per_channel': every input channel kept (n, kh, kw, in); 'average': the mean over
    input channels (n, kh, kw, 1), the usual view for deep layers with many channels;
    'rgb': a first layer reading a 3-channel image, shown in colour (n, kh, kw, 3).
    """
    if mode not in MODES:
        raise UserError(f"filter view '{mode}' is unknown; use one of {', '.join(MODES)}")
    target = get_layer(model, layer)
    if not isinstance(target, CONV_CLASSES):
        raise UserError(
            f"layer '{layer}' is a {type(target).__name__}, which has no filters; choose a convolution layer"
        )
    kernels = _kernels(target)
    if mode == "average":
        kernels = kernels.mean(axis=-1, keepdims=True)
    elif mode == "rgb" and kernels.shape[-1] != 3:
        raise UserError(
            f"the colour view needs a layer that reads 3 channels (an RGB image); '{layer}' reads "
            f"{kernels.shape[-1]}; use 'per_channel' or 'average'"
        )
    bias = getattr(target, "bias", None)
    biases = None if bias is None else keras.ops.convert_to_numpy(bias).astype(np.float32)
    vmax = float(np.abs(kernels).max()) if kernels.size else 0.0
    return FilterSet(layer, mode, kernels.astype(np.float32), biases, vmax if vmax > 0 else 1.0)


def _kernels(layer: keras.layers.Layer) -> np.ndarray:
    """(n_filters, kh, kw, channels) for any convolution layer kind."""
    if isinstance(layer, (keras.layers.Conv3D, keras.layers.Conv3DTranspose)):
        raise UserError(f"layer '{layer.name}' is a 3-D convolution; its filters cannot be drawn as images")
    if isinstance(layer, (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)):
        depthwise = _numpy(layer.depthwise_kernel)  # (kh, kw, in, multiplier)
        pointwise = _numpy(layer.pointwise_kernel)  # (1, 1, in * multiplier, filters)
        depthwise, pointwise = _as_2d(depthwise), _as_2d(pointwise)
        kh, kw, channels, multiplier = depthwise.shape
        mix = pointwise[0, 0].reshape(channels, multiplier, -1)
        full = np.einsum("hwcm,cmf->hwcf", depthwise, mix)
        return np.moveaxis(full, -1, 0)
    if isinstance(layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)):
        kernel = _as_2d(_numpy(layer.kernel))  # (kh, kw, in, multiplier); output c*multiplier + m
        kh, kw, channels, multiplier = kernel.shape
        return kernel.reshape(kh, kw, channels * multiplier).transpose(2, 0, 1)[..., None]
    kernel = _as_2d(_numpy(layer.kernel))
    if isinstance(layer, (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose)):
        return kernel.transpose(2, 0, 1, 3)  # stored (kh, kw, filters, in)
    return kernel.transpose(3, 0, 1, 2)  # stored (kh, kw, in, filters)


def _numpy(variable: object) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(variable))


def _as_2d(kernel: np.ndarray) -> np.ndarray:
    """1-D kernels (k, in, out) as (1, k, in, out)."""
    return kernel[None] if kernel.ndim == 3 else kernel
