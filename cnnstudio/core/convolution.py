"""The arithmetic behind the convolution playground, computed as Keras computes it.

``convolve2d`` is the cross-correlation of a Keras ``Conv1D``/``Conv2D`` with one
filter (no kernel flip, no bias, no activation); zeros for ``padding="same"`` are
placed as TensorFlow places them (the odd extra zero goes after). Pure NumPy, so
the playground and the lessons work without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnstudio.core.playground import KERNEL_PRESETS, XO_GRIDS

__all__ = [
    "KERNEL_PRESETS",
    "XO_GRIDS",
    "Padding",
    "convolve2d",
    "max_pool2d",
    "multiply_and_sum_text",
    "output_shape",
    "pad_image",
    "padding_amounts",
    "relu",
    "window_at",
]

Padding = Literal["valid", "same"]


# --- checking what the caller gave us -------------------------------------------


def _numbers(value: object, name: str) -> np.ndarray:
    """``value`` as a float64 array of rank 1 or 2, or a ValueError naming what is wrong."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must hold real numbers, got values of type {array.dtype}"
        )
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (a signal) or 2-D (rows x columns), "
            f"got {array.ndim}-D with shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    return array.astype(np.float64, copy=False)


def _same_rank(
    image: np.ndarray, kernel_shape: tuple[int, ...], kernel_name: str
) -> None:
    if len(kernel_shape) != image.ndim:
        raise ValueError(
            f"image is {image.ndim}-D (shape {image.shape}) but {kernel_name} is "
            f"{len(kernel_shape)}-D (shape {kernel_shape}); both must be 1-D or both 2-D"
        )


def _whole_numbers(value: object, name: str, rank: int) -> tuple[int, ...]:
    """One whole number >= 1 per axis, from an int or a sequence of ``rank`` ints."""
    values = (
        tuple(value) if isinstance(value, Sequence | np.ndarray) else (value,) * rank
    )
    valid = len(values) == rank and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1
        for v in values
    )
    if not valid:
        raise ValueError(
            f"{name} must be a whole number >= 1 (one per axis), got {value!r}"
        )
    return tuple(int(v) for v in values)


def _padding_name(padding: object) -> Padding:
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return name  # type: ignore[return-value]


# --- where the windows sit --------------------------------------------------------


def _plan(
    image_shape: tuple[int, ...],
    window_shape: tuple[int, ...],
    strides: tuple[int, ...],
    padding: Padding,
    window_name: str,
) -> list[tuple[int, int]]:
    """Zeros (before, after) on each axis, as TensorFlow pads for these windows."""
    if padding == "valid":
        if any(k > n for k, n in zip(window_shape, image_shape)):
            raise ValueError(
                f"{window_name} of shape {window_shape} does not fit inside the image of "
                f"shape {image_shape} with padding 'valid'; use padding 'same' or a "
                f"{window_name} no larger than the image"
            )
        return [(0, 0)] * len(image_shape)
    amounts = []
    for n, k, s in zip(image_shape, window_shape, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        amounts.append((total // 2, total - total // 2))
    return amounts


def padding_amounts(
    image_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int = 1,
    padding: Padding = "valid",
) -> list[tuple[int, int]]:
    """Zeros added (before, after) on each axis: what the playground draws around the image."""
    padding = _padding_name(padding)
    image_shape, kernel_shape = tuple(image_shape), tuple(kernel_shape)
    strides = _whole_numbers(stride, "stride", len(image_shape))
    _whole_numbers(kernel_shape, "kernel shape", len(image_shape))
    return _plan(image_shape, kernel_shape, strides, padding, "kernel")


def output_shape(
    image_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int = 1,
    padding: Padding = "valid",
) -> tuple[int, ...]:
    """Shape of ``convolve2d``'s result, without computing it."""
    amounts = padding_amounts(image_shape, kernel_shape, stride=stride, padding=padding)
    strides = _whole_numbers(stride, "stride", len(amounts))
    return tuple(
        (n + before + after - k) // s + 1
        for n, k, s, (before, after) in zip(image_shape, kernel_shape, strides, amounts)
    )


def pad_image(
    image: object,
    kernel_shape: Sequence[int],
    *,
    stride: int = 1,
    padding: Padding = "valid",
) -> np.ndarray:
    """The image with the zeros Keras adds around it for this kernel, stride and padding."""
    array = _numbers(image, "image")
    kernel_shape = tuple(kernel_shape)
    _same_rank(array, kernel_shape, "kernel")
    amounts = padding_amounts(array.shape, kernel_shape, stride=stride, padding=padding)
    return np.pad(array, amounts)


def _windows(
    padded: np.ndarray, window_shape: tuple[int, ...], strides: tuple[int, ...]
):
    """Every window the kernel visits, as a read-only view (output axes, then window axes)."""
    every_step = tuple(slice(None, None, s) for s in strides)
    return sliding_window_view(padded, window_shape)[every_step]


# --- the operations ---------------------------------------------------------------


def convolve2d(
    image: object, kernel: object, *, stride: int = 1, padding: Padding = "valid"
) -> np.ndarray:
    """Slide ``kernel`` over ``image`` and sum the products at each step, as Keras does.

    Works on a 2-D image with a 2-D kernel, or a 1-D signal with a 1-D kernel; the
    result is float64.
    """
    image_array, kernel_array = _numbers(image, "image"), _numbers(kernel, "kernel")
    _same_rank(image_array, kernel_array.shape, "kernel")
    padding = _padding_name(padding)
    strides = _whole_numbers(stride, "stride", image_array.ndim)
    amounts = _plan(image_array.shape, kernel_array.shape, strides, padding, "kernel")
    windows = _windows(np.pad(image_array, amounts), kernel_array.shape, strides)
    return np.tensordot(windows, kernel_array, axes=kernel_array.ndim)


def window_at(
    image: object,
    kernel_shape: Sequence[int],
    out_index: int | Sequence[int],
    *,
    stride: int = 1,
    padding: Padding = "valid",
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The patch of (zero-padded) input that one output position sees, and its corner.

    The corner is ``(row0, col0)`` in padded coordinates (``(start,)`` for a 1-D
    signal); subtract ``padding_amounts`` to get original image coordinates.
    """
    padded = pad_image(image, kernel_shape, stride=stride, padding=padding)
    rank = padded.ndim
    shape = output_shape(np.shape(image), kernel_shape, stride=stride, padding=padding)
    index = (out_index,) if np.ndim(out_index) == 0 else tuple(out_index)
    if len(index) != rank or not all(
        isinstance(i, int | np.integer) and 0 <= i < n for i, n in zip(index, shape)
    ):
        raise ValueError(
            f"output position {out_index!r} is outside the output of shape {shape}"
        )
    strides = _whole_numbers(stride, "stride", rank)
    corner = tuple(int(i) * s for i, s in zip(index, strides))
    patch = padded[tuple(slice(c, c + k) for c, k in zip(corner, kernel_shape))]
    return patch, corner


def _compact(value: float, digits: int) -> str:
    return f"{float(value) + 0.0:.{digits}g}"  # "+ 0.0" turns -0.0 into 0.0


def multiply_and_sum_text(patch: object, kernel: object, *, digits: int = 4) -> str:
    """The sum one output value is, written out: ``"0*1 + 1*-1 + ... = 2"``."""
    patch_array, kernel_array = _numbers(patch, "patch"), _numbers(kernel, "kernel")
    if patch_array.shape != kernel_array.shape:
        raise ValueError(
            f"patch of shape {patch_array.shape} and kernel of shape "
            f"{kernel_array.shape} must have the same shape"
        )
    terms = " + ".join(
        f"{_compact(p, digits)}*{_compact(k, digits)}"
        for p, k in zip(patch_array.ravel(), kernel_array.ravel())
    )
    total = np.tensordot(patch_array, kernel_array, axes=kernel_array.ndim)
    return f"{terms} = {_compact(total, digits)}"


def relu(x: object) -> np.ndarray:
    """Negative values become zero; the rest pass unchanged (Keras's ``relu``)."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def max_pool2d(
    x: object,
    size: int | Sequence[int] = 2,
    stride: int | Sequence[int] | None = None,
    padding: Padding = "valid",
) -> np.ndarray:
    """The largest value in each window, as Keras ``MaxPooling2D`` (1-D: ``MaxPooling1D``).

    ``stride`` defaults to ``size``; with ``"same"`` the padded cells never win.
    """
    array = _numbers(x, "input")
    padding = _padding_name(padding)
    window = _whole_numbers(size, "pool size", array.ndim)
    strides = window if stride is None else _whole_numbers(stride, "stride", array.ndim)
    amounts = _plan(array.shape, window, strides, padding, "pool window")
    padded = np.pad(array, amounts, constant_values=-np.inf)
    windows = _windows(padded, window, strides)
    return windows.max(axis=tuple(range(-array.ndim, 0)))
