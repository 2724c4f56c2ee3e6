"""`folder:PATH` holding `images/` and `masks/`: the user's own pictures with a mask for each (segmentation).

- Pairs: every picture under images/ (PNG, JPEG, BMP, GIF; subfolders allowed) has the mask
  of the same relative name under masks/, with any of those extensions but JPEG (its
  compression changes class numbers). A picture without its mask is refused naming it;
  a mask without a picture is ignored (and listed in `dataset.warnings`).
- Masks: one class number per pixel, 0 = background. Palette PNGs are read as their palette
  indices, grey ones as their values; a colour mask (RGB with differing channels) is refused
  naming the file. A mask of another size than its picture is refused naming both.
- Classes: the names in classes.txt (one per line, class 0 first), else "0" .. the highest
  class number found. A mask with a class number beyond them is refused naming the file.
- Pictures are decoded per batch like `folder.py`'s (same size and colour rules); masks are
  read and checked up front, stretched (nearest pixel) to the pictures' size, and kept in
  memory (one byte per pixel). Splits: 20% of the pictures for testing (fixed seed), then
  `validation_split` of the rest (seeded by `seed`), at random.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.datasets import (
    CARVED_TEST_FRACTION,
    SEGMENTATION_FOLDERS,
    TEST_SPLIT_SEED,
    segmentation_class_names,
)
from cnnstudio.core.errors import DatasetError
from cnnstudio.core.images import (
    GREY,
    fitted_size,
    image_problem,
    image_size_and_colour,
    is_image_path,
    read_mask,
)
from cnnstudio.core.tasks import SEGMENTATION
from cnnstudio.ml.data.base import SPLITS, Dataset
from cnnstudio.ml.data.folder import (
    MAX_ARRAY_BYTES,
    MAX_DEFAULT_SIDE,
    STATISTICS_SAMPLE,
    _listing,
    decoded_pictures,
    file_batches,
    load_or_blank,
    picture_batches,
)
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.ml.data.splits import stratified_split
from cnnstudio.ml.data.transforms import Preprocessing, resize_masks

log = logging.getLogger(__name__)


class MaskFolderDataset(Dataset):
    """Pictures listed from images/, decoded per batch, with their masks from masks/ in memory."""

    def __init__(self, root: Path, options: LoadOptions) -> None:
        root = Path(root)
        images_dir, masks_dir = (root / name for name in SEGMENTATION_FOLDERS)
        pairs, warnings = _pairs(root, images_dir, masks_dir)
        size, channels = _geometry(pairs, options)
        masks, tops = _read_masks(root, pairs, size)
        declared = segmentation_class_names(root)
        top = int(tops.max(initial=0))
        if declared is not None and top >= len(declared):
            where = pairs[int(np.argmax(tops >= len(declared)))][1].relative_to(root).as_posix()
            raise DatasetError(f"mask '{where}' in '{root}' has class {top}, but classes.txt names only "
                               f"{len(declared)} classes (0 .. {len(declared) - 1}); fix the mask or add the class")
        class_names = declared or tuple(str(i) for i in range(max(top + 1, 2)))
        everyone = np.zeros(len(pairs), np.int64)  # one group: pictures are split at random
        keep, test = stratified_split(everyone, CARVED_TEST_FRACTION, TEST_SPLIT_SEED)
        train, val = stratified_split(everyone[keep], options.validation_split, options.seed)
        train, val = keep[train], keep[val]
        order = {"train": train, "validation": val, "test": test}
        self._root = root
        self._images = {split: np.array([str(pairs[i][0]) for i in idx], dtype=object) for split, idx in order.items()}
        self._mask_files = {split: [pairs[i][1] for i in idx] for split, idx in order.items()}
        self._tops = {split: tops[idx] for split, idx in order.items()}
        prep = Preprocessing.create((*size, channels), 255.0, options)
        self._decode_shape = tuple(prep.target_shape)
        prep = prep.for_source(self._decode_shape)  # pictures are decoded at the target size and colour
        labels = {split: resize_masks(masks[idx], self._decode_shape[:2]) for split, idx in order.items()}
        super().__init__(f"folder:{root}", class_names, labels, prep, options, warnings, SEGMENTATION)
        if prep.normalization == "standardize":
            pick = np.random.default_rng(0).permutation(self.num_train)[:STATISTICS_SAMPLE]
            self.preprocessing = prep.with_statistics([self._raw_images("train", np.sort(pick))])
        for message in warnings:
            log.warning(message)

    def first_mask_beyond(self, classes: int) -> str | None:
        """The first mask file holding a class number of `classes` or more, named for a message."""
        for split in SPLITS:
            beyond = np.flatnonzero(self._tops[split] >= classes)
            if beyond.size:
                path = self._mask_files[split][int(beyond[0])]
                return f"mask '{path.relative_to(self._root).as_posix()}' in '{self._root}'"
        return None

    def _load(self, path: str) -> np.ndarray:
        return load_or_blank(path, self._decode_shape, self.warnings)

    def fit_batches(self, split: str, batch_size: int, *, shuffle: bool = False, seed: int = 0,
                    first_epoch: int = 0, one_hot: int | None = None, max_batches: int | None = None) -> Any:
        """Batches of pictures decoded as they are needed (on worker threads) with their masks."""
        return file_batches(self, self._images[split], self.labels(split), batch_size, seed=seed, shuffle=shuffle,
                            first_epoch=first_epoch, max_batches=max_batches)

    def fit_inputs(self, split: str) -> Any:
        return self.fit_batches(split, 256)

    def _raw_batches(self, split: str, batch_size: int, shuffle: bool, seed: int):
        return picture_batches(self._load, self._images[split], self.labels(split), self._decode_shape,
                               batch_size, shuffle, seed)

    def _raw_images(self, split: str, indices: np.ndarray) -> np.ndarray:
        return decoded_pictures(self._load, self._images[split][indices], self._decode_shape, self.name, split)

    def files(self, split: str = "train") -> list[str]:
        """The picture files of a split, in the order of its unshuffled batches."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; use 'train', 'validation' or 'test'")
        return [str(p) for p in self._images[split]]

    def mask_files(self, split: str = "train") -> list[str]:
        """The mask files of a split, in the same order as `files`."""
        if split not in SPLITS:
            raise DatasetError(f"unknown split {split!r}; use 'train', 'validation' or 'test'")
        return [str(p) for p in self._mask_files[split]]


def _listed(folder: Path) -> dict[str, Path]:
    """Image files under `folder` (hidden ones skipped) by relative path without extension."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if is_image_path(path):
            found.setdefault(rel.with_suffix("").as_posix(), path)
    return found


def _pairs(root: Path, images_dir: Path, masks_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(picture, mask) for every readable picture; DatasetError naming a picture without its mask."""
    pictures, masks = _listed(images_dir), _listed(masks_dir)
    if not pictures:
        raise DatasetError(f"'{images_dir}' has no PNG, JPEG, BMP or GIF pictures; put the pictures there and "
                           "their masks, of the same names, in masks/")
    missing = [path.relative_to(root).as_posix() for key, path in pictures.items() if key not in masks]
    if missing:
        raise DatasetError(f"picture '{missing[0]}' in '{root}' has no mask: put masks/"
                           f"{Path(missing[0]).relative_to('images').with_suffix('.png').as_posix()} beside it "
                           f"(the same name){f'; {len(missing) - 1} more pictures have none' if len(missing) > 1 else ''}")
    keys = list(pictures)
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(image_problem, [pictures[k] for k in keys]))
    good = [(pictures[k], masks[k]) for k, problem in zip(keys, problems, strict=True) if problem is None]
    bad = [f"{pictures[k].relative_to(root).as_posix()} ({problem})"
           for k, problem in zip(keys, problems, strict=True) if problem is not None]
    warnings = []
    if bad:
        warnings.append(f"skipped {len(bad)} unreadable picture(s) in '{root}' and their masks: {_listing(bad)}")
    alone = sorted(path.relative_to(root).as_posix() for key, path in masks.items() if key not in pictures)
    if alone:
        warnings.append(f"ignored {len(alone)} mask(s) in '{root}' without a picture: {_listing(alone)}")
    if not good:
        raise DatasetError(f"'{images_dir}' has no readable pictures")
    return good, warnings


def _geometry(pairs: list[tuple[Path, Path]], options: LoadOptions) -> tuple[tuple[int, int], int]:
    """Decode size and channels: the user's choice, else the first picture's size (shrunk to at most
    MAX_DEFAULT_SIDE) and colour."""
    own_size, colour = image_size_and_colour(pairs[0][0])
    size = options.image_size if options.image_size is not None else fitted_size(own_size, MAX_DEFAULT_SIDE)
    if options.color_mode is not None:
        return size, 1 if options.color_mode == "grayscale" else 3
    return size, 1 if colour == GREY else 3


def _read_masks(root: Path, pairs: list[tuple[Path, Path]], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every mask, checked against its picture's size and stretched to `size`; and each one's top class."""
    needed = len(pairs) * size[0] * size[1]
    if needed > MAX_ARRAY_BYTES:
        raise DatasetError(f"the masks of '{root}' would need {needed / 2**30:.1f} GiB in memory; choose a smaller "
                           "image size for this dataset")

    def one(pair: tuple[Path, Path]) -> np.ndarray:
        picture, mask_path = pair
        mask = read_mask(mask_path, mask_path.relative_to(root).as_posix())
        expected, _ = image_size_and_colour(picture)
        if mask.shape != expected:
            raise DatasetError(f"mask '{mask_path.relative_to(root).as_posix()}' is {mask.shape[1]}x{mask.shape[0]} "
                               f"pixels but its picture '{picture.relative_to(root).as_posix()}' is "
                               f"{expected[1]}x{expected[0]}; each mask must be the size of its picture")
        return resize_masks(mask[None], size)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        masks = list(pool.map(one, pairs))
    dtype = np.uint16 if any(m.dtype == np.uint16 for m in masks) else np.uint8
    stacked = np.stack(masks).astype(dtype)
    return stacked, stacked.reshape(len(stacked), -1).max(axis=1)
