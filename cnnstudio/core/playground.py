"""Ready-made kernels and the X/O lesson images for the convolution playground.

Data only (NumPy arrays); the arithmetic lives in ``cnnstudio.core.convolution``,
which also re-exports these names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KERNEL_PRESETS", "XO_GRIDS"]


def _kernel(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    array = np.array(rows, dtype=np.float64) * scale
    array.setflags(write=False)  # shared module data: nobody may change it in place
    return array


KERNEL_PRESETS: dict[str, np.ndarray] = {
    # 2-D kernels (rows x columns), applied as Keras applies them: no flip.
    "identity": _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge detection (diagonal)": _kernel([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "edge detection (4-neighbour)": _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "edge detection (8-neighbour)": _kernel([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    # Named after the edges they find: "horizontal" responds to a change from top
    # to bottom, "vertical" to a change from left to right.
    "sobel horizontal": _kernel([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "sobel vertical": _kernel([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    "sharpen": _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box blur": _kernel([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "gaussian blur 3x3": _kernel([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    # The three features of the classic X-versus-O lecture (1 = stroke, -1 = background).
    "diagonal \\": _kernel([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]),
    "diagonal /": _kernel([[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]),
    "X centre": _kernel([[1, -1, 1], [-1, 1, -1], [1, -1, 1]]),
    # 1-D kernels, for signals.
    "difference [1, -1]": _kernel([1, -1]),
    "moving average [1/3, 1/3, 1/3]": _kernel([1, 1, 1], 1 / 3),
    "edge [-1, 0, 1]": _kernel([-1, 0, 1]),
}


def _grid(picture: str) -> np.ndarray:
    """Turn a picture drawn with '#' (stroke, 1) and '.' (background, -1) into an array."""
    rows = [line.split() for line in picture.strip().splitlines()]
    array = np.where(np.array(rows) == "#", 1.0, -1.0)
    array.setflags(write=False)
    return array


# The 9x9 images of Brandon Rohrer's "How do Convolutional Neural Networks work?":
# 1 is the white stroke, -1 the black background.
XO_GRIDS: dict[str, np.ndarray] = {
    "X": _grid(
        """
        . . . . . . . . .
        . # . . . . . # .
        . . # . . . # . .
        . . . # . # . . .
        . . . . # . . . .
        . . . # . # . . .
        . . # . . . # . .
        . # . . . . . # .
        . . . . . . . . .
        """
    ),
    "O": _grid(
        """
        . . . . . . . . .
        . . . # # # . . .
        . . # . . . # . .
        . # . . . . . # .
        . # . . . . . # .
        . # . . . . . # .
        . . # . . . # . .
        . . . # # # . . .
        . . . . . . . . .
        """
    ),
    # The same X moved one pixel to the right: whole-image matching fails on it,
    # while the diagonal features still find their matches.
    "X (shifted)": _grid(
        """
        . . . . . . . . .
        . . # . . . . . #
        . . . # . . . # .
        . . . . # . # . .
        . . . . . # . . .
        . . . . # . # . .
        . . . # . . . # .
        . . # . . . . . #
        . . . . . . . . .
        """
    ),
}
