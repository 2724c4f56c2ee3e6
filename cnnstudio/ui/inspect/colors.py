"""Numbers to colours for the inspection views: weights on a diverging map centred on zero,
activations on a sequential map, network inputs stretched to their own range.

Everything returns RGBA uint8 arrays ready for a QImage or a pyqtgraph ImageItem; NaN
(the gaps between tiles) becomes transparent.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyqtgraph as pg

DIVERGING = "CET-D1"  # blue - white - red: negative weights blue, zero white, positive red
SEQUENTIAL = "viridis"  # perceptually uniform, dark = quiet, bright = active
LUT_SIZE = 256


@cache
def lookup_table(name: str) -> np.ndarray:
    """(256, 4) uint8 RGBA of a pyqtgraph colour map."""
    return np.ascontiguousarray(pg.colormap.get(name).getLookupTable(nPts=LUT_SIZE, alpha=True))


def colormap(name: str) -> pg.ColorMap:
    return pg.colormap.get(name)


def _through_lut(fraction: np.ndarray, name: str) -> np.ndarray:
    """Values in [0, 1] (NaN allowed) -> RGBA uint8 through the named map."""
    fraction = np.asarray(fraction, dtype=np.float32)
    missing = np.isnan(fraction)
    index = np.clip(np.nan_to_num(fraction) * (LUT_SIZE - 1) + 0.5, 0, LUT_SIZE - 1).astype(np.intp)
    rgba = lookup_table(name)[index]
    rgba[missing] = 0
    return rgba


def diverging(values: np.ndarray, vmax: float, name: str = DIVERGING) -> np.ndarray:
    """Weights on [-vmax, vmax] with zero in the middle of the map."""
    vmax = float(vmax) if vmax and np.isfinite(vmax) and vmax > 0 else 1.0
    return _through_lut(np.asarray(values, dtype=np.float32) / (2.0 * vmax) + 0.5, name)


def sequential(values: np.ndarray, vmin: float, vmax: float, name: str = SEQUENTIAL) -> np.ndarray:
    """Values on [vmin, vmax] from the dark to the bright end of the map."""
    span = float(vmax - vmin)
    if not np.isfinite(span) or span <= 0:
        span = 1.0
    return _through_lut((np.asarray(values, dtype=np.float32) - vmin) / span, name)


def rgb(values: np.ndarray) -> np.ndarray:
    """(..., 3) floats in [0, 1] (NaN allowed) -> RGBA uint8."""
    values = np.asarray(values, dtype=np.float32)
    missing = np.isnan(values).any(axis=-1)
    out = np.empty((*values.shape[:-1], 4), dtype=np.uint8)
    out[..., :3] = np.clip(np.nan_to_num(values) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = 255
    out[missing] = 0
    return out


def largest_magnitude(tiles: np.ndarray) -> np.ndarray:
    """Per tile (first axis), the largest |value|; 1 where a tile is all zero."""
    tiles = np.asarray(tiles, dtype=np.float32)
    peak = np.abs(tiles.reshape(len(tiles), -1)).max(axis=1) if tiles.size else np.ones(len(tiles))
    return np.where(peak > 0, peak, 1.0).astype(np.float32)


def per_tile_range(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per tile, (min, max); tiles with one value get a range of 1 so nothing divides by zero."""
    flat = np.asarray(tiles, dtype=np.float32).reshape(len(tiles), -1)
    if not flat.size:
        return np.zeros(len(tiles), np.float32), np.ones(len(tiles), np.float32)
    low, high = flat.min(axis=1), flat.max(axis=1)
    return low, np.where(high > low, high, low + 1.0)


def input_rgba(image: np.ndarray) -> np.ndarray:
    """A network input (H, W, C), stretched to its own range: grey for one channel, colour for three."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    x = x[..., :3] if x.shape[-1] >= 3 else x[..., :1]
    low, high = (float(np.nanmin(x)), float(np.nanmax(x))) if x.size else (0.0, 1.0)
    x = (x - low) / (high - low) if high > low else np.zeros_like(x)
    return rgb(np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x)
