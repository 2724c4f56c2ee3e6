"""`Dataset`: the one interface the trainer, the CLI and the GUI use for every dataset.

Three splits, each of images with their targets: integer class labels (classification), 0/1
labels per image (multi-label), masks of class numbers (segmentation) or values (regression),
as `task` says:

- "train": what the network learns from (shuffled every epoch);
- "validation": carved from the training images (`validation_split`, stratified,
  seeded by `seed`); watched during training, never learned from;
- "test": the held-out split. Only an explicit final evaluation (`cnnstudio train`
  after training, the GUI's "Evaluate on test set") may use it; never for choosing
  epochs, learning rates or anything else, or it stops being a fair estimate.

Images always come out float32 NHWC, transformed as `transforms.Preprocessing` says; masks
come out resized (nearest pixel) and pixel-shuffled like their images.
Training feeds Keras without TensorFlow (`fit_batches`, `fit_inputs`: NumPy arrays or a
`keras.utils.PyDataset`), so every Keras backend can train; `train()`, `validation()` and
`test()` give tf.data pipelines for TensorFlow code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from cnnstudio.core.errors import DatasetError
from cnnstudio.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION, SEGMENTATION
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.ml.data.transforms import Preprocessing

SPLITS = ("train", "validation", "test")
AUTOTUNE = -1  # tf.data.AUTOTUNE, without importing TensorFlow


class Dataset(ABC):
    """A loaded dataset: its classes, its image shape, and its three splits.

    `input_shape` is (H, W, C) after the requested transforms, `class_names[i]` is the
    name of label i (of mask value i in segmentation; none in regression), `warnings` lists
    plain sentences about skipped files and the like. `task` is what the targets imply.
    """

    def __init__(
        self,
        name: str,
        class_names: tuple[str, ...],
        labels: dict[str, np.ndarray],
        preprocessing: Preprocessing,
        options: LoadOptions,
        warnings: list[str] | None = None,
        task: str = CLASSIFICATION,
    ) -> None:
        self.name = name
        self.task = task
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.options = options
        self.preprocessing = preprocessing
        self.warnings: list[str] = list(warnings or [])
        self._labels = {split: _stored_targets(labels[split], task) for split in SPLITS}

    # -- facts ----------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.preprocessing.target_shape)

    @property
    def num_train(self) -> int:
        return len(self._labels["train"])

    @property
    def num_validation(self) -> int:
        return len(self._labels["validation"])

    @property
    def num_test(self) -> int:
        return len(self._labels["test"])

    @property
    def pixel_permutation(self) -> np.ndarray | None:
        """The fixed pixel order of the "shuffled pixels" experiment, or None."""
        return self.preprocessing.permutation

    @property
    def target_shape(self) -> tuple[int, ...]:
        """One example's target: () a class, (K,) labels, (H, W) a mask, (D,) values."""
        if self.task == SEGMENTATION:
            return tuple(self.preprocessing.target_shape[:2])
        return tuple(self._labels["train"].shape[1:])

    def class_counts(self, split: str = "train") -> np.ndarray:
        """How many images of each class the split holds (index = label); pixels of each class for
        masks, images with each label for multi-label data, nothing for values."""
        stored = self._labels[_checked_split(split)]
        if self.task == REGRESSION:
            return np.zeros(0, np.int64)
        if self.task == MULTILABEL:
            return stored.sum(axis=0).astype(np.int64)
        return np.bincount(stored.reshape(-1), minlength=self.num_classes)

    def first_mask_beyond(self, classes: int) -> str | None:
        """Where the first mask holding a class number of `classes` or more is, in words; None when
        every mask fits (or the targets are no masks)."""
        if self.task != SEGMENTATION:
            return None
        for split in SPLITS:
            stored = self._labels[split]
            if stored.size and stored.max() >= classes:
                return f"a mask of the {split} split of '{self.name}'"
        return None

    def labels(self, split: str = "train") -> np.ndarray:
        """The split's targets (integer labels, 0/1 labels, masks or values), in the order its
        unshuffled batches come."""
        return self._targets_at(_checked_split(split), slice(None))

    def _targets_at(self, split: str, indices) -> np.ndarray:
        """The targets at these positions of a split, as the network learns them (masks resized)."""
        stored = self._labels[split][indices]
        if self.task == SEGMENTATION:
            stored = self.preprocessing.apply_masks(stored)
        return stored.copy() if np.shares_memory(stored, self._labels[split]) else stored

    # -- Keras, on any backend --------------------------------------------------------------
    def fit_batches(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                    first_epoch: int = 0, one_hot: int | None = None, max_batches: int | None = None) -> Any:
        """A `keras.utils.PyDataset` of (images, labels) batches of a split, for `model.fit`/`predict`.

        With `shuffle`, the order of epoch k depends only on `seed` and k (see
        `training.callbacks.EpochBatches`), so a resumed run sees what an unbroken one would.
        """
        from cnnstudio.ml.training.callbacks import EpochBatches

        images, labels = self.arrays(split)
        return EpochBatches(images, labels, batch_size, seed=seed, shuffle=shuffle, first_epoch=first_epoch,
                            one_hot=one_hot, max_batches=max_batches)

    def fit_inputs(self, split: str) -> Any:
        """The images of a split as Keras's `predict` takes them: an array (in memory) or batches."""
        return self.arrays(split)[0]

    # -- tf.data --------------------------------------------------------------------------
    def train(self, batch_size: int, *, shuffle: bool = True, one_hot: bool = False,
              seed: int | None = None):
        """Training batches (images, labels), reshuffled every epoch.

        The shuffle order follows `seed` (default: the dataset's seed), so a run can be
        repeated exactly. `one_hot=True` gives one-hot float labels (categorical
        cross-entropy) instead of integer labels (sparse categorical cross-entropy).
        """
        return self._pipeline("train", batch_size, shuffle, one_hot,
                              self.options.seed if seed is None else seed)

    def validation(self, batch_size: int, *, one_hot: bool = False):
        """Validation batches in a fixed order; empty when `validation_split` was 0."""
        return self._pipeline("validation", batch_size, False, one_hot, 0)

    def test(self, batch_size: int, *, one_hot: bool = False):
        """The held-out test batches in a fixed order: for the final evaluation only."""
        return self._pipeline("test", batch_size, False, one_hot, 0)

    def _pipeline(self, split: str, batch_size: int, shuffle: bool, one_hot: bool, seed: int):
        import tensorflow as tf

        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DatasetError(f"batch size {batch_size!r} is not valid; use a whole number of 1 or more, e.g. 32")
        raw = self._raw_batches(split, batch_size, shuffle, seed)
        prep = self.preprocessing
        depth = self.num_classes

        def to_inputs(x, y):
            return prep.batch(x), (tf.one_hot(y, depth) if one_hot else y)

        return raw.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    @abstractmethod
    def _raw_batches(self, split: str, batch_size: int, shuffle: bool, seed: int):
        """Batches (raw images, int32 labels) of one split, shuffled if asked."""

    # -- NumPy ----------------------------------------------------------------------------
    @abstractmethod
    def _raw_images(self, split: str, indices: np.ndarray) -> np.ndarray:
        """The raw images at the given positions of a split, as one NumPy array."""

    def samples(self, n: int = 16, split: str = "train", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """`n` random images of a split (fewer if it is smaller), transformed, with labels.

        For previews: same arguments, same images.
        """
        labels = self._labels[_checked_split(split)]
        count = min(max(int(n), 0), len(labels))
        idx = np.random.default_rng(seed).choice(len(labels), size=count, replace=False)
        return self.preprocessing.apply(self._raw_images(split, idx)), self._targets_at(split, idx)

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The whole split as NumPy (images float32 NHWC, their targets), unshuffled."""
        labels = self._labels[_checked_split(split)]
        return self.preprocessing.apply(self._raw_images(split, np.arange(len(labels)))), self.labels(split)

    def images(self, split: str, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The images at `indices` of a split (transformed) and their labels: for browsing one at a time."""
        labels = self._labels[_checked_split(split)]
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(labels)):
            raise DatasetError(f"the {split} split has {len(labels)} images; positions {idx.tolist()} are not all in it")
        return self.preprocessing.apply(self._raw_images(split, idx)), self._targets_at(split, idx)

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.arrays("train")

    def validation_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.arrays("validation")

    def test_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.arrays("test")

    def prepare(self, images: np.ndarray) -> np.ndarray:
        """Turn the user's own images into network inputs, exactly as training data were.

        `images`: (N, H, W) or (N, H, W, C), uint8 0-255 or float 0-1, any size.
        """
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise DatasetError(f"images of shape {list(x.shape)} cannot be used; give (N, H, W) or (N, H, W, C)")
        scale = self.preprocessing.value_max / (255.0 if x.dtype == np.uint8 else 1.0)
        raw = x.astype(np.float32) * np.float32(scale)
        return self.preprocessing.for_source(tuple(raw.shape[1:])).apply(raw)

    def __repr__(self) -> str:
        return (f"<Dataset {self.name!r}: {self.task}, {self.num_classes} classes, images "
                f"{'x'.join(map(str, self.input_shape))}, train {self.num_train}, "
                f"validation {self.num_validation}, test {self.num_test}>")


def _stored_targets(targets, task: str) -> np.ndarray:
    """Targets kept as the task reads them: int32 labels, float32 labels or values (N, K), masks as given."""
    if task == SEGMENTATION:
        return np.asarray(targets)
    if task in (MULTILABEL, REGRESSION):
        values = np.asarray(targets, np.float32)
        return values.reshape(len(values), -1)
    return np.asarray(targets, np.int32)


def _checked_split(split: str) -> str:
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use 'train', 'validation' or 'test'")
    return split
