"""The confusion matrix over the epochs of a run, from its kept validation predictions.

    timeline = ConfusionTimeline.of_run(run_dir)
    timeline.matrix(3)                      # (K, K) after epoch 3; rows: true class
    change = timeline.cell(3, true=4, predicted=9)
    change.entered, change.left             # validation images that came into / went out of the cell

A run keeps, per epoch, each validation image's predicted class and its confidence in
`val_predictions.npz` (read by `core.runs.read_val_predictions`). Indices here are
positions in the run's validation split, in its unshuffled order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classification import confusion_matrix
from .errors import UserError
from .runs import ValPredictions, read_val_predictions


@dataclass(frozen=True)
class CellChange:
    """One cell of the confusion matrix at an epoch, against the epoch before.

    `images`: the validation images in the cell now; `entered`: those that were not in it
    the epoch before (all of them at the first epoch); `left`: those that were in it then
    and are not now, with `left_to`, the class each is predicted as now.
    """

    epoch: int
    true_class: int
    predicted_class: int
    images: np.ndarray
    entered: np.ndarray
    left: np.ndarray
    left_to: np.ndarray


class ConfusionTimeline:
    """The confusion matrix of every epoch of a run, ready to scrub through."""

    def __init__(self, predictions: ValPredictions, num_classes: int | None = None) -> None:
        self.predictions = predictions
        seen = [predictions.labels.max(initial=-1), *(p.max(initial=-1) for p in predictions.predicted.values())]
        self.num_classes = int(num_classes if num_classes is not None else max(seen) + 1)
        self._matrices: dict[int, np.ndarray] = {}

    @classmethod
    def of_run(cls, run_dir: str | Path, num_classes: int | None = None) -> ConfusionTimeline:
        predictions = read_val_predictions(run_dir)
        if predictions is None or not predictions.predicted:
            raise UserError(f"{run_dir} kept no validation predictions per epoch (a run with a validation split, "
                            "trained by this version, keeps them)")
        return cls(predictions, num_classes)

    @property
    def epochs(self) -> list[int]:
        return self.predictions.epochs

    def matrix(self, epoch: int) -> np.ndarray:
        """(K, K) confusion matrix after `epoch` (rows: true class, columns: predicted)."""
        if epoch not in self._matrices:
            self._matrices[epoch] = confusion_matrix(self.predictions.labels, self.predictions.at(epoch),
                                                     self.num_classes)
        return self._matrices[epoch]

    def matrices(self) -> np.ndarray:
        """(E, K, K): every epoch's matrix in epoch order (for a slider)."""
        return np.stack([self.matrix(e) for e in self.epochs]) if self.epochs else \
            np.zeros((0, self.num_classes, self.num_classes), np.int64)

    def cell(self, epoch: int, true_class: int, predicted_class: int) -> CellChange:
        """Which images are in a cell after `epoch`, and which entered or left it since the epoch before."""
        k = self.num_classes
        if not (0 <= true_class < k and 0 <= predicted_class < k):
            raise UserError(f"classes are numbered 0 to {k - 1}; ({true_class}, {predicted_class}) is not a cell")
        labels = self.predictions.labels
        now = self.predictions.at(epoch)
        inside = (labels == true_class) & (now == predicted_class)
        earlier = [e for e in self.epochs if e < epoch]
        if earlier:
            before = self.predictions.at(earlier[-1])
            was_inside = (labels == true_class) & (before == predicted_class)
        else:
            was_inside = np.zeros_like(inside)
        left = np.flatnonzero(was_inside & ~inside)
        order = self._most_confident_first
        return CellChange(epoch, true_class, predicted_class, order(np.flatnonzero(inside), epoch),
                          order(np.flatnonzero(inside & ~was_inside), epoch), left, now[left])

    def _most_confident_first(self, indices: np.ndarray, epoch: int) -> np.ndarray:
        confidence = self.predictions.confidence.get(epoch)
        if confidence is None or not len(indices):
            return indices
        return indices[np.argsort(-confidence[indices], kind="stable")]
