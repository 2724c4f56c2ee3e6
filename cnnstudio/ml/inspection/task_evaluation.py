"""How well a network does on a labelled set for the tasks beyond single-label classification:
segmentation (confusion over pixels, IoU per class, predicted masks of chosen images),
regression (predicted against true values, residuals, MAE, RMSE) and multi-label
classification (per-label precision, recall, F1 and AUC).

The results are the plain dataclasses of `cnnstudio.ml.jobs.task_results` (no TensorFlow there:
the window draws them; they pickle); the figures are computed by `cnnstudio.core.task_figures`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.task_figures import (
    iou_per_class,
    label_scores,
    mean_iou,
    pixel_confusion,
    value_errors,
)

from ..jobs.task_results import MultiLabelEvaluation, RegressionEvaluation, SegmentationEvaluation
from .batching import Progress, check_batch_size, in_batches
from .heads import output_activation
from .prediction import softmax


def evaluate_segmentation(model: keras.Model, x: np.ndarray, masks: np.ndarray,
                          class_names: Sequence[str] | None = None, *, shown: Sequence[int] | int | None = None,
                          batch_size: int = 32, progress: Progress | None = None) -> SegmentationEvaluation:
    """Predict every image's mask in batches and compare with `masks` (N, H, W) of class numbers.

    `shown`: positions of the images whose masks to return, or how many of the first ones; None: all.
    """
    x, masks = np.asarray(x), np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if len(x) != len(masks):
        raise UserError(f"there are {len(x)} images but {len(masks)} masks")
    check_batch_size(batch_size)
    if shown is None:
        shown = len(x)
    chosen = np.arange(min(int(shown), len(x))) if isinstance(shown, (int, np.integer)) else \
        np.asarray(list(shown), np.int64)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= len(x)):
        raise UserError(f"there are {len(x)} images; positions {chosen.tolist()} are not all among them")
    activation = output_activation(model)
    state: dict = {"confusion": None, "start": 0}
    image_iou = np.zeros(len(x))
    kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def run(batch: np.ndarray) -> None:
        scores = np.asarray(keras.ops.convert_to_numpy(_first(model(batch, training=False))), np.float64)
        if scores.ndim != 4:
            raise UserError(f"the network's output is {'x'.join(map(str, scores.shape[1:]))}, not a map of class "
                            "scores per pixel; segmentation needs an output of height x width x classes")
        probabilities = scores if activation == "softmax" else softmax(scores)
        predicted = probabilities.argmax(axis=-1)
        start = state["start"]
        truth = masks[start:start + len(batch)]
        if truth.shape != predicted.shape:
            raise UserError(f"the masks are {'x'.join(map(str, truth.shape[1:]))} but the network predicts "
                            f"{'x'.join(map(str, predicted.shape[1:]))}")
        classes = probabilities.shape[-1]
        if truth.size and truth.max() >= classes:
            raise UserError(f"a mask holds class {int(truth.max())} but the network scores {classes} classes")
        cells = pixel_confusion(truth, predicted, classes)
        state["confusion"] = cells if state["confusion"] is None else state["confusion"] + cells
        for i in range(len(batch)):
            image_iou[start + i] = mean_iou(pixel_confusion(truth[i], predicted[i], classes))
            if start + i in keep:
                kept[start + i] = (predicted[i], probabilities[i].max(axis=-1))
        state["start"] = start + len(batch)

    keep = set(chosen.tolist())
    in_batches(x, batch_size, run, progress)
    confusion = state["confusion"] if state["confusion"] is not None else np.zeros((0, 0), np.int64)
    k = confusion.shape[0]
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(k))
    if len(names) != k:
        names = tuple(names[:k]) + tuple(str(i) for i in range(len(names), k))
    total = confusion.sum()
    h, w = masks.shape[1:3]
    return SegmentationEvaluation(
        names, confusion, iou_per_class(confusion), mean_iou(confusion),
        float(np.trace(confusion) / total) if total else 0.0, confusion.sum(axis=1), image_iou, chosen,
        masks[chosen],
        np.stack([kept[i][0] for i in chosen]).astype(masks.dtype) if chosen.size else np.zeros((0, h, w), masks.dtype),
        np.stack([kept[i][1] for i in chosen]).astype(np.float16) if chosen.size else np.zeros((0, h, w), np.float16))


def evaluate_regression(model: keras.Model, x: np.ndarray, values: np.ndarray,
                        value_names: Sequence[str] | None = None, *, batch_size: int = 256,
                        progress: Progress | None = None) -> RegressionEvaluation:
    """Predict every image's values in batches and compare with the true `values` (N,) or (N, D)."""
    true = np.asarray(values, np.float64)
    true = true.reshape(len(true), -1)
    if len(x) != len(true):
        raise UserError(f"there are {len(x)} images but {len(true)} values")
    parts = in_batches(np.asarray(x), batch_size,
                       lambda b: keras.ops.convert_to_numpy(_first(model(b, training=False))), progress)
    predicted = np.concatenate(parts).astype(np.float64).reshape(len(true), -1) if parts else np.zeros_like(true)
    if predicted.shape != true.shape:
        raise UserError(f"the network predicts {predicted.shape[1]} values per image but {true.shape[1]} were given")
    errors = value_errors(true, predicted)
    d = true.shape[1]
    names = tuple(value_names) if value_names is not None and len(value_names) == d else \
        (("value",) if d == 1 else tuple(f"value {i + 1}" for i in range(d)))
    return RegressionEvaluation(names, true, predicted, predicted - true, errors.mae, errors.rmse,
                                errors.mae_per_value, errors.rmse_per_value, errors.r2_per_value)


def evaluate_multilabel(model: keras.Model, x: np.ndarray, labels: np.ndarray,
                        label_names: Sequence[str] | None = None, *, threshold: float = 0.5,
                        batch_size: int = 256, progress: Progress | None = None) -> MultiLabelEvaluation:
    """Predict every image's label probabilities in batches and compare with (N, K) 0/1 `labels`."""
    truth = np.asarray(labels)
    if truth.ndim != 2:
        raise UserError(f"labels of shape {list(truth.shape)} are not (images, labels) 0/1 rows")
    if len(x) != len(truth):
        raise UserError(f"there are {len(x)} images but {len(truth)} rows of labels")
    parts = in_batches(np.asarray(x), batch_size,
                       lambda b: keras.ops.convert_to_numpy(_first(model(b, training=False))), progress)
    scores = np.concatenate(parts).astype(np.float64).reshape(len(truth), -1) if parts else np.zeros(truth.shape)
    if scores.shape != truth.shape:
        raise UserError(f"the network answers {scores.shape[1]} labels but the data has {truth.shape[1]}")
    probabilities = scores if output_activation(model) == "sigmoid" else 1 / (1 + np.exp(-scores))
    figures = label_scores(truth, probabilities, threshold)
    k = truth.shape[1]
    names = tuple(label_names) if label_names is not None and len(label_names) == k else tuple(str(i) for i in range(k))
    return MultiLabelEvaluation(names, (truth > 0.5).astype(np.uint8), probabilities.astype(np.float32), float(threshold),
                                figures.precision, figures.recall, figures.f1, figures.support, figures.auc,
                                figures.accuracy, figures.exact_match)


def _first(outputs: object) -> object:
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs
