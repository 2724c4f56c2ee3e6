"""The figures of segmentation, regression and multi-label results, in pure NumPy: IoU per class from a
confusion over pixels, errors of predicted values, and per-label precision, recall, F1 and ROC AUC.

Shared by the evaluation jobs (`ml/inspection/task_evaluation.py`) and anything that reads saved
predictions; the training metrics compute the same figures (see `ml/training/callbacks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classification import class_scores, confusion_matrix


def pixel_confusion(true_masks: np.ndarray, predicted_masks: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 over pixels: `[t, p]` counts pixels of true class t predicted as p."""
    return confusion_matrix(np.asarray(true_masks).ravel(), np.asarray(predicted_masks).ravel(), num_classes)


def iou_per_class(confusion: np.ndarray) -> np.ndarray:
    """(K,) intersection over union of each class: TP / (TP + FP + FN); NaN for a class that is neither
    in the truth nor in the prediction (it has no IoU)."""
    confusion = np.asarray(confusion, np.float64)
    hits = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, hits / np.where(union > 0, union, 1), np.nan)


def mean_iou(confusion: np.ndarray) -> float:
    """The mean IoU over the classes present (in the truth or the prediction), as Keras's MeanIoU gives it."""
    iou = iou_per_class(confusion)
    present = np.isfinite(iou)
    return float(iou[present].mean()) if present.any() else 0.0


@dataclass(frozen=True)
class ValueErrors:
    """How far predicted values are from the true ones, overall and per value (column)."""

    mae: float
    rmse: float
    mae_per_value: np.ndarray  # (D,)
    rmse_per_value: np.ndarray  # (D,)
    r2_per_value: np.ndarray  # (D,) 1 - residual variance / variance of the truth; NaN for a constant truth


def value_errors(true: np.ndarray, predicted: np.ndarray) -> ValueErrors:
    """MAE, RMSE and R² of (N, D) predictions against (N, D) true values."""
    true = np.asarray(true, np.float64).reshape(len(true), -1)
    predicted = np.asarray(predicted, np.float64).reshape(true.shape)
    error = predicted - true
    if error.size == 0:
        empty = np.zeros(true.shape[1])
        return ValueErrors(0.0, 0.0, empty, empty, np.full(true.shape[1], np.nan))
    spread = np.square(true - true.mean(axis=0)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(spread > 0, 1 - np.square(error).sum(axis=0) / np.where(spread > 0, spread, 1), np.nan)
    return ValueErrors(float(np.abs(error).mean()), float(np.sqrt(np.square(error).mean())),
                       np.abs(error).mean(axis=0), np.sqrt(np.square(error).mean(axis=0)), r2)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve of one label (the chance a random positive outranks a random negative,
    ties counting half); NaN when the label is always or never present."""
    labels = np.asarray(labels).ravel() > 0.5
    scores = np.asarray(scores, np.float64).ravel()
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends, strict=True):  # tied scores share their mean rank
        ranks[order[start:end]] = (start + end + 1) / 2
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


@dataclass(frozen=True)
class LabelScores:
    """Per-label figures of 0/1 answers: precision, recall, F1 and support (images with the label), AUC."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    auc: np.ndarray
    accuracy: float  # share of all 0/1 answers that are right
    exact_match: float  # share of images whose every label is right


def label_scores(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> LabelScores:
    """Figures of (N, K) 0/1 `labels` against (N, K) `probabilities` answered yes above `threshold`."""
    labels = np.asarray(labels) > 0.5
    probabilities = np.asarray(probabilities, np.float64)
    answers = probabilities > threshold
    count = labels.shape[1] if labels.ndim == 2 else 0
    precision, recall, f1, support = (np.zeros(count) for _ in range(4))
    for k in range(count):
        scores = class_scores(confusion_matrix(labels[:, k], answers[:, k], 2))
        precision[k], recall[k], f1[k], support[k] = (scores.precision[1], scores.recall[1], scores.f1[1],
                                                      scores.support[1])
    auc = np.array([roc_auc(labels[:, k], probabilities[:, k]) for k in range(count)])
    right = answers == labels
    return LabelScores(precision, recall, f1, support.astype(np.int64), auc,
                       float(right.mean()) if right.size else 0.0,
                       float(right.all(axis=1).mean()) if len(right) else 0.0)
