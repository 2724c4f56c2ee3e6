"""Looking inside a trained network: filters, feature maps, predictions, evaluation (also of
segmentation, regression and multi-label networks), saliency, Grad-CAM and activation maximization. Plain NumPy arrays and dataclasses
out, no Qt, no drawing; run everything on the ML thread.

    from cnnstudio.ml.inspection import Inspector
    inspector = Inspector(model)
    maps = inspector.activations(image)["conv1"]          # (28, 28, 6)
    heat = inspector.grad_cam(image).heatmap               # (28, 28) in [0, 1]

Where a clicked position's receptive field lies needs no TensorFlow:
`cnnstudio.core.receptive.field_box(network, layer_id, row, col)` (re-exported here
as `receptive_field_box`).
"""

from cnnstudio.core.receptive import field_box as receptive_field_box
from cnnstudio.core.receptive import field_region

from .batching import Cancelled
from .evaluation import Evaluation, evaluate_split
from .export import load_activations, load_filters, load_npy, save_activations, save_filters, save_npy
from .features import activations, channel_order, feature_maps
from .filters import FilterSet, filter_weights
from .gradcam import grad_cam, grad_cam_layer
from .heads import output_activation
from .heatmap import Attribution
from .inspector import Inspector
from .layers import conv_layers
from .maximize import Ascent, MaximizedImages, maximize_class, maximize_filters
from .prediction import predict_proba
from .saliency import saliency, smoothgrad
from .task_evaluation import (
    MultiLabelEvaluation,
    RegressionEvaluation,
    SegmentationEvaluation,
    evaluate_multilabel,
    evaluate_regression,
    evaluate_segmentation,
)

__all__ = [
    "Ascent", "Attribution", "Cancelled", "Evaluation", "FilterSet", "Inspector", "MaximizedImages",
    "activations", "channel_order", "conv_layers", "evaluate_split", "feature_maps", "field_region",
    "filter_weights", "grad_cam", "grad_cam_layer", "load_activations", "load_filters", "load_npy",
    "maximize_class", "maximize_filters", "output_activation", "predict_proba", "receptive_field_box",
    "saliency", "save_activations", "save_filters", "save_npy", "smoothgrad",
    "MultiLabelEvaluation", "RegressionEvaluation", "SegmentationEvaluation", "evaluate_multilabel",
    "evaluate_regression", "evaluate_segmentation",
]
