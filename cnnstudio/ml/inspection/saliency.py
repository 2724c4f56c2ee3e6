"""Saliency maps: which pixels would change the class score most if they changed.

- `saliency`: the plain gradient of the class score with respect to the pixels
  (Simonyan et al. 2013), largest |gradient| over the colour channels.
- `smoothgrad`: the same gradient averaged over noisy copies of the image
  (Smilkov et al. 2017), which removes most of the speckle of the plain gradient.

The score is the one before the softmax (heads.py). Maps come back at the input's
resolution in [0, 1], scaled by their 99th percentile so a few extreme pixels do
not leave the rest black.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from cnnstudio.core.errors import UserError

from .batching import check_batch_size
from .gradients import batched_gradients
from .heatmap import Attribution, normalize, result
from .layers import as_image_batch

CLIP_PERCENTILE = 99.0


def saliency(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    *,
    clip_percentile: float | None = CLIP_PERCENTILE,
    batch_size: int = 64,
) -> Attribution:
    """Vanilla gradient saliency for the predicted class (`class_index` None) or a chosen one."""
    check_batch_size(batch_size)
    x, single = as_image_batch(model, images)
    found = batched_gradients(model, x, class_index, batch_size)
    heat = normalize(_channel_max(found.gradients), clip_percentile)
    return result(heat, found.classes, found.probabilities, single, "gradient")


def smoothgrad(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | Sequence[int] | None = None,
    *,
    samples: int = 25,
    noise_level: float = 0.15,
    seed: int | None = 0,
    clip_percentile: float | None = CLIP_PERCENTILE,
    batch_size: int = 64,
) -> Attribution:
    """SmoothGrad: the gradient averaged over `samples` copies of each image with Gaussian
    noise of standard deviation `noise_level` x (the image's max - min); 10-20% works best."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise UserError(f"SmoothGrad needs 1 or more noisy samples, not {samples!r}")
    if not 0.0 <= noise_level <= 1.0:
        raise UserError(f"noise level {noise_level!r} must lie between 0 and 1 (0.15 = 15% of the value range)")
    check_batch_size(batch_size)
    x, single = as_image_batch(model, images)
    clean = batched_gradients(model, x, class_index, batch_size)
    rng = np.random.default_rng(seed)
    spread = (x.reshape(len(x), -1).max(axis=1) - x.reshape(len(x), -1).min(axis=1))
    spread = np.where(spread > 0, spread, 1.0).astype(np.float32)
    total = np.zeros_like(x)
    for i in range(len(x)):
        noise = rng.standard_normal((samples, *x.shape[1:])).astype(np.float32)
        noisy = x[i][None] + noise * (noise_level * spread[i])
        repeated = np.full(samples, clean.classes[i])
        total[i] = batched_gradients(model, noisy, repeated, batch_size).gradients.mean(axis=0)
    heat = normalize(_channel_max(total), clip_percentile)
    return result(heat, clean.classes, clean.probabilities, single, "smoothgrad")


def _channel_max(gradients: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, H, W): the largest |gradient| over channels."""
    return np.abs(gradients).max(axis=-1)
