"""Datasets held in memory as NumPy arrays (bundled, downloaded, generated, npz).

The raw images stay in their stored type (uint8 mostly, a quarter of float32's memory);
each batch is transformed on the fly. The shuffle runs over indices, so no copy of the
images is made per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnstudio.core.datasets import CARVED_TEST_FRACTION, TEST_SPLIT_SEED
from cnnstudio.core.errors import DatasetError
from cnnstudio.core.tasks import CLASSIFICATION, SEGMENTATION
from cnnstudio.ml.data.base import SPLITS, Dataset
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.ml.data.splits import stratified_split
from cnnstudio.ml.data.transforms import Preprocessing, value_max_of


class ArrayDataset(Dataset):
    """A dataset whose three splits are in-memory arrays of raw images."""

    def __init__(self, name: str, class_names: tuple[str, ...], images: dict[str, np.ndarray],
                 labels: dict[str, np.ndarray], preprocessing: Preprocessing, options: LoadOptions,
                 warnings: list[str] | None = None, task: str = CLASSIFICATION) -> None:
        super().__init__(name, class_names, labels, preprocessing, options, warnings, task)
        self._images = images
        self._tensors: dict[str, tuple[Any, Any]] = {}

    @classmethod
    def from_arrays(
        cls,
        name: str,
        class_names: tuple[str, ...],
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray | None,
        y_test: np.ndarray | None,
        options: LoadOptions,
        warnings: list[str] | None = None,
        task: str = CLASSIFICATION,
    ) -> ArrayDataset:
        """Split, check and wrap arrays: images (N, H, W) or (N, H, W, C) and their targets (integer
        labels; for other tasks 0/1 labels, masks or values, see `core/targets.py`).

        Without a test split, `CARVED_TEST_FRACTION` of each class is held out with the
        fixed `TEST_SPLIT_SEED` (the test images never depend on `seed`). Validation is
        then carved from the training part by `validation_split`, seeded by `seed`. Only
        class labels are stratified; other targets are split at random (seeded the same way).
        """
        x_train, y_train = _as_images(x_train), _as_targets(y_train, task)
        if x_test is None:
            keep, take = stratified_split(strata(y_train, task), CARVED_TEST_FRACTION, TEST_SPLIT_SEED)
            x_test, y_test = x_train[take], y_train[take]
            x_train, y_train = x_train[keep], y_train[keep]
        else:
            x_test, y_test = _as_images(x_test), _as_targets(y_test, task)
        keep, take = stratified_split(strata(y_train, task), options.validation_split, options.seed)
        images = {"train": x_train[keep], "validation": x_train[take], "test": x_test}
        labels = {"train": y_train[keep], "validation": y_train[take], "test": y_test}
        for split in SPLITS:
            top = len(class_names) - 1
            if task in (CLASSIFICATION, SEGMENTATION) and labels[split].size and (
                    labels[split].min() < 0 or labels[split].max() > top):
                raise DatasetError(f"'{name}' has labels outside 0..{top} in its {split} split")
            if task == SEGMENTATION and labels[split].shape[1:3] != images[split].shape[1:3]:
                raise DatasetError(f"'{name}' has masks of {'x'.join(map(str, labels[split].shape[1:3]))} in its "
                                   f"{split} split but images of {'x'.join(map(str, images[split].shape[1:3]))}; "
                                   "each mask must be the size of its image")
        if images["train"].dtype != images["test"].dtype:
            images["test"] = images["test"].astype(images["train"].dtype)
        value_max = max(value_max_of(images["train"]), value_max_of(images["test"]))
        prep = Preprocessing.create(images["train"].shape[1:], value_max, options)
        prep = prep.with_statistics([images["train"]])
        return cls(name, class_names, images, labels, prep, options, warnings, task)

    def _raw_images(self, split: str, indices: np.ndarray) -> np.ndarray:
        return self._images[split][indices]

    def _split_tensors(self, split: str) -> tuple[Any, Any]:
        """The split as tensors in host memory, made once (the in-memory cache)."""
        import tensorflow as tf

        if split not in self._tensors:
            with tf.device("/CPU:0"):
                self._tensors[split] = (tf.constant(self._images[split]), tf.constant(self.labels(split)))
        return self._tensors[split]

    def _raw_batches(self, split: str, batch_size: int, shuffle: bool, seed: int):
        import tensorflow as tf

        x, y = self._split_tensors(split)
        n = len(self._labels[split])
        ds = tf.data.Dataset.range(n)
        if shuffle and n:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)))


def strata(targets: np.ndarray, task: str) -> np.ndarray:
    """What a split is stratified by: the class labels, or one group (a seeded random split) for other targets."""
    return targets if task == CLASSIFICATION else np.zeros(len(targets), np.int64)


def _as_targets(y: np.ndarray, task: str) -> np.ndarray:
    if task == CLASSIFICATION:
        return np.asarray(y).reshape(-1).astype(np.int64)
    if task == SEGMENTATION:
        y = np.asarray(y)
        return y[..., 0] if y.ndim == 4 else y
    y = np.asarray(y, np.float32)
    return y.reshape(len(y), -1)


def _as_images(x: np.ndarray) -> np.ndarray:
    """(N, H, W) -> (N, H, W, 1); uint8 kept, anything else as float32."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    if x.dtype != np.uint8:
        x = x.astype(np.float32)
    return x
