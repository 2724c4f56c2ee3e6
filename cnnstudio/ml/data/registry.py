"""`load_dataset`: one entry point for every dataset name of CONTRACTS.md section 3."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnnstudio.core.datasets import parse_dataset_name
from cnnstudio.core.label_edits import LabelEdits
from cnnstudio.ml.data.base import Dataset
from cnnstudio.ml.data.options import LoadOptions


def load_dataset(
    name: str,
    *,
    validation_split: float = 0.1,
    seed: int = 0,
    normalization: str = "scale",
    permute_pixels: int | None = None,
    image_size: int | Sequence[int] | None = None,
    color_mode: str | None = None,
    label_edits: LabelEdits | None = None,
    download: bool = True,
    progress: Callable[[float], None] | None = None,
) -> Dataset:
    """Load a dataset by name, split and transformed as asked.

    - `validation_split`: share of the training images kept apart for validation
      (stratified; which ones follows `seed`). The test split never depends on `seed`.
    - `normalization`: "scale" (values in [0, 1]), "standardize" (zero mean, unit
      deviation per channel, measured on the training split) or "none".
    - `permute_pixels`: None, or a seed for ONE fixed shuffle of pixel positions applied
      to every image of every split (the "shuffled pixels" experiment).
    - `image_size`: (height, width) to resize every image to; `color_mode`: "grayscale"
      or "rgb" to convert every image to; None keeps the dataset's own.
    - `label_edits`: for a folder dataset, images relabelled or left out (core/label_edits.py).
    - `download`: whether `mnist`, `fashion-mnist`, `cifar10`, `cifar100` may be
      downloaded if not cached; `progress(fraction)` is called while downloading.

    Every problem the user can fix raises DatasetError with a plain message.
    """
    options = LoadOptions.checked(validation_split=validation_split, seed=seed, normalization=normalization,
                                  permute_pixels=permute_pixels, image_size=image_size, color_mode=color_mode,
                                  label_edits=label_edits)
    kind, path = parse_dataset_name(name)
    if kind == "mnist-sample":
        from cnnstudio.ml.data.bundled import load_mnist_sample

        return load_mnist_sample(options)
    if kind in ("mnist", "fashion-mnist", "cifar10", "cifar100"):
        from cnnstudio.ml.data.downloads import load_keras_dataset

        return load_keras_dataset(kind, options, download=download, progress=progress)
    if kind == "x-vs-o":
        from cnnstudio.ml.data.generated import load_x_vs_o

        return load_x_vs_o(options)
    if kind == "stripes":
        from cnnstudio.ml.data.generated import load_stripes

        return load_stripes(options)
    if kind == "shapes":
        from cnnstudio.ml.data.generated import load_shapes

        return load_shapes(options)
    if kind == "folder":
        from cnnstudio.core.datasets import is_segmentation_folder

        if is_segmentation_folder(path):
            from cnnstudio.ml.data.mask_folder import MaskFolderDataset

            return MaskFolderDataset(path, options)
        from cnnstudio.ml.data.folder import FolderDataset

        return FolderDataset(path, options)
    from cnnstudio.ml.data.npz import load_npz

    return load_npz(path, options)
