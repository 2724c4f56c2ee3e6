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
    """`count` tiles of `tile_h` x `tile_w` values in a grid with `columns` columns; each value is
    drawn as `cell` x `cell` pixels, and tiles are `gap` pixels apart (gaps stay thin however
    large the values are drawn)."""

    count: int
    tile_h: int
    tile_w: int
    columns: int
    gap: int = 1
    cell: int = 1

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.count / self.columns)) if self.count else 0

    @property
    def step_y(self) -> int:
        return self.tile_h * self.cell + self.gap

    @property
    def step_x(self) -> int:
        return self.tile_w * self.cell + self.gap

    @property
    def height(self) -> int:
        return max(0, self.rows * self.step_y - self.gap)

    @property
    def width(self) -> int:
        return max(0, min(self.columns, max(self.count, 1)) * self.step_x - self.gap)

    def origin(self, index: int) -> tuple[int, int]:
        """(top, left) pixel of tile `index`."""
        grid_row, grid_col = divmod(index, self.columns)
        return grid_row * self.step_y, grid_col * self.step_x

    def pixel(self, index: int, row: float, col: float) -> tuple[float, float]:
        """(x, y) pixel of value (row, col) of tile `index` (fractions reach inside the cell)."""
        top, left = self.origin(index)
        return left + col * self.cell, top + row * self.cell

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(tile, row, col) under pixel position (x, y) of the tiled image; None over a gap or outside."""
        if x < 0 or y < 0:
            return None
        grid_col, col = divmod(int(x), self.step_x)
        grid_row, row = divmod(int(y), self.step_y)
        row, col = row // self.cell, col // self.cell
        if col >= self.tile_w or row >= self.tile_h or grid_col >= self.columns:
            return None
        index = grid_row * self.columns + grid_col
        return (index, row, col) if index < self.count else None


def square_columns(count: int, tile_h: int = 1, tile_w: int = 1) -> int:
    """Columns that make the grid about as wide as it is tall."""
    if count <= 0:
        return 1
    return max(1, min(count, round(math.sqrt(count * tile_h / max(tile_w, 1)))))


def tile(tiles: np.ndarray, layout: TileLayout, fill: float | int | None = None) -> np.ndarray:
    """Lay out `tiles` (n, h, w) or (n, h, w, k) into one image, each value `layout.cell` pixels wide.

    Floats keep their dtype (float32) and gaps are NaN; other dtypes (e.g. RGBA uint8, coloured
    before tiling, which is much cheaper than colouring the enlarged image) are kept with gaps
    of `fill` (0: transparent)."""
    tiles = np.asarray(tiles)
    if tiles.dtype.kind == "f" or tiles.dtype.kind not in "uib":
        tiles = tiles.astype(np.float32, copy=False)
    if fill is None:
        fill = np.nan if tiles.dtype.kind == "f" else 0
    if layout.cell > 1:
        tiles = np.repeat(np.repeat(tiles, layout.cell, axis=1), layout.cell, axis=2)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    if n == 0:
        return np.full((layout.height, layout.width, *extra), fill, dtype=tiles.dtype)
    rows, cols, gap = layout.rows, layout.columns, layout.gap
    padded = np.full((rows * cols, h + gap, w + gap, *extra), fill, dtype=tiles.dtype)
    padded[:n, :h, :w] = tiles
    grid = padded.reshape(rows, cols, h + gap, w + gap, *extra).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + gap), cols * (w + gap), *extra)
    return np.ascontiguousarray(grid[: layout.height, : layout.width])


def matrix_layout(rows: int, columns: int, tile_h: int, tile_w: int, gap: int = 1, cell: int = 1) -> TileLayout:
    """A rows x columns grid filled row by row (e.g. filters x input channels)."""
    return TileLayout(rows * columns, tile_h, tile_w, max(columns, 1), gap, cell)


def cell_size(count: int, tile_h: int, tile_w: int, most_pixels: int = 3_000_000, largest: int = 8) -> int:
    """Pixels per value so the whole grid stays under `most_pixels` (and values are at most `largest` px)."""
    values = max(count * tile_h * tile_w, 1)
    return int(max(1, min(largest, math.floor(math.sqrt(most_pixels / values)))))
