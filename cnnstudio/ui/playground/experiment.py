"""One playground experiment: an input, a kernel and the settings, and everything computed from them.

Plain NumPy (no Qt): the views only draw what `compute` returns. All arithmetic
comes from ``cnnstudio.core.convolution``, which computes exactly what Keras does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnstudio.core.convolution import (
    Padding,
    convolve2d,
    max_pool2d,
    padding_amounts,
    relu,
    window_at,
)


@dataclass(frozen=True)
class Experiment:
    """What the user chose. ``image`` and ``kernel`` are both 2-D, or both 1-D (a signal)."""

    image: np.ndarray
    kernel: np.ndarray
    stride: int = 1
    padding: Padding = "valid"
    pool_size: int = 2
    pool_stride: int = 2


@dataclass(frozen=True)
class Outcome:
    """The feature map, after ReLU and after max pooling, plus where the image was padded."""

    experiment: Experiment
    padded: np.ndarray  # the image with Keras's zeros around it
    pads: list[tuple[int, int]]  # zeros (before, after) per axis
    feature_map: np.ndarray
    after_relu: np.ndarray
    pooled: np.ndarray | None  # None when the pooling window does not fit (pooling_problem says why)
    pooling_problem: str = ""

    @property
    def positions(self) -> int:
        """How many places the kernel visits: one per feature-map cell."""
        return int(self.feature_map.size)

    def output_index(self, step: int) -> tuple[int, ...]:
        """The feature-map cell of the ``step``-th window position (row by row)."""
        return tuple(int(i) for i in np.unravel_index(step, self.feature_map.shape))

    def window(self, step: int) -> tuple[np.ndarray, tuple[int, ...]]:
        """The patch the kernel covers at ``step`` and its corner in padded coordinates."""
        e = self.experiment
        return window_at(e.image, e.kernel.shape, self.output_index(step), stride=e.stride, padding=e.padding)


def compute(experiment: Experiment) -> Outcome:
    """Everything the views show; a ValueError (in the user's words) when the settings cannot work."""
    e = experiment
    feature_map = convolve2d(e.image, e.kernel, stride=e.stride, padding=e.padding)
    pads = padding_amounts(e.image.shape, e.kernel.shape, stride=e.stride, padding=e.padding)
    after_relu = relu(feature_map)
    try:
        pooled, problem = max_pool2d(after_relu, size=e.pool_size, stride=e.pool_stride), ""
    except ValueError:
        pooled = None
        problem = (f"the {e.pool_size}-wide pooling window does not fit the "
                   f"{'x'.join(map(str, feature_map.shape))} feature map; choose a smaller pool size")
    return Outcome(e, np.pad(np.asarray(e.image, dtype=np.float64), pads), pads, feature_map, after_relu,
                   pooled, problem)


def number(value: float, digits: int = 3) -> str:
    """A value as a person writes it: 2.5, -1, 0.333 (never -0)."""
    text = f"{float(value) + 0.0:.{digits}g}"
    return text


def _factor(value: float) -> str:
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def calculation_text(patch: np.ndarray, kernel: np.ndarray) -> str:
    """The multiply-and-sum of one position, one kernel row per line: ``1×0.5 + 0×(-1) + … = 2.5``."""
    patch2d = np.atleast_2d(patch)
    kernel2d = np.atleast_2d(kernel)
    lines = [
        " + ".join(f"{_factor(p)}×{_factor(k)}" for p, k in zip(patch_row, kernel_row))
        for patch_row, kernel_row in zip(patch2d, kernel2d)
    ]
    total = float(np.sum(patch2d * kernel2d))
    return "\n+ ".join(lines) + f"\n= {number(total, 4)}"
