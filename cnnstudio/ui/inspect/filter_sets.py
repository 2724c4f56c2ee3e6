"""Filters ready to draw: a layer's per-channel kernels turned into what the user asked to see
(each input channel, the channel average, or colour), with its colour scale.

The per-channel kernels come from the ML thread (`Inspector.filters`) or, live during
training, from the trainer's snapshots of the raw weights (plain NumPy, no TensorFlow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.catalog import CATALOG
from cnnstudio.ml.jobs.results import LayerKernels

from . import colors
from .tiles import TileLayout, cell_size, matrix_layout, square_columns, tile

PER_CHANNEL, AVERAGE, RGB = "per_channel", "average", "rgb"
MODE_TEXT = {
    PER_CHANNEL: "Each input channel",
    AVERAGE: "Averaged over input channels",
    RGB: "Colour (RGB input)",
}
def kernels_from_weights(layer: str, layer_type: str, weights: list[np.ndarray]) -> LayerKernels | None:
    """Per-channel kernels (n, kh, kw, in) from a snapshot's raw weights; None for other layer kinds.

    Trainer snapshots hold Keras's raw weights; layers whose catalog entry has `plain_filters`
    store their kernel as (kh, kw, in, filters) (2-D) or (k, in, filters) (1-D), so the filters
    read straight off."""
    spec = CATALOG.get(layer_type)
    if spec is None or not spec.plain_filters or not weights:
        return None
    kernel = np.asarray(weights[0], dtype=np.float32)
    if kernel.ndim == 3:
        kernel = kernel[None]
    if kernel.ndim != 4:
        return None
    biases = np.asarray(weights[1], dtype=np.float32) if len(weights) > 1 else None
    return LayerKernels(layer, layer_type, kernel.transpose(3, 0, 1, 2), biases)


@dataclass(frozen=True)
class FilterPicture:
    """What the grid shows: `values` (tiles, kh, kw) or (tiles, kh, kw, 3) in mode rgb; tile i is
    filter `filters[i]`, input channel `channels[i]` (-1: the average)."""

    layer: str
    mode: str
    values: np.ndarray
    filters: np.ndarray
    channels: np.ndarray
    layout: TileLayout
    scale: np.ndarray  # per tile: the |weight| drawn at full colour
    shared: bool
    biases: np.ndarray | None

    @property
    def vmax(self) -> float:
        return float(self.scale.max()) if self.scale.size else 1.0

    def rgba(self) -> np.ndarray:
        """The tiled grid coloured: diverging map centred on zero (or colour for RGB)."""
        scaled = self.values / self.scale.reshape(-1, *([1] * (self.values.ndim - 1)))
        coloured = colors.rgb(scaled / 2.0 + 0.5) if self.mode == RGB else colors.diverging(scaled, 1.0)
        return tile(coloured, self.layout)  # coloured first: far fewer values than pixels

    def at(self, x: float, y: float) -> tuple[int, int, int, int] | None:
        """(tile, filter, row, col) under grid pixel (x, y)."""
        found = self.layout.locate(x, y)
        if found is None:
            return None
        index, row, col = found
        return index, int(self.filters[index]), row, col

    def filter_values(self, filter_index: int) -> np.ndarray:
        """All shown values of one filter (every tile of it)."""
        return self.values[self.filters == filter_index]


def available_modes(kernels: LayerKernels) -> list[str]:
    """The views that make sense: colour only for layers reading 3 channels."""
    modes = [PER_CHANNEL, AVERAGE]
    if kernels.kernels.shape[-1] == 3:
        modes.append(RGB)
    return modes


def default_mode(kernels: LayerKernels) -> str:
    channels = kernels.kernels.shape[-1]
    if channels == 3:
        return RGB
    return PER_CHANNEL if len(kernels.kernels) * channels <= 4096 else AVERAGE


def picture(kernels: LayerKernels, mode: str, shared: bool) -> FilterPicture:
    """Lay out `kernels` as asked: filters x channels, or one tile per filter."""
    k = np.asarray(kernels.kernels, dtype=np.float32)
    n, kh, kw, c = k.shape
    if mode == RGB and c != 3:
        mode = PER_CHANNEL
    if mode == PER_CHANNEL and c > 1:
        values = k.transpose(0, 3, 1, 2).reshape(n * c, kh, kw)
        filters, channels = np.repeat(np.arange(n), c), np.tile(np.arange(c), n)
        cell = cell_size(n * c, kh, kw)
        layout = matrix_layout(n, c, kh, kw, gap=_gap(cell), cell=cell)
    else:
        if mode == RGB:
            values = k
        elif mode == AVERAGE and c > 1:
            values = k.mean(axis=-1)
        else:
            values = k[..., 0]
        filters = np.arange(n)
        channels = np.full(n, -1 if mode == AVERAGE and c > 1 else 0)
        cell = cell_size(n, kh, kw)
        layout = TileLayout(n, kh, kw, square_columns(n, kh, kw), gap=_gap(cell), cell=cell)
    per_filter = colors.largest_magnitude(values.reshape(n, -1))  # tiles are grouped filter by filter
    if shared:
        scale = np.full(len(values), float(per_filter.max()) if n else 1.0, np.float32)
    else:
        scale = per_filter[filters]
    return FilterPicture(kernels.layer, mode, values, filters, channels, layout, scale, shared, kernels.biases)


Ticks = list[tuple[float, str]]
MOST_TICKS = 24


def axis_ticks(picture: FilterPicture) -> tuple[tuple[Ticks, str], tuple[Ticks, str]]:
    """Ticks and titles for the left and top axes of the grid: filters down and input channels
    across for the per-channel matrix; otherwise each grid row's first filter and the offset
    within the row ("+3"), so any tile's filter number can be read off."""
    layout = picture.layout
    matrix = picture.mode == PER_CHANNEL and picture.channels.max(initial=0) > 0
    rows = [(layout.origin(r * layout.columns)[0] + layout.tile_h * layout.cell / 2, r)
            for r in range(layout.rows)]
    columns = [(layout.origin(c)[1] + layout.tile_w * layout.cell / 2, c)
               for c in range(min(layout.columns, layout.count))]
    if matrix:
        left = [(y, str(r)) for y, r in rows]
        top = [(x, str(c)) for x, c in columns]
        titles = ("filter", "input channel")
    else:
        left = [(y, str(r * layout.columns)) for y, r in rows]
        top = [(x, f"+{c}") for x, c in columns]
        titles = ("filters", "")
    return (_thinned(left), titles[0]), (_thinned(top), titles[1])


def _thinned(ticks: Ticks) -> Ticks:
    step = max(1, -(-len(ticks) // MOST_TICKS))
    return ticks[::step]


def _gap(cell: int) -> int:
    """Pixels between tiles: thin beside the values, visible however small they are drawn."""
    return 1 if cell < 4 else 2
