"""`mnist-sample`: 10,000 MNIST digits shipped in resources/mnist-sample.npz (offline).

Split: 2,000 test images held out stratified with the fixed seed 0 (the same whatever
`seed` is), 8,000 for training, from which `validation_split` is carved (seeded by
`seed`). See resources/NOTICE-mnist.txt for where the digits come from.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.datasets import DIGITS
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data.arrays import ArrayDataset
from cnnstudio.ml.data.options import LoadOptions
from cnnstudio.paths import resources_dir

FILE_NAME = "mnist-sample.npz"


def load_mnist_sample(options: LoadOptions) -> ArrayDataset:
    """The bundled MNIST sample, 8,000 train(+validation) / 2,000 test."""
    try:
        path = resources_dir() / FILE_NAME
        with np.load(path, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
    except (OSError, KeyError, ValueError, FileNotFoundError) as exc:
        raise DatasetError(f"the bundled MNIST sample cannot be read ({exc}); reinstall CNN Studio") from None
    return ArrayDataset.from_arrays("mnist-sample", DIGITS, x, y, None, None, options)
