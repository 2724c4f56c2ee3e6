"""How well a network does on a set of labelled images: accuracy, per-class figures,
the confusion matrix, and which images fall in each of its cells."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from cnnstudio.core.classification import class_scores, confusion_matrix
from cnnstudio.core.errors import UserError

from .batching import Progress
from .prediction import predict_proba


@dataclass
class Evaluation:
    """Results on N images of K classes.

    `confusion[t, p]` counts images of true class t predicted as p (rows: truth).
    Per-class `precision`, `recall`, `f1` are 0 where undefined (a class never
    predicted, or with no images); `support` is the number of images per true class.
    """

    class_names: tuple[str, ...]
    labels: np.ndarray  # (N,) true class
    predictions: np.ndarray  # (N,) predicted class
    probabilities: np.ndarray  # (N, K)
    confusion: np.ndarray  # (K, K) int64
    accuracy: float
    precision: np.ndarray  # (K,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # (K,) int64

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def confidence(self) -> np.ndarray:
        """(N,) the probability the network gave its own prediction."""
        return self.probabilities[np.arange(self.count), self.predictions]

    @property
    def macro_f1(self) -> float:
        """The mean F1 over classes that have images (each class counts the same)."""
        present = self.support > 0
        return float(self.f1[present].mean()) if present.any() else 0.0

    def cell_indices(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the images of class `true` predicted as `predicted`, most confident first."""
        k = len(self.class_names)
        if not (0 <= true < k and 0 <= predicted < k):
            raise UserError(f"classes are numbered 0 to {k - 1}; ({true}, {predicted}) is not a cell")
        found = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        return found[np.argsort(-self.confidence[found], kind="stable")]

    @property
    def misclassified(self) -> np.ndarray:
        """Indices of wrongly classified images, the most confident mistakes first."""
        found = np.flatnonzero(self.labels != self.predictions)
        return found[np.argsort(-self.confidence[found], kind="stable")]


def evaluate_split(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    batch_size: int = 256,
    progress: Progress | None = None,
) -> Evaluation:
    """Predict `x` in batches and compare with labels `y` (integers, or one-hot rows)."""
    labels = np.asarray(y)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    labels = labels.astype(np.int64).ravel()
    x = np.asarray(x)
    if len(x) != len(labels):
        raise UserError(f"there are {len(x)} images but {len(labels)} labels")
    probabilities = predict_proba(model, x, batch_size=batch_size, progress=progress)
    if probabilities.ndim == 1:  # one image given without a batch axis
        probabilities = probabilities[None]
    k = probabilities.shape[1]
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(k))
    if len(names) != k:
        raise UserError(f"the network scores {k} classes but {len(names)} class names were given")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise UserError(f"labels must lie between 0 and {k - 1}, but {int(labels.max())} was found")
    return _summarize(names, labels, probabilities)


def _summarize(names: tuple[str, ...], labels: np.ndarray, probabilities: np.ndarray) -> Evaluation:
    predictions = probabilities.argmax(axis=1).astype(np.int64)
    confusion = confusion_matrix(labels, predictions, len(names))
    scores = class_scores(confusion)
    return Evaluation(names, labels, predictions, probabilities, confusion, scores.accuracy,
                      scores.precision, scores.recall, scores.f1, scores.support)
