"""Datasets for training: one interface (`Dataset`) for every name `load_dataset` accepts.

    from cnnstudio.ml.data import load_dataset
    data = load_dataset("mnist-sample", validation_split=0.1, seed=0)
    model.fit(data.train(64), validation_data=data.validation(64), epochs=5)
    model.evaluate(data.test(64))   # the held-out split: final evaluation only

Metadata without TensorFlow (names, shapes, classes, compatibility checks) is in
`cnnstudio.core.datasets`.
"""

from cnnstudio.core.datasets import DatasetInfo, check_input_compatibility, dataset_info, list_datasets
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data.base import SPLITS, Dataset
from cnnstudio.ml.data.registry import load_dataset

__all__ = [
    "SPLITS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "check_input_compatibility",
    "dataset_info",
    "list_datasets",
    "load_dataset",
]
