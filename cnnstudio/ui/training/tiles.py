"""Filters and feature maps laid out as one tiled image (pure NumPy): one image item draws them all.

Gaps between tiles are NaN, which the image item leaves transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_TILES = 64
MAX_CHANNELS = 3  # input channels shown per filter (the first conv layer sees 1 or 3)


@dataclass(frozen=True)
class Tiled:
    image: np.ndarray  # 2-D, NaN between tiles
    count: int  # tiles drawn
    total: int  # tiles there were (more than `count` when capped)
    tile_shape: tuple[int, int]
    columns: int


def tile(images: np.ndarray, columns: int | None = None, gap: int = 1) -> tuple[np.ndarray, int]:
    """(N, h, w) images in a grid, row by row, `gap` NaN pixels apart; returns (image, columns)."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    if n == 0:
        return np.full((1, 1), np.nan, np.float32), 1
    if columns is None:
        columns = grid_columns(n, h, w)
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = images[i]
    return out, columns


def grid_columns(n: int, h: int, w: int, aspect: float = 1.6) -> int:
    """Columns that make a grid of n tiles of h x w about `aspect` times wider than tall."""
    return max(1, min(n, round(math.sqrt(n * aspect * h / max(w, 1)))))


def filter_tiles(kernel: np.ndarray, max_filters: int = MAX_TILES) -> Tiled:
    """A convolution kernel as tiles: one per filter, its input channels stacked top to bottom.

    Conv2D kernels are (kh, kw, in, out); Conv1D (k, in, out) become 1-pixel-high strips.
    Values are left as they are (draw them with a diverging colour map centred on zero).
    """
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim == 3:
        k = k[None]  # (1, k, in, out)
    if k.ndim != 4:
        raise ValueError(f"a kernel of shape {list(kernel.shape)} is not a convolution kernel")
    kh, kw, cin, cout = k.shape
    shown = min(cout, max_filters)
    channels = min(cin, MAX_CHANNELS)
    gap = 1 if channels > 1 else 0
    per_filter = np.full((shown, channels * (kh + gap) - gap, kw), np.nan, np.float32)
    for c in range(channels):
        per_filter[:, c * (kh + gap): c * (kh + gap) + kh, :] = np.moveaxis(k[:, :, c, :shown], -1, 0)
    image, columns = tile(per_filter, gap=1 if max(kh, kw) < 8 else 2)
    return Tiled(image, shown, cout, per_filter.shape[1:], columns)


def feature_map_tiles(activation: np.ndarray, max_maps: int = MAX_TILES) -> Tiled:
    """One image's activations (H, W, C) or (L, C) as tiles, each map scaled to 0..1 on its own."""
    a = np.asarray(activation, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"activations of shape {list(activation.shape)} are not feature maps")
    maps = np.moveaxis(a, -1, 0)[:max_maps]
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)
    gap = 1 if max(a.shape[0], a.shape[1]) < 16 else 2
    image, columns = tile(scaled, gap=gap)
    return Tiled(image, len(maps), a.shape[-1], maps.shape[1:], columns)


def symmetric_level(values: np.ndarray) -> float:
    """The largest magnitude (for levels -m..m around zero); 1 when everything is zero."""
    finite = np.asarray(values)[np.isfinite(values)]
    m = float(np.abs(finite).max()) if finite.size else 0.0
    return m if m > 0 else 1.0


def display_image(image: np.ndarray) -> np.ndarray:
    """A network input (H, W, C) for showing: 2-D grey or (H, W, 3) colour, scaled to 0..1."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == 3 and x.shape[-1] != 3:
        x = x.mean(axis=-1)
    low, high = float(np.nanmin(x)), float(np.nanmax(x))
    return (x - low) / (high - low) if high > low else np.zeros_like(x)
