"""Saving what the inspection views show as NumPy files (PNG export is the window's job).

Files are written atomically (a temporary file, then a rename) and read back
without pickle, so a file from elsewhere cannot run code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.files import atomic_write_with, write_error

from .filters import FilterSet


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write one array as a .npy file; returns the path written."""
    target = Path(path)
    _atomic_write(target, lambda f: np.save(f, np.asarray(array), allow_pickle=False))
    return target


def load_npy(path: str | os.PathLike) -> np.ndarray:
    return _load(path, lambda f: np.load(f, allow_pickle=False))


def save_activations(path: str | os.PathLike, activations: Mapping[str, np.ndarray]) -> Path:
    """Write every layer's feature maps into one .npz file, one entry per layer name."""
    target = Path(path)
    arrays = {name: np.asarray(value) for name, value in activations.items()}
    _atomic_write(target, lambda f: np.savez_compressed(f, **arrays))
    return target


def load_activations(path: str | os.PathLike) -> dict[str, np.ndarray]:
    return _load(path, lambda f: dict(np.load(f, allow_pickle=False)))


def save_filters(path: str | os.PathLike, filters: FilterSet) -> Path:
    """Write a FilterSet (kernels, biases, shared scale, layer and mode) as one .npz file."""
    arrays = {
        "kernels": filters.kernels,
        "vmax_shared": np.float64(filters.vmax_shared),
        "layer": np.str_(filters.layer),
        "mode": np.str_(filters.mode),
    }
    if filters.biases is not None:
        arrays["biases"] = filters.biases
    target = Path(path)
    _atomic_write(target, lambda f: np.savez_compressed(f, **arrays))
    return target


def load_filters(path: str | os.PathLike) -> FilterSet:
    def read(f: object) -> FilterSet:
        data = np.load(f, allow_pickle=False)
        biases = data["biases"] if "biases" in data.files else None
        return FilterSet(str(data["layer"]), str(data["mode"]), data["kernels"], biases, float(data["vmax_shared"]))

    return _load(path, read)


def _atomic_write(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Through the one atomic writer (core/files.py): a temporary file beside `target`, then a rename."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot save to {target}: the folder {folder} does not exist")

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            write(handle)

    try:
        atomic_write_with(target, fill)
    except OSError as exc:
        raise write_error(exc, target) from None


def _load(path: str | os.PathLike, read: object) -> object:
    try:
        with open(path, "rb") as f:
            return read(f)
    except FileNotFoundError:
        raise UserError(f"there is no file {path}") from None
    except (ValueError, OSError, KeyError) as exc:
        raise UserError(f"{path} is not an array file CNN Studio can read ({exc})") from None
