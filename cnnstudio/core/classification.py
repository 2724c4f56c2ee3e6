"""Classification figures from labels and predictions, in pure NumPy: the confusion matrix and
per-class precision, recall and F1. Shared by the evaluation view (ml/inspection), run diffs
and the confusion matrix over epochs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64: `[t, p]` counts the images of true class t predicted as p (rows: truth)."""
    labels = np.asarray(labels, dtype=np.int64).ravel()
    predictions = np.asarray(predictions, dtype=np.int64).ravel()
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat[: num_classes * num_classes].reshape(num_classes, num_classes).astype(np.int64)


@dataclass(frozen=True)
class ClassScores:
    """Per-class precision, recall and F1 (0 where undefined: a class never predicted, or
    without images) and `support`, the images of each true class."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float

    @property
    def macro_f1(self) -> float:
        """The mean F1 over classes that have images (each class counts the same)."""
        present = self.support > 0
        return float(self.f1[present].mean()) if present.any() else 0.0


def class_scores(confusion: np.ndarray) -> ClassScores:
    """Precision, recall, F1 and support per class, and accuracy, from a confusion matrix."""
    confusion = np.asarray(confusion)
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    total = confusion.sum()
    return ClassScores(precision, recall, f1, support, float(hits.sum() / total) if total else 0.0)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    top = np.asarray(top, dtype=np.float64)
    bottom = np.asarray(bottom, dtype=np.float64)
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
