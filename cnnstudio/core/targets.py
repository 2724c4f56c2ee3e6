"""What a dataset's target arrays are, read from their shape and values, and checked in plain words.

- (N,) or (N, 1) whole numbers, or (N, K) one-hot rows: class labels (classification);
- (N, K) of 0 and 1 where some row has more or fewer than one 1: labels per image (multi-label);
- (N, H, W) or (N, H, W, 1) whole numbers: masks, a class per pixel (segmentation);
- any other numbers, (N,) or (N, D): values to predict (regression).

Used when a .npz file is described (`core/datasets.py`) and loaded (`ml/data/npz.py`).
"""

from __future__ import annotations

import numpy as np

from .errors import DatasetError
from .tasks import CLASSIFICATION, MULTILABEL, REGRESSION, SEGMENTATION

MAX_MASK_CLASSES = 65_536  # masks are stored as 16-bit class numbers at most


def _numeric(y: np.ndarray, key: str, where: str) -> None:
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating) or y.dtype == np.bool_):
        raise DatasetError(f"{key} in '{where}' must hold numbers (class numbers, masks or values), "
                           f"not {y.dtype} values")


def _whole(y: np.ndarray) -> bool:
    return not np.issubdtype(y.dtype, np.floating) or bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))


def targets_task(y: np.ndarray, key: str, where: str) -> str:
    """The task an array of targets implies (see the module docstring); DatasetError for other shapes."""
    y = np.asarray(y)
    if y.ndim == 4 and y.shape[-1] == 1 or y.ndim == 3:
        _numeric(y, key, where)
        return SEGMENTATION
    if y.ndim == 2 and y.shape[1] > 1:
        _numeric(y, key, where)
        if y.size and np.isin(y, (0, 1)).all():
            return CLASSIFICATION if np.all(y.sum(axis=1) == 1) else MULTILABEL
        return CLASSIFICATION if y.size == 0 else REGRESSION
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        if np.issubdtype(y.dtype, np.floating) and y.size and np.all(np.isfinite(y)) and not _whole(y):
            return REGRESSION
        return CLASSIFICATION
    raise DatasetError(f"{key} in '{where}' has shape {list(y.shape)}; targets must be (N,) class numbers, "
                       "(N, K) one-hot or 0/1 labels, (N, H, W) masks or (N, D) values")


def mask_array(y: np.ndarray, key: str, where: str) -> np.ndarray:
    """(N, H, W) masks of class numbers as uint8 (uint16 past 255); DatasetError naming the array for
    fractions, negative numbers or class numbers beyond MAX_MASK_CLASSES."""
    y = np.asarray(y)
    if y.ndim == 4:
        y = y[..., 0]
    _numeric(y, key, where)
    if not _whole(y):
        raise DatasetError(f"{key} in '{where}' holds masks with NaN, infinite or fractional values; a mask "
                           "holds the class number (0, 1, 2, ...) of every pixel")
    if y.size:
        low, high = y.min(), y.max()
        if low < 0:
            raise DatasetError(f"{key} in '{where}' has the class {low} in a mask; classes are numbers from 0")
        if high >= MAX_MASK_CLASSES:
            raise DatasetError(f"{key} in '{where}' has the class {high:.0f} in a mask; CNN Studio reads masks "
                               f"of at most {MAX_MASK_CLASSES:,} classes")
    return y.astype(np.uint8 if not y.size or y.max() < 256 else np.uint16)


def multi_hot_array(y: np.ndarray) -> np.ndarray:
    """(N, K) 0/1 labels as float32."""
    return np.asarray(y, np.float32)


def value_array(y: np.ndarray, key: str, where: str) -> np.ndarray:
    """(N, D) float32 values to predict; DatasetError naming the array for NaN or infinite values."""
    y = np.asarray(y)
    _numeric(y, key, where)
    values = y.astype(np.float32).reshape(len(y), -1)
    if not np.all(np.isfinite(values)):
        raise DatasetError(f"{key} in '{where}' holds NaN or infinite values; give a number for every image")
    return values


def first_mask_beyond(masks: np.ndarray, classes: int) -> int | None:
    """The position of the first mask holding a class number of `classes` or more, or None."""
    if masks.size == 0:
        return None
    tops = masks.reshape(len(masks), -1).max(axis=1)
    beyond = np.flatnonzero(tops >= classes)
    return int(beyond[0]) if beyond.size else None
