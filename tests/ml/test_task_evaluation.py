"""Evaluation of segmentation, regression and multi-label networks: figures checked by hand, results picklable."""

from __future__ import annotations

import itertools
import pickle

import keras
import numpy as np
import pytest

from cnnstudio.core.task_figures import roc_auc
from cnnstudio.ml.inspection import evaluate_multilabel, evaluate_regression, evaluate_segmentation
from cnnstudio.ml.training.callbacks import Tally


def one_hot_segmenter(classes: int, side: int = 4) -> keras.Model:
    """A network whose input already holds each pixel's class scores: its masks are the input's argmax."""
    inputs = keras.Input((side, side, classes))
    return keras.Model(inputs, keras.layers.Softmax()(inputs))


def test_segmentation_gives_the_confusion_over_pixels_iou_per_class_and_chosen_masks():
    predicted = np.array([[[0, 0, 1, 1]] * 4, [[0, 2, 2, 2]] * 4])  # two 4x4 images
    truth = np.array([[[0, 0, 1, 0]] * 4, [[0, 2, 2, 0]] * 4], np.uint8)
    x = np.eye(4, dtype=np.float32)[predicted] * 10  # class 3 never occurs
    result = evaluate_segmentation(one_hot_segmenter(4), x, truth, ("bg", "a", "b", "c"), shown=[1], batch_size=1)
    assert result.confusion.tolist() == [[12, 4, 4, 0], [0, 4, 0, 0], [0, 0, 8, 0], [0, 0, 0, 0]]
    np.testing.assert_allclose(result.iou[:3], [12 / 20, 4 / 8, 8 / 12])
    assert np.isnan(result.iou[3])  # neither true nor predicted: no IoU, left out of the mean
    assert result.mean_iou == pytest.approx(np.mean([12 / 20, 4 / 8, 8 / 12]))
    assert result.pixel_accuracy == pytest.approx(24 / 32) and result.pixels.tolist() == [20, 4, 8, 0]
    assert result.shown.tolist() == [1] and result.predicted_masks[0].tolist() == predicted[1].tolist()
    assert result.true_masks.shape == (1, 4, 4) and result.masks_of(0) is None
    assert result.masks_of(1)[1].tolist() == predicted[1].tolist()
    assert result.confidence.shape == (1, 4, 4) and float(result.confidence.min()) > 0.99
    assert result.worst_images[0] == 0  # image 0 misses more of its pixels
    again = pickle.loads(pickle.dumps(result))
    np.testing.assert_array_equal(again.confusion, result.confusion)


def test_the_evaluation_and_the_training_metric_agree_on_mean_iou():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 8, 8, 3)).astype(np.float32)
    truth = rng.integers(0, 3, (6, 8, 8)).astype(np.uint8)
    tally = Tally("segmentation", from_logits=False, num_classes=3)
    tally.add(keras.ops.convert_to_numpy(keras.ops.softmax(scores)), truth)
    inspected = evaluate_segmentation(one_hot_segmenter(3, 8), scores, truth, batch_size=4)
    assert tally.result()["mean_iou"] == pytest.approx(inspected.mean_iou, abs=1e-6)
    assert tally.result()["accuracy"] == pytest.approx(inspected.pixel_accuracy)
    metric = keras.metrics.MeanIoU(3, sparse_y_pred=False)
    metric.update_state(truth, keras.ops.softmax(scores))
    assert float(metric.result()) == pytest.approx(inspected.mean_iou, abs=1e-5)  # as Keras counts it


def test_regression_gives_predicted_against_true_residuals_mae_and_rmse():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs))
    x = np.array([[1, 2], [3, 4], [0, 0]], np.float32)
    result = evaluate_regression(model, x, np.array([3.0, 8.0, 1.0]), batch_size=2)
    assert result.predicted.ravel().tolist() == [3.0, 7.0, 0.0] and result.residuals.ravel().tolist() == [0, -1, -1]
    assert result.mae == pytest.approx(2 / 3) and result.rmse == pytest.approx(np.sqrt(2 / 3))
    assert result.value_names == ("value",) and result.worst_images.tolist()[-1] == 0
    assert pickle.loads(pickle.dumps(result)).mae == result.mae


def test_multilabel_gives_per_label_figures_and_auc():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(inputs))
    scores = np.array([[3, -3, 1], [2, 3, -2], [-1, -2, 2], [-3, 1, -1]], np.float32)
    labels = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0], [0, 1, 1]])
    result = evaluate_multilabel(model, scores, labels, ("a", "b", "c"), batch_size=3)
    assert result.answers.tolist() == (scores > 0).tolist()
    assert result.precision.tolist() == [1.0, 1.0, 0.5] and result.recall.tolist() == [1.0, 1.0, 0.5]
    assert result.auc[0] == 1.0 and result.auc[2] == pytest.approx(0.5)
    assert result.support.tolist() == [2, 2, 2] and result.accuracy == pytest.approx(10 / 12)
    assert result.exact_match == pytest.approx(2 / 4)


def test_roc_auc_is_the_chance_a_positive_outranks_a_negative():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 40)
    scores = np.round(rng.normal(size=40) + labels, 1)  # with ties
    pairs = [(s, t) for (s, a), (t, b) in itertools.product(zip(scores, labels), repeat=2) if a == 1 and b == 0]
    expected = np.mean([1.0 if s > t else 0.5 if s == t else 0.0 for s, t in pairs])
    assert roc_auc(labels, scores) == pytest.approx(expected)
    assert np.isnan(roc_auc(np.ones(5), np.arange(5)))
