"""Task kinds in the core: what the data implies, what the output must be, the shapes dataset, the setting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.datasets import dataset_info, list_datasets
from cnnstudio.core.drawn_shapes import SHAPE_CLASSES, draw_shapes
from cnnstudio.core.errors import DatasetError, ProjectError, UserError
from cnnstudio.core.project import project_from_dict
from cnnstudio.core.targets import targets_task
from cnnstudio.core.tasks import (
    OutputFacts,
    choose_task,
    fit_problems,
    implied_task,
    main_metric,
    metric_columns,
)
from cnnstudio.core.templates import load_template


@pytest.mark.parametrize("y, task", [
    (np.array([0, 1, 2, 1]), "classification"),
    (np.array([0.0, 1.0, 2.0]), "classification"),  # whole numbers in floats stay class labels
    (np.eye(3)[[0, 1, 2, 1]], "classification"),  # one-hot rows
    (np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0]]), "multilabel"),
    (np.zeros((4, 8, 8), np.uint8), "segmentation"),
    (np.zeros((4, 8, 8, 1), np.uint8), "segmentation"),
    (np.array([0.5, 1.25, -3.0]), "regression"),
    (np.array([[0.5, 2.0], [1.0, 3.5]]), "regression"),
])
def test_the_targets_say_what_the_task_is(y, task):
    assert targets_task(y, "y_train", "data.npz") == task


def test_auto_follows_the_data_and_a_single_sigmoid_unit_means_binary():
    softmax = OutputFacts((10,), "softmax")
    assert choose_task("auto", "classification", softmax, 10) == "classification"
    assert choose_task("auto", "classification", OutputFacts((1,), "sigmoid"), 2) == "binary"
    assert choose_task("auto", "segmentation", OutputFacts((64, 64, 4), "softmax"), 4) == "segmentation"
    assert choose_task("auto", "regression", OutputFacts((1,), None), None) == "regression"
    assert choose_task("auto", "multilabel", OutputFacts((5,), "sigmoid"), 5) == "multilabel"


def test_a_task_the_data_cannot_give_is_refused_saying_what_fits():
    assert choose_task("regression", "classification", OutputFacts((1,), None), 10) == "regression"
    with pytest.raises(UserError, match='"segmentation" but \'mnist\' holds one class label per image; use "auto" '
                                        'or "classification" or "regression"'):
        choose_task("segmentation", "classification", OutputFacts((10,), "softmax"), 10, "mnist")
    with pytest.raises(UserError, match="holds a mask of classes per image"):
        choose_task("regression", "segmentation", OutputFacts((4,), None), 4, "shapes")


def test_a_segmentation_output_must_be_a_map_of_the_input_size_with_a_channel_per_class():
    good = OutputFacts((64, 64, 4), "softmax")
    assert fit_problems("segmentation", good, input_shape=(64, 64, 3), num_classes=4) == []
    assert fit_problems("segmentation", OutputFacts((64, 64, 6), None), input_shape=(64, 64, 3), num_classes=4) == []
    [flat] = fit_problems("segmentation", OutputFacts((4,), "softmax"), input_shape=(64, 64, 3), num_classes=4)
    assert "map of class scores" in flat and "1x1 Conv2D" in flat
    [small] = fit_problems("segmentation", OutputFacts((32, 32, 4), "softmax"), input_shape=(64, 64, 3))
    assert "32x32" in small and "64x64" in small and "UpSampling2D" in small
    [few] = fit_problems("segmentation", OutputFacts((64, 64, 3), "softmax"), input_shape=(64, 64, 3),
                         num_classes=4, dataset_name="shapes")
    assert "3 channels but 'shapes' has 4 classes" in few
    one, sigmoid = fit_problems("segmentation", OutputFacts((64, 64, 1), "sigmoid"), input_shape=(64, 64, 3))
    assert "1 channel" in one and "softmax" in sigmoid


def test_regression_and_multilabel_outputs_are_checked_against_the_targets():
    assert fit_problems("regression", OutputFacts((2,), None), values=2) == []
    [units] = fit_problems("regression", OutputFacts((3,), None), values=2, dataset_name="d")
    assert "outputs 3 values but 'd' has 2 number(s)" in units
    assert "no activation" in fit_problems("regression", OutputFacts((2,), "softmax"), values=2)[0]
    assert fit_problems("multilabel", OutputFacts((5,), "sigmoid"), num_classes=5) == []
    assert "sigmoid" in fit_problems("multilabel", OutputFacts((5,), "softmax"), num_classes=5)[0]


def test_each_task_names_its_main_metric_and_its_columns():
    assert main_metric("segmentation") == "mean_iou" and main_metric("regression") == "mae"
    assert metric_columns("segmentation") == ("mean_iou", "val_mean_iou")
    assert metric_columns("regression") == ("mae", "val_mae") and metric_columns("classification") == ()


def test_shapes_are_drawn_the_same_for_the_same_seed_with_a_mask_per_picture():
    images, masks = draw_shapes(40, np.random.default_rng([3, 1]))
    again, masks_again = draw_shapes(40, np.random.default_rng([3, 1]))
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(masks, masks_again)
    assert images.shape == (40, 64, 64, 3) and images.dtype == np.uint8
    assert masks.shape == (40, 64, 64) and set(np.unique(masks)) == {0, 1, 2, 3}
    assert (masks == 0).mean() > 0.7  # mostly background, every picture has a shape
    assert all((m > 0).any() for m in masks)
    shape_pixels = images[masks > 0].astype(int).max(axis=-1)
    assert shape_pixels.mean() > 150  # shapes are bright in one channel at least: visible on the background


def test_the_shapes_dataset_is_listed_as_segmentation():
    info = dataset_info("shapes")
    assert info in list_datasets()
    assert (info.task, info.input_shape, info.class_names, info.target_shape) == (
        "segmentation", (64, 64, 3), SHAPE_CLASSES, (64, 64))


def test_npz_info_knows_masks_values_and_labels(tmp_path):
    masks = tmp_path / "masks.npz"
    np.savez(masks, x_train=np.zeros((6, 8, 10, 3), np.uint8), y_train=np.full((6, 8, 10), 2, np.uint8))
    info = dataset_info(f"npz:{masks}")
    assert (info.task, info.num_classes, info.target_shape) == ("segmentation", 3, (8, 10))
    values = tmp_path / "values.npz"
    np.savez(values, x_train=np.zeros((6, 8, 8)), y_train=np.linspace(0, 1, 12).reshape(6, 2))
    info = dataset_info(f"npz:{values}")
    assert (info.task, info.num_classes, info.target_shape) == ("regression", None, (2,))
    labels = tmp_path / "labels.npz"
    np.savez(labels, x_train=np.zeros((3, 8, 8)), y_train=np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]]))
    info = dataset_info(f"npz:{labels}")
    assert (info.task, info.num_classes) == ("multilabel", 3)


def test_npz_masks_of_another_size_or_odd_values_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((2, 8, 8)), y_train=np.full((2, 8, 8), -1))
    with pytest.raises(DatasetError, match=r"y_train in '.*bad.npz' has the class -1"):
        dataset_info(f"npz:{path}")
    np.savez(path, x_train=np.zeros((2, 8, 8)), y_train=np.zeros((2, 8, 8)), x_test=np.zeros((1, 8, 8)),
             y_test=np.zeros((1, 4, 4)))
    with pytest.raises(DatasetError, match="y_test in .* holds masks of 4x4 but the images are 8x8"):
        dataset_info(f"npz:{path}")
    np.savez(path, x_train=np.zeros((2, 8, 8)), y_train=np.array([0.5, np.inf]))
    with pytest.raises(DatasetError, match="NaN, infinite"):
        dataset_info(f"npz:{path}")


def test_a_folder_of_images_and_masks_is_a_segmentation_dataset(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    info = dataset_info(f"folder:{tmp_path}")
    assert (info.task, info.num_classes, info.class_names) == ("segmentation", None, None)
    (tmp_path / "classes.txt").write_text("sky\nroad\ncar\n")
    assert dataset_info(f"folder:{tmp_path}").class_names == ("sky", "road", "car")


def test_the_task_setting_is_checked_when_a_project_is_read():
    data = json.loads(json.dumps({"format": "cnnstudio-project", "version": 1, "name": "t",
                                  "network": {"nodes": [{"id": "input", "type": "Input", "params": {"shape": [4]}}],
                                              "edges": []},
                                  "dataset": {"name": "shapes"}, "training": {"task": "segmentation"}}))
    assert project_from_dict(data).training["task"] == "segmentation"
    data["training"]["task"] = "clustering"
    with pytest.raises(ProjectError, match='training "task" is \'clustering\'; it must be one of "auto"'):
        project_from_dict(data)


def test_the_implied_task_follows_the_output_and_the_data_or_says_why_not():
    unet, lenet = load_template("unet-mini"), load_template("lenet5")
    shapes, mnist = dataset_info("shapes"), dataset_info("mnist")
    assert implied_task(unet.network, analyze(unet.network), shapes) == ("segmentation", "")
    assert implied_task(lenet.network, analyze(lenet.network), mnist) == ("classification", "")
    assert implied_task(lenet.network, analyze(lenet.network), mnist, "regression") == ("regression", "")
    task, why = implied_task(unet.network, analyze(unet.network), shapes, "regression")
    assert task is None and why.startswith('training "task" is "regression" but \'shapes\' holds a mask')
