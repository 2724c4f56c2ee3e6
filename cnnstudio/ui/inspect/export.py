"""Saving what the inspection views show: a picture of the view (PNG) and its numbers (.npy/.npz).

The arrays are written here, on the GUI thread, from what the view holds, so an export never
waits for a training run to finish. Files use the formats of `cnnstudio.ml.inspection.export`
(`load_filters` / `load_activations` read them) and are written atomically: a temporary file,
then a rename, so a failed save never leaves half a file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import atomic_write_bytes

PNG_FILTER = "PNG image (*.png)"
NPZ_FILTER = "NumPy archive (*.npz)"
NPY_FILTER = "NumPy array (*.npy)"


def ask_save_path(parent: QWidget, title: str, suggestion: str, filters: str) -> Path | None:
    """Ask where to save (tests replace this); the suffix of the chosen filter is added if missing."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggestion, filters)
    if not path:
        return None
    path = Path(path)
    if not path.suffix and "*." in chosen:
        suffix = chosen.split("*.", 1)[1].split(")", 1)[0].split()[0]
        path = path.with_suffix("." + suffix)
    return path


def save_png(widget: QWidget, path: str | Path) -> Path:
    """A picture of `widget` exactly as it is on screen."""
    path = Path(path)
    _check_folder(path)
    if not widget.grab().save(str(path), "PNG"):
        raise UserError(f"cannot save {path}: the picture could not be written there")
    return path


def save_array(path: str | Path, array: np.ndarray) -> Path:
    """One array as a .npy file."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return _write(Path(path), buffer.getvalue())


def save_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Several named arrays as one compressed .npz file (e.g. every layer's feature maps)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: np.asarray(value) for name, value in arrays.items()})
    return _write(Path(path), buffer.getvalue())


def save_filter_set(path: str | Path, layer: str, mode: str, kernels: np.ndarray, biases: np.ndarray | None,
                    vmax_shared: float) -> Path:
    """A layer's filters in the format `cnnstudio.ml.inspection.load_filters` reads."""
    arrays = {"kernels": np.asarray(kernels, np.float32), "vmax_shared": np.float64(vmax_shared),
              "layer": np.str_(layer), "mode": np.str_(mode)}
    if biases is not None:
        arrays["biases"] = np.asarray(biases, np.float32)
    return save_arrays(path, arrays)


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot save to {path}: the folder {folder} does not exist")


def _write(path: Path, data: bytes) -> Path:
    _check_folder(path)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise UserError(f"cannot save {path}: {exc.strerror or exc}") from None
    return path
