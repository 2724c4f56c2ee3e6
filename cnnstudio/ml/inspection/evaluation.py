"""How well a network does on a set of labelled images: accuracy, per-class figures,
the confusion matrix, and which images fall in each of its cells."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from cnnstudio.core.classification import class_scores, confusion_matrix
from cnnstudio.core.errors import UserError

from ..jobs.results import Evaluation
from .batching import Progress
from .prediction import predict_proba


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
