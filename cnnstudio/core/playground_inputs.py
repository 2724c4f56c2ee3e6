"""Pictures and signals to convolve in the playground, made without TensorFlow or Qt.

The lecture's X/O grids (moved by a few pixels), a digit of the bundled MNIST sample,
a picture of the generated `stripes` and `x-vs-o` datasets, and a 1-D test signal
(a sine, a step and some noise). Images are float64 with values from 0 to 1, except
the X/O grids, which keep the lecture's 1 (stroke) and -1 (background).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cnnstudio.core.errors import DatasetError
from cnnstudio.core.generated_images import draw_stripes, draw_x_vs_o
from cnnstudio.core.playground import XO_GRIDS
from cnnstudio.paths import resources_dir

__all__ = [
    "MNIST_FILE",
    "demo_signal",
    "mnist_count",
    "mnist_digit",
    "shifted",
    "stripes_picture",
    "x_or_o_picture",
    "xo_grid",
]

MNIST_FILE = "mnist-sample.npz"
XO_BACKGROUND = -1.0


def shifted(image: np.ndarray, down: int = 0, right: int = 0, fill: float = 0.0) -> np.ndarray:
    """``image`` moved ``down`` rows and ``right`` columns (negative: up/left); uncovered cells get ``fill``."""
    rows, cols = image.shape
    out = np.full(image.shape, fill, dtype=np.float64)
    if abs(down) >= rows or abs(right) >= cols:
        return out
    source = image[max(-down, 0) : rows - max(down, 0), max(-right, 0) : cols - max(right, 0)]
    out[max(down, 0) : max(down, 0) + source.shape[0], max(right, 0) : max(right, 0) + source.shape[1]] = source
    return out


def xo_grid(name: str, down: int = 0, right: int = 0) -> np.ndarray:
    """One of the lecture's 9x9 grids (``XO_GRIDS``), moved by a few pixels if asked."""
    if name not in XO_GRIDS:
        raise ValueError(f"no grid named {name!r}; grids: {', '.join(XO_GRIDS)}")
    return shifted(XO_GRIDS[name], down, right, fill=XO_BACKGROUND)


@lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(resources_dir() / MNIST_FILE, allow_pickle=False) as data:
            images, labels = data["x"], data["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"the bundled MNIST sample cannot be read ({exc}); reinstall CNN Studio") from None
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def mnist_count(digit: int | None = None) -> int:
    """How many pictures of ``digit`` (or of all digits, for None) the bundled sample holds."""
    _, labels = _mnist()
    return len(labels) if digit is None else int(np.count_nonzero(labels == digit))


def mnist_digit(digit: int | None, index: int) -> tuple[np.ndarray, int]:
    """The ``index``-th picture of ``digit`` (any digit for None) in the bundled sample, and its label.

    The picture is 28x28 with values 0 (paper) to 1 (ink), as training's "scale" prepares it.
    """
    images, labels = _mnist()
    positions = np.arange(len(labels)) if digit is None else np.flatnonzero(labels == digit)
    if not 0 <= index < len(positions):
        raise ValueError(f"there are {len(positions)} such pictures; choose a number from 0 to {len(positions) - 1}")
    position = positions[index]
    return images[position].astype(np.float64) / 255.0, int(labels[position])


def _picture_of(draw, label: int, seed: int) -> np.ndarray:
    images, labels = draw(8, np.random.default_rng([seed, 0x9A7]))
    return images[int(np.flatnonzero(labels == label)[0])].astype(np.float64) / 255.0


def stripes_picture(vertical: bool, seed: int = 0) -> np.ndarray:
    """A 28x28 picture like those of the `stripes` dataset: vertical or horizontal lines."""
    return _picture_of(draw_stripes, int(vertical), seed)


def x_or_o_picture(letter: str, seed: int = 0) -> np.ndarray:
    """A 28x28 picture like those of the `x-vs-o` dataset: a drawn "X" or "O"."""
    if letter not in ("X", "O"):
        raise ValueError(f"letter must be 'X' or 'O', got {letter!r}")
    return _picture_of(draw_x_vs_o, int(letter == "X"), seed)


def demo_signal(length: int = 64, seed: int = 0, noise: float = 0.15) -> np.ndarray:
    """A test signal for 1-D convolution: a slow sine, a step up in the middle, and a little noise."""
    if length < 2:
        raise ValueError(f"a signal needs at least 2 samples, got {length}")
    t = np.arange(length, dtype=np.float64)
    sine = np.sin(2 * np.pi * t / max(length / 2, 2))
    step = np.where(t >= length // 2, 1.0, 0.0)
    rng = np.random.default_rng(seed)
    return np.round(0.6 * sine + step + noise * rng.standard_normal(length), 3)
