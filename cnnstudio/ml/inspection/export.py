"""Saving what the inspection views show as NumPy files, and reading them back (PNG export is the
window's job). The files are `cnnstudio.core.array_files`: written whole, read without pickle."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cnnstudio.core.array_files import filter_set_arrays, load_npy, load_npz, save_npy, save_npz

from .filters import FilterSet

__all__ = ["load_activations", "load_filters", "load_npy", "save_activations", "save_filters", "save_npy"]


def save_activations(path: str | os.PathLike, activations: Mapping[str, np.ndarray]) -> Path:
    """Write every layer's feature maps into one .npz file, one entry per layer name."""
    return save_npz(path, activations)


def load_activations(path: str | os.PathLike) -> dict[str, np.ndarray]:
    return load_npz(path)


def save_filters(path: str | os.PathLike, filters: FilterSet) -> Path:
    """Write a FilterSet (kernels, biases, shared scale, layer and mode) as one .npz file."""
    return save_npz(path, filter_set_arrays(filters.layer, filters.mode, filters.kernels, filters.biases,
                                            filters.vmax_shared))


def load_filters(path: str | os.PathLike) -> FilterSet:
    data = load_npz(path)
    return FilterSet(str(data["layer"]), str(data["mode"]), data["kernels"], data.get("biases"),
                     float(data["vmax_shared"]))
