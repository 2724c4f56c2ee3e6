"""What the evaluation of a segmentation, regression or multi-label network sends back: plain
dataclasses of NumPy arrays (no TensorFlow: the window imports this module; they pickle, so they
can come from another process). Made by `cnnstudio.ml.inspection.task_evaluation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SegmentationEvaluation:
    """Results on N images of H x W pixels and K classes.

    `confusion[t, p]` counts pixels of true class t predicted as p; `iou[k]` is NaN for a class
    neither true nor predicted anywhere. `shown` are the positions (in the evaluated set) of the
    images whose masks come back: `true_masks`, `predicted_masks` and `confidence` (the probability
    of each pixel's predicted class). `image_iou[i]` is image i's own mean IoU.
    """

    class_names: tuple[str, ...]
    confusion: np.ndarray  # (K, K) int64
    iou: np.ndarray  # (K,)
    mean_iou: float
    pixel_accuracy: float
    pixels: np.ndarray  # (K,) true pixels of each class
    image_iou: np.ndarray  # (N,)
    shown: np.ndarray  # (M,) int64
    true_masks: np.ndarray  # (M, H, W)
    predicted_masks: np.ndarray  # (M, H, W)
    confidence: np.ndarray  # (M, H, W) float16

    def masks_of(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(true mask, predicted mask, confidence) of the image at position `index`, if it was kept."""
        found = np.flatnonzero(self.shown == index)
        if not found.size:
            return None
        k = int(found[0])
        return self.true_masks[k], self.predicted_masks[k], self.confidence[k]

    @property
    def worst_images(self) -> np.ndarray:
        """Positions of the images, lowest mean IoU first (where to look for mistakes)."""
        return np.argsort(self.image_iou, kind="stable")


@dataclass(frozen=True)
class RegressionEvaluation:
    """Predicted against true values on N images of D values each (`residuals` = predicted - true)."""

    value_names: tuple[str, ...]
    true: np.ndarray  # (N, D)
    predicted: np.ndarray  # (N, D)
    residuals: np.ndarray  # (N, D)
    mae: float
    rmse: float
    mae_per_value: np.ndarray  # (D,)
    rmse_per_value: np.ndarray  # (D,)
    r2_per_value: np.ndarray  # (D,)

    @property
    def worst_images(self) -> np.ndarray:
        """Positions of the images, largest absolute error first."""
        return np.argsort(-np.abs(self.residuals).mean(axis=1), kind="stable")


@dataclass(frozen=True)
class MultiLabelEvaluation:
    """0/1 answers (probability above `threshold`) for K labels on N images, and per-label figures."""

    label_names: tuple[str, ...]
    labels: np.ndarray  # (N, K) 0/1
    probabilities: np.ndarray  # (N, K)
    threshold: float
    precision: np.ndarray  # (K,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # (K,) images with each label
    auc: np.ndarray  # (K,) NaN where a label is always or never there
    accuracy: float  # share of all 0/1 answers that are right
    exact_match: float  # share of images with every label right

    @property
    def answers(self) -> np.ndarray:
        return self.probabilities > self.threshold
