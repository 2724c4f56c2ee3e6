"""Many small images (filters, feature maps) laid out as one tiled image, and back again.

Drawing one image for a whole layer keeps even 512 filters fast; `TileLayout`
turns a pixel of the tiled image back into (tile, row, col) for hover and click.
Gaps between tiles are NaN, so the colouring step can leave them transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TileLayout:
    """`count` tiles of `tile_h` x `tile_w` pixels in a grid of `rows` x `columns`, `gap` pixels apart."""

    count: int
    tile_h: int
    tile_w: int
    columns: int
    gap: int = 1

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.count / self.columns)) if self.count else 0

    @property
    def height(self) -> int:
        return max(0, self.rows * (self.tile_h + self.gap) - self.gap)

    @property
    def width(self) -> int:
        return max(0, min(self.columns, max(self.count, 1)) * (self.tile_w + self.gap) - self.gap)

    def origin(self, index: int) -> tuple[int, int]:
        """(top, left) pixel of tile `index`."""
        grid_row, grid_col = divmod(index, self.columns)
        return grid_row * (self.tile_h + self.gap), grid_col * (self.tile_w + self.gap)

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(tile, row, col) under pixel position (x, y) of the tiled image; None over a gap or outside."""
        if x < 0 or y < 0:
            return None
        grid_col, col = divmod(int(x), self.tile_w + self.gap)
        grid_row, row = divmod(int(y), self.tile_h + self.gap)
        if col >= self.tile_w or row >= self.tile_h or grid_col >= self.columns:
            return None
        index = grid_row * self.columns + grid_col
        return (index, row, col) if index < self.count else None


def square_columns(count: int, tile_h: int = 1, tile_w: int = 1) -> int:
    """Columns that make the grid about as wide as it is tall."""
    if count <= 0:
        return 1
    return max(1, min(count, round(math.sqrt(count * tile_h / max(tile_w, 1)))))


def tile(tiles: np.ndarray, layout: TileLayout) -> np.ndarray:
    """Lay out `tiles` (n, h, w) or (n, h, w, k) into one float32 image; gaps are NaN."""
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    out = np.full((layout.height, layout.width, *extra), np.nan, dtype=np.float32)
    if n == 0:
        return out
    rows, cols, gap = layout.rows, layout.columns, layout.gap
    padded = np.full((rows * cols, h + gap, w + gap, *extra), np.nan, dtype=np.float32)
    padded[:n, :h, :w] = tiles
    grid = padded.reshape(rows, cols, h + gap, w + gap, *extra).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + gap), cols * (w + gap), *extra)
    return np.ascontiguousarray(grid[: layout.height, : layout.width])


def matrix_layout(rows: int, columns: int, tile_h: int, tile_w: int, gap: int = 1) -> TileLayout:
    """A rows x columns grid filled row by row (e.g. filters x input channels)."""
    return TileLayout(rows * columns, tile_h, tile_w, max(columns, 1), gap)
