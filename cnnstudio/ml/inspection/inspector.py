"""`Inspector`: one object per trained model for the GUI's ML thread to ask everything of.

It holds the model and its cached sub-models (cache.py), so the views' repeated
questions — this image at that layer, now Grad-CAM for class 3 — cost one forward
pass each. Create a new Inspector when the network is rebuilt; after more training
the same one stays valid (its sub-models share the model's weights). Use it from the
ML thread only; every method returns NumPy arrays or dataclasses of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from .batching import Progress
from .cache import submodels_for
from .evaluation import Evaluation, evaluate_split
from .features import activations, feature_maps
from .filters import FilterSet, filter_weights
from .gradcam import grad_cam, grad_cam_layer
from .heads import output_activation
from .heatmap import Attribution
from .layers import conv_layers, image_shape
from .maximize import MaximizedImages, maximize_class, maximize_filters
from .prediction import predict_proba
from .saliency import saliency, smoothgrad


class Inspector:
    """Inspection of one Keras model: filters, feature maps, predictions, evaluation,
    saliency, Grad-CAM and activation maximization."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.input_shape = image_shape(model)
        self._subs = submodels_for(model)  # built lazily, one per question kind

    # -- what is there
    def conv_layers(self) -> list[str]:
        return conv_layers(self.model)

    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.model.layers]

    def output_activation(self) -> str | None:
        return output_activation(self.model)

    def grad_cam_layer(self) -> str:
        return grad_cam_layer(self.model)

    # -- weights and values
    def filters(self, layer: str, mode: str = "per_channel") -> FilterSet:
        return filter_weights(self.model, layer, mode=mode)

    def activations(self, images: np.ndarray, layers: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        return activations(self.model, images, layers)

    def feature_maps(self, image: np.ndarray, layer: str) -> np.ndarray:
        return feature_maps(self.model, image, layer)

    def predict_proba(self, images: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        return predict_proba(self.model, images, progress=progress)

    def evaluate(self, x: np.ndarray, y: np.ndarray, class_names: Sequence[str] | None = None,
                 progress: Progress | None = None) -> Evaluation:
        return evaluate_split(self.model, x, y, class_names, progress=progress)

    # -- explanations
    def saliency(self, images: np.ndarray, class_index: int | None = None) -> Attribution:
        return saliency(self.model, images, class_index)

    def smoothgrad(self, images: np.ndarray, class_index: int | None = None, *, samples: int = 25,
                   noise_level: float = 0.15) -> Attribution:
        return smoothgrad(self.model, images, class_index, samples=samples, noise_level=noise_level)

    def grad_cam(self, images: np.ndarray, class_index: int | None = None, layer: str | None = None,
                 variant: str = "grad-cam") -> Attribution:
        return grad_cam(self.model, images, class_index, layer=layer, variant=variant)

    def maximize_filters(self, layer: str, filters: int | Sequence[int] | None = None,
                         progress: Progress | None = None, **options: object) -> MaximizedImages:
        return maximize_filters(self.model, layer, filters, progress=progress, **options)

    def maximize_class(self, classes: int | Sequence[int], progress: Progress | None = None,
                       **options: object) -> MaximizedImages:
        return maximize_class(self.model, classes, progress=progress, **options)
