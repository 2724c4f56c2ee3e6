"""The result every attribution method returns, and the shared steps to make it:
choosing the class to explain, and scaling a heat map to [0, 1] for display."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnstudio.core.errors import UserError


@dataclass
class Attribution:
    """Where the network looked. For one image: `heatmap` (H, W) at the input's resolution,
    values in [0, 1] (1 = the most important pixel); for a batch: (N, H, W) with one
    `class_index` and `probability` per image.

    `method`: 'gradient', 'smoothgrad', 'grad-cam' or 'hires-cam'; `layer`: the layer Grad-CAM used;
    `coarse`: Grad-CAM at that layer's own resolution, before upsampling.
    """

    heatmap: np.ndarray
    class_index: int | np.ndarray
    probability: float | np.ndarray
    method: str
    layer: str | None = None
    coarse: np.ndarray | None = None

    @property
    def empty(self) -> bool | np.ndarray:
        """True where a map is all zero (no positive evidence for the class); one flag per image."""
        maps = self.heatmap.reshape(-1, *self.heatmap.shape[-2:])
        flags = maps.reshape(len(maps), -1).max(axis=1) == 0
        return bool(flags[0]) if self.heatmap.ndim == 2 else flags


def target_classes(scores: np.ndarray, class_index: int | Sequence[int] | None) -> np.ndarray:
    """One class per image: the predicted one (None), the same one for all (int), or one each."""
    n, k = scores.shape
    if class_index is None:
        return scores.argmax(axis=1)
    wanted = np.asarray(class_index, dtype=np.int64).ravel()
    if np.ndim(class_index) == 0:
        wanted = np.full(n, wanted[0])
    if len(wanted) != n:
        raise UserError(f"{len(wanted)} classes were given for {n} images")
    if wanted.min() < 0 or wanted.max() >= k:
        raise UserError(f"the network has classes 0 to {k - 1}; class {int(wanted.max())} does not exist")
    return wanted.copy()


def normalize(maps: np.ndarray, clip_percentile: float | None = None) -> np.ndarray:
    """Scale each map (N, H, W) of non-negative values to [0, 1] by its maximum, or by a high
    percentile (a few extreme gradients otherwise leave the rest of a saliency map black).
    An all-zero map stays zero."""
    maps = np.maximum(np.asarray(maps, dtype=np.float32), 0.0)
    flat = maps.reshape(len(maps), -1)
    if clip_percentile is None:
        top = flat.max(axis=1)
    else:
        top = np.percentile(flat, clip_percentile, axis=1)
        top = np.where(top > 0, top, flat.max(axis=1))
    top = np.where(top > 0, top, 1.0).astype(np.float32)
    return np.clip(maps / top[:, None, None], 0.0, 1.0)


def result(
    heat: np.ndarray, classes: np.ndarray, probabilities: np.ndarray, single: bool, method: str,
    layer: str | None = None, coarse: np.ndarray | None = None,
) -> Attribution:
    """Package per-image arrays, dropping the batch axis when one image was given."""
    chosen = probabilities[np.arange(len(classes)), classes].astype(np.float32)
    if single:
        return Attribution(heat[0], int(classes[0]), float(chosen[0]), method, layer,
                           None if coarse is None else coarse[0])
    return Attribution(heat, classes, chosen, method, layer, coarse)
