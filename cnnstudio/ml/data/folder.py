"""`folder:PATH`: the user's own pictures, one subfolder per class, streamed from disk.

- Classes: the sorted subfolder names (hidden ones skipped); images in deeper
  subfolders count for their class. Files: `cnnstudio.core.images.IMAGE_EXTENSIONS`
  (any case), decoded by `cnnstudio.core.images` (upright, transparency on white).
- Checked up front: every image file is opened and verified with Pillow; unreadable
  ones are skipped and listed in `dataset.warnings` (and logged). Other files are
  ignored and also listed. A missing or empty folder, a single class, or a class
  without a readable image is a DatasetError.
- Splits: 20% of each class is the test split (fixed seed 0, so it does not change
  with `seed`); `validation_split` of the rest is validation (seeded by `seed`).
- Image size: `image_size`, else the first image's size, shrunk (aspect kept) so its
  longer side is at most 128 pixels; every image is stretched to it (bilinear).
- Colour: `color_mode`, else grayscale when the first images (one per class) are all
  single-channel, else rgb. Transparent parts are put on white.
- Never all in memory: files are listed, and decoded per batch (`cnnstudio.core.images`), on the
  worker threads of a `keras.utils.PyDataset` (`fit_batches`, any Keras backend) or of
  tf.data (`train()` ...). `*_arrays()` loads a whole split and refuses one that would
  need more than 1 GiB.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.datasets import CARVED_TEST_FRACTION, TEST_SPLIT_SEED, folder_class_names
from cnnstudio.core.errors import DatasetError
from cnnstudio.core.images import (
    GREY,
    IMAGE_EXTENSIONS,
    RGB,
    fitted_size,
    image_problem,
    image_size_and_colour,
    read_image,
)
from cnnstudio.core.label_edits import apply_label_edits
from cnnstudio.ml.data.base import SPLITS, Dataset
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.ml.data.splits import stratified_split
from cnnstudio.ml.data.transforms import Preprocessing

log = logging.getLogger(__name__)

MAX_DEFAULT_SIDE = 128
DECODE_WORKERS = 4  # threads decoding pictures for training (Pillow lets go of the GIL while it decodes)
MAX_ARRAY_BYTES = 1 << 30
MIN_PER_CLASS = 5  # fewer images than this in a class gets a warning
STATISTICS_SAMPLE = 512  # training images used to measure mean/std for "standardize"


def load_image(path: str | Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One picture as uint8 (height, width, channels): upright, on white, stretched to `size`."""
    pixels = read_image(path, GREY if channels == 1 else RGB, size)
    return pixels.reshape(size[0], size[1], channels)


def _listing(files: list[str], limit: int = 10) -> str:
    shown = ", ".join(files[:limit])
    return shown + (f" and {len(files) - limit} more" if len(files) > limit else "")


class FolderDataset(Dataset):
    """Images listed from a folder tree and decoded batch by batch."""

    def __init__(self, root: Path, options: LoadOptions) -> None:
        class_names = folder_class_names(root)
        paths, labels, warnings = self._scan(root, class_names)
        paths, labels, edited = apply_label_edits(root, paths, labels, class_names, options.label_edits)
        warnings += edited
        size, channels = self._default_geometry(paths, labels, options)
        keep, test = stratified_split(labels, CARVED_TEST_FRACTION, TEST_SPLIT_SEED)
        train, val = stratified_split(labels[keep], options.validation_split, options.seed)
        train, val = keep[train], keep[val]
        self._paths = {"train": paths[train], "validation": paths[val], "test": paths[test]}
        split_labels = {"train": labels[train], "validation": labels[val], "test": labels[test]}
        prep = Preprocessing.create((*size, channels), 255.0, options)
        self._decode_shape = (*prep.target_shape[:2], prep.target_shape[2])
        # Decoding already gives the target size and colour: only permute/normalize remain.
        prep = prep.for_source(self._decode_shape)
        super().__init__(f"folder:{root}", class_names, split_labels, prep, options, warnings)
        if prep.normalization == "standardize":
            pick = np.random.default_rng(0).permutation(self.num_train)[:STATISTICS_SAMPLE]
            self.preprocessing = prep.with_statistics([self._raw_images("train", np.sort(pick))])
        for message in warnings:
            log.warning(message)

    @staticmethod
    def _scan(root: Path, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """All readable image files with their labels, and warnings about the rest."""
        candidates: list[tuple[Path, int]] = []
        ignored: list[str] = []
        for label, cls in enumerate(class_names):
            for path in sorted((root / cls).rglob("*")):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                    continue
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    candidates.append((path, label))
                else:
                    ignored.append(rel.as_posix())
        with ThreadPoolExecutor(max_workers=8) as pool:
            problems = list(pool.map(image_problem, [p for p, _ in candidates]))
        good = [(str(p), label) for (p, label), problem in zip(candidates, problems, strict=True) if problem is None]
        bad = [f"{p.relative_to(root).as_posix()} ({problem})"
               for (p, _), problem in zip(candidates, problems, strict=True) if problem is not None]
        warnings = []
        if bad:
            warnings.append(f"skipped {len(bad)} unreadable image file(s) in '{root}': {_listing(bad)}")
        if ignored:
            warnings.append(f"ignored {len(ignored)} file(s) in '{root}' that are not PNG, JPEG, BMP or GIF "
                            f"images: {_listing(ignored)}")
        counts = np.bincount([label for _, label in good], minlength=len(class_names))
        empty = [cls for cls, count in zip(class_names, counts, strict=True) if count == 0]
        if empty:
            raise DatasetError(f"class folder(s) {', '.join(repr(c) for c in empty)} in '{root}' have no readable "
                               "PNG, JPEG, BMP or GIF images; add pictures or remove the folder")
        few = [f"'{cls}' ({count})" for cls, count in zip(class_names, counts, strict=True) if count < MIN_PER_CLASS]
        if few:
            warnings.append(f"some classes in '{root}' have very few images: {', '.join(few)}; with fewer than "
                            f"{MIN_PER_CLASS} per class the validation and test results mean little")
        paths = np.array([p for p, _ in good], dtype=object)
        labels = np.array([label for _, label in good], dtype=np.int64)
        return paths, labels, warnings

    @staticmethod
    def _default_geometry(paths: np.ndarray, labels: np.ndarray,
                          options: LoadOptions) -> tuple[tuple[int, int], int]:
        """Decode size and channels: the user's choice, else guessed from the first images."""
        firsts = [paths[np.flatnonzero(labels == label)[0]] for label in np.unique(labels)]
        own_size, _colour = image_size_and_colour(firsts[0])
        size = options.image_size if options.image_size is not None else fitted_size(own_size, MAX_DEFAULT_SIDE)
        if options.color_mode is not None:
            return size, 1 if options.color_mode == "grayscale" else 3
        colours = [image_size_and_colour(path)[1] for path in firsts]
        return size, 1 if all(colour == GREY for colour in colours) else 3

    def _load(self, path: str) -> np.ndarray:
        """Decode one file; a file that broke since the check becomes a black image."""
        return load_or_blank(path, self._decode_shape, self.warnings)

    def fit_batches(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                    first_epoch: int = 0, one_hot: int | None = None, max_batches: int | None = None) -> Any:
        """Batches decoded from the files as they are needed, on worker threads."""
        return file_batches(self, self._paths[split], self._labels[split], batch_size, seed=seed, shuffle=shuffle,
                            first_epoch=first_epoch, one_hot=one_hot, max_batches=max_batches)

    def fit_inputs(self, split: str) -> Any:
        return self.fit_batches(split, 256)

    def _raw_batches(self, split: str, batch_size: int, shuffle: bool, seed: int):
        return picture_batches(self._load, self._paths[split], self._labels[split], self._decode_shape,
                               batch_size, shuffle, seed)

    def _raw_images(self, split: str, indices: np.ndarray) -> np.ndarray:
        return decoded_pictures(self._load, self._paths[split][indices], self._decode_shape, self.name, split)

    def files(self, split: str = "train") -> list[str]:
        """The image files of a split, in the order of its unshuffled batches and labels."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; use 'train', 'validation' or 'test'")
        return [str(p) for p in self._paths[split]]


def picture_batches(load: Callable[[str], np.ndarray], paths, targets, decode_shape: tuple, batch_size: int,
                    shuffle: bool, seed: int):
    """tf.data batches of (pictures decoded by `load`, their targets), shuffled by `seed` if asked."""
    import tensorflow as tf

    paths = [str(p) for p in paths]
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(paths, tf.string), tf.constant(np.asarray(targets))))
    if shuffle and paths:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    def decode(path, target):
        image = tf.numpy_function(lambda p: load(p.decode()), [path], tf.uint8, stateful=False)
        return tf.ensure_shape(image, decode_shape), target

    return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)


def decoded_pictures(load: Callable[[str], np.ndarray], paths, decode_shape: tuple, name: str,
                     split: str) -> np.ndarray:
    """The pictures of these files as one uint8 array, decoded on 8 threads (refused when too big to hold)."""
    needed = len(paths) * int(np.prod(decode_shape)) * 4
    if needed > MAX_ARRAY_BYTES:
        raise DatasetError(f"the {split} split of '{name}' has {len(paths)} images, too many to hold "
                           f"in memory at once; use the streamed {split}() batches instead")
    out = np.empty((len(paths), *decode_shape), np.uint8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i, image in enumerate(pool.map(load, [str(p) for p in paths])):
            out[i] = image
    return out


def load_or_blank(path: str, decode_shape: tuple, warnings: list[str]) -> np.ndarray:
    """One picture file decoded to ``decode_shape``; a file that broke since the dataset was checked
    becomes a black picture, said once in ``warnings`` (training goes on)."""
    try:
        return load_image(path, decode_shape[:2], decode_shape[2])
    except Exception as exc:  # a file changed or vanished while training
        message = f"could not read '{path}' ({exc}); used a blank image instead"
        if message not in warnings:
            warnings.append(message)
            log.warning(message)
        return np.zeros(decode_shape, np.uint8)


def file_batches(dataset, paths, targets, batch_size: int, **options: Any) -> Any:
    """A `keras.utils.PyDataset` of (pictures decoded as needed on worker threads and preprocessed,
    targets) for a dataset of files (its ``_load`` and ``preprocessing``); ``options`` as EpochBatches'."""
    from cnnstudio.ml.training.callbacks import EpochBatches

    class FileBatches(EpochBatches):
        def images(self, indices: np.ndarray) -> np.ndarray:
            raw = np.stack([dataset._load(str(p)) for p in paths[indices]])
            return dataset.preprocessing.apply(raw)

    return FileBatches(None, targets, batch_size, workers=DECODE_WORKERS, **options)
