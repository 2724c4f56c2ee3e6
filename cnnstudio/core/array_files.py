"""NumPy array files (.npy, .npz) as CNN Studio writes and reads them: written whole (`core.files`),
read without pickle, so a file from elsewhere cannot run code.

The inspection views save filters and feature maps with these, and `cnnstudio.ml.inspection`
reads them back (`load_filters`, `load_activations`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UserError
from .files import atomic_write_bytes, write_error


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """One array as a .npy file; the path written."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return _write(Path(path), buffer.getvalue())


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Several named arrays as one compressed .npz file (e.g. every layer's feature maps)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: np.asarray(value) for name, value in arrays.items()})
    return _write(Path(path), buffer.getvalue())


def filter_set_arrays(layer: str, mode: str, kernels: np.ndarray, biases: np.ndarray | None,
                      vmax_shared: float) -> dict[str, np.ndarray]:
    """A layer's filters as the arrays of a filter-set .npz (what `load_filters` reads)."""
    arrays = {"kernels": np.asarray(kernels, np.float32), "vmax_shared": np.float64(vmax_shared),
              "layer": np.str_(layer), "mode": np.str_(mode)}
    if biases is not None:
        arrays["biases"] = np.asarray(biases, np.float32)
    return arrays


def load_npy(path: str | os.PathLike) -> np.ndarray:
    return _load(path, lambda f: np.load(f, allow_pickle=False))


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    return _load(path, lambda f: dict(np.load(f, allow_pickle=False)))


def _write(path: Path, data: bytes) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot save to {path}: the folder {folder} does not exist")
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise write_error(exc, path) from None
    return path


def _load(path: str | os.PathLike, read: Callable[[Any], Any]) -> Any:
    try:
        with open(path, "rb") as f:
            return read(f)
    except FileNotFoundError:
        raise UserError(f"there is no file {path}") from None
    except (ValueError, OSError, KeyError) as exc:
        raise UserError(f"{path} is not an array file CNN Studio can read ({exc})") from None
