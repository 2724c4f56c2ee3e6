"""Jobs of the Dataset panel: a dataset's preview (downloaded first if needed) and augmented samples."""

from __future__ import annotations

import keras
import numpy as np

from cnnstudio.core.network import Network

from ..builder import build_model
from ..workspace import Workspace
from .protocol import JobCancelled, Progress
from .requests import AugmentRequest, PreviewRequest
from .results import DatasetPreview

PREVIEW_SPLITS = ("train", "validation", "test")


def preview(workspace: Workspace, request: PreviewRequest, progress: Progress) -> DatasetPreview:
    """Sample images as the network sees them, counts per class and shapes; a download reports
    ("download", fraction) and stops at its next chunk once the job is cancelled."""

    def downloading(fraction: float) -> None:
        if progress.cancelled:
            raise JobCancelled("download cancelled")
        progress.event("download", fraction)

    data = workspace.dataset(request.project, progress=downloading)
    images, labels = data.samples(request.count, "train", seed=request.seed)
    counts = {split: data.class_counts(split) for split in PREVIEW_SPLITS}
    return DatasetPreview(data.name, tuple(data.class_names), tuple(data.input_shape), counts,
                          images, labels, data.preprocessing.normalization, tuple(data.warnings))


def augment(workspace: Workspace, request: AugmentRequest, progress: Progress) -> np.ndarray:
    """The images passed through the augmentation layers, in order, in training mode (for previews)."""
    images = request.images
    network = Network()
    network.add_node("Input", {"shape": list(images.shape[1:])}, node_id="input")
    previous = "input"
    for i, layer in enumerate(request.layers):
        node_id = f"augment_{i}"
        network.add_node(layer["type"], dict(layer.get("params") or {}), node_id=node_id)
        network.connect(previous, node_id)
        previous = node_id
    keras.utils.set_random_seed(request.seed)
    model = build_model(network, "augmentation")
    return np.asarray(model(images, training=True), dtype=np.float32)
