"""`npz:PATH`: the user's own arrays in a NumPy .npz file.

Keys: `x_train`, `y_train`, and optionally `x_test`, `y_test` (both or neither) and
`class_names` (strings). Images (N, H, W) or (N, H, W, C), uint8 or float; targets
(`core/targets.py`): labels (N,), (N, 1) or one-hot (N, K) for classification, 0/1 rows
(N, K) for multi-label, masks (N, H, W) for segmentation, float values (N,) or (N, D) for
regression. Without test arrays, 20% of the images (of each class) is held out as the test
split with a fixed seed. Nothing is unpickled (allow_pickle=False).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from cnnstudio.core.datasets import label_vector, npz_targets
from cnnstudio.core.errors import DatasetError
from cnnstudio.core.targets import mask_array, multi_hot_array, value_array
from cnnstudio.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION, SEGMENTATION
from cnnstudio.ml.data.arrays import ArrayDataset
from cnnstudio.ml.data.options import LoadOptions


def load_npz(path: Path, options: LoadOptions) -> ArrayDataset:
    """The arrays of `path` as a dataset; DatasetError for anything unusable."""
    if not path.is_file():
        raise DatasetError(f"NumPy file '{path}' does not exist; give a .npz file with x_train and y_train")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise DatasetError(f"'{path}' holds a single array; save a .npz with x_train and y_train "
                                   "(numpy.savez)")
            arrays = {key: data[key] for key in data.files}
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"cannot read '{path}' as a NumPy .npz file ({exc})") from None
    missing = [k for k in ("x_train", "y_train") if k not in arrays]
    if missing:
        raise DatasetError(f"'{path}' has no {' or '.join(missing)} (it has {sorted(arrays)}); "
                           "it needs x_train and y_train, optionally x_test and y_test")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DatasetError(f"'{path}' has only one of x_test and y_test; give both or neither")
    x_train = _images(path, arrays, "x_train")
    has_test = "x_test" in arrays
    names = tuple(str(s) for s in np.asarray(arrays["class_names"]).reshape(-1)) if "class_names" in arrays else None
    targets = [(arrays[k], k) for k in ("y_train", "y_test") if k in arrays]
    task, _, names = npz_targets(targets, str(path), _image_shape(x_train)[:2], names)
    y_train = _targets(path, arrays, "y_train", task)
    _same_length(path, x_train, y_train, "train")
    x_test = y_test = None
    if has_test:
        x_test, y_test = _images(path, arrays, "x_test"), _targets(path, arrays, "y_test", task)
        _same_length(path, x_test, y_test, "test")
        if _image_shape(x_test) != _image_shape(x_train):
            raise DatasetError(f"in '{path}' x_train has images of {list(_image_shape(x_train))} but x_test has "
                               f"{list(_image_shape(x_test))}; both must have the same image shape")
    if task == CLASSIFICATION:
        top = int(max(y_train.max(initial=0), -1 if y_test is None else y_test.max(initial=0)))
        if top >= len(names):
            raise DatasetError(f"'{path}' has label {top} but only {len(names)} class_names; "
                               "labels must be 0 .. number of classes - 1")
        if len(names) < 2:
            raise DatasetError(f"'{path}' has only one class; a classifier needs labels of at least two classes")
    return ArrayDataset.from_arrays(f"npz:{path}", names or (), x_train, y_train, x_test, y_test, options,
                                    task=task)


def _image_shape(x: np.ndarray) -> tuple[int, ...]:
    return x.shape[1:] if x.ndim == 4 else (*x.shape[1:], 1)


def _images(path: Path, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    x = arrays[key]
    if x.ndim not in (3, 4) or 0 in x.shape:
        raise DatasetError(f"{key} in '{path}' has shape {list(x.shape)}; it must be images (N, H, W) "
                           "or (N, H, W, C)")
    if x.dtype != np.uint8 and not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise DatasetError(f"{key} in '{path}' has type {x.dtype}; use uint8 or float numbers")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise DatasetError(f"{key} in '{path}' contains NaN or infinite values; replace them with numbers")
    if x.ndim == 4 and x.shape[-1] not in (1, 2, 3, 4):
        raise DatasetError(f"{key} in '{path}' has {x.shape[-1]} channels; images need 1 (grey), 3 (colour) "
                           "or 4 (colour + alpha) in the last axis")
    return x


def _targets(path: Path, arrays: dict[str, np.ndarray], key: str, task: str) -> np.ndarray:
    if task == SEGMENTATION:
        return mask_array(arrays[key], key, str(path))
    if task == MULTILABEL:
        return multi_hot_array(arrays[key])
    if task == REGRESSION:
        return value_array(arrays[key], key, str(path))
    return label_vector(arrays[key], key, str(path))


def _same_length(path: Path, x: np.ndarray, y: np.ndarray, split: str) -> None:
    if len(x) != len(y):
        raise DatasetError(f"in '{path}' x_{split} has {len(x)} images but y_{split} has {len(y)} labels; "
                           "they must be the same number")
