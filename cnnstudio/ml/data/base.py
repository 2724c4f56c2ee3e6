"""`Dataset`: the one interface the trainer, the CLI and the GUI use for every dataset.

Three splits, all with integer class labels:

- "train": what the network learns from (shuffled every epoch);
- "validation": carved from the training images (`validation_split`, stratified,
  seeded by `seed`); watched during training, never learned from;
- "test": the held-out split. Only an explicit final evaluation (`cnnstudio train`
  after training, the GUI's "Evaluate on test set") may use it; never for choosing
  epochs, learning rates or anything else, or it stops being a fair estimate.

Images always come out float32 NHWC, transformed as `transforms.Preprocessing` says.
Training feeds Keras without TensorFlow (`fit_batches`, `fit_inputs`: NumPy arrays or a
`keras.utils.PyDataset`), so every Keras backend can train; `train()`, `validation()` and
`test()` give tf.data pipelines for TensorFlow code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.ml.data.transforms import Preprocessing

SPLITS = ("train", "validation", "test")
AUTOTUNE = -1  # tf.data.AUTOTUNE, without importing TensorFlow


class Dataset(ABC):
    """A loaded dataset: its classes, its image shape, and its three splits.

    `input_shape` is (H, W, C) after the requested transforms, `class_names[i]` is the
    name of label i, `warnings` lists plain sentences about skipped files and the like.
    """

    def __init__(
        self,
        name: str,
        class_names: tuple[str, ...],
        labels: dict[str, np.ndarray],
        preprocessing: Preprocessing,
        options: LoadOptions,
        warnings: list[str] | None = None,
    ) -> None:
        self.name = name
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)
        self.options = options
        self.preprocessing = preprocessing
        self.warnings: list[str] = list(warnings or [])
        self._labels = {split: np.asarray(labels[split], np.int32) for split in SPLITS}

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

    def class_counts(self, split: str = "train") -> np.ndarray:
        """How many images of each class the split holds (index = label)."""
        return np.bincount(self._labels[_checked_split(split)], minlength=self.num_classes)

    def labels(self, split: str = "train") -> np.ndarray:
        """The split's integer labels, in the order its unshuffled batches come."""
        return self._labels[_checked_split(split)].copy()

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
        return self.preprocessing.apply(self._raw_images(split, idx)), labels[idx].copy()

    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The whole split as NumPy (images float32 NHWC, int32 labels), unshuffled."""
        labels = self._labels[_checked_split(split)]
        return self.preprocessing.apply(self._raw_images(split, np.arange(len(labels)))), labels.copy()

    def images(self, split: str, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The images at `indices` of a split (transformed) and their labels: for browsing one at a time."""
        labels = self._labels[_checked_split(split)]
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(labels)):
            raise DatasetError(f"the {split} split has {len(labels)} images; positions {idx.tolist()} are not all in it")
        return self.preprocessing.apply(self._raw_images(split, idx)), labels[idx].copy()

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
        return (f"<Dataset {self.name!r}: {self.num_classes} classes, images "
                f"{'x'.join(map(str, self.input_shape))}, train {self.num_train}, "
                f"validation {self.num_validation}, test {self.num_test}>")


def _checked_split(split: str) -> str:
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use 'train', 'validation' or 'test'")
    return split
