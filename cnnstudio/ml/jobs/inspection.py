"""Jobs of the inspection views: filters, what the network makes of an input, the dataset's images.

Each runs with the chosen model already current (`JobCall.model`), on the side that runs jobs.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.errors import UserError

from ..workspace import Workspace
from .protocol import Progress
from .requests import (
    AnalyseRequest,
    DatasetImageRequest,
    DatasetIndexRequest,
    LayerKernelsRequest,
    LoadModelRequest,
    MisclassifiedRequest,
    PictureRequest,
)
from .results import (
    BROWSED_SPLITS,
    SPLIT_WORDS,
    Analysis,
    DatasetIndex,
    InputImage,
    LayerKernels,
    Misclassified,
    ModelFacts,
)


def model_facts(workspace: Workspace, request: LoadModelRequest, progress: Progress) -> ModelFacts:
    """The facts of the model just made current."""
    workspace.require_model()
    return workspace.facts


# -- filters ----------------------------------------------------------------------------------
def layer_kernels(workspace: Workspace, request: LayerKernelsRequest, progress: Progress) -> LayerKernels | None:
    """The per-channel kernels and biases of a convolution layer of the current model (the first
    convolution when the layer is not one); None when the model has no convolution."""
    inspector = workspace.require_model()
    convs = workspace.facts.conv_layers
    if not convs:
        return None
    layer = request.layer if request.layer in convs else convs[0]
    found = inspector.filters(layer, "per_channel")
    layer_type = next((f.type for f in workspace.facts.layers if f.name == layer), "")
    return LayerKernels(layer, layer_type, np.array(found.kernels),
                        None if found.biases is None else np.array(found.biases))


# -- inputs and what the network makes of them ------------------------------------------------
def analyse(workspace: Workspace, request: AnalyseRequest, progress: Progress) -> Analysis:
    """Probabilities for the input; with `with_maps`, every layer's output too (one forward pass)."""
    return _analysis(workspace, request.image, request.with_maps, request.note)


def _analysis(workspace: Workspace, image: InputImage, with_maps: bool, note: str = "") -> Analysis:
    inspector = workspace.require_model()
    if not with_maps:
        return Analysis(image, np.asarray(inspector.predict_proba(image.image)), note=note)
    from cnnstudio.ml.inspection import channel_order
    from cnnstudio.ml.inspection.layers import output_layer
    from cnnstudio.ml.inspection.prediction import to_probabilities

    outputs = inspector.activations(image.image)
    last = output_layer(inspector.model).name
    if last in outputs:
        raw = np.asarray(outputs[last], dtype=np.float64).reshape(1, -1)
        probabilities = to_probabilities(raw, inspector.output_activation())[0]
    else:
        probabilities = np.asarray(inspector.predict_proba(image.image))
    orders = {name: channel_order(value) for name, value in outputs.items() if np.ndim(value) >= 2}
    return Analysis(image, probabilities, outputs, orders, note)


def analyse_picture(workspace: Workspace, request: PictureRequest, progress: Progress) -> Analysis:
    """A user's picture or drawing prepared as the training data were, then analysed."""
    image, note = prepare_picture(workspace, request.raw)
    return _analysis(workspace, InputImage(image, request.title, None, request.origin), request.with_maps, note)


def prepare_picture(workspace: Workspace, raw: np.ndarray) -> tuple[np.ndarray, str]:
    """The network input for a user's picture, and a note when it could not be done as in training."""
    shape = _image_input_shape(workspace)
    raw = np.asarray(raw)
    if raw.dtype != np.uint8:
        raise UserError("pictures must be 8-bit images")
    try:
        dataset = workspace.dataset(workspace.facts.project)
        prepared = dataset.prepare(raw[None])[0]
    except UserError as exc:
        return _plain_conversion(raw, shape), f"scaled to 0–1 only: {exc}"
    if tuple(prepared.shape) != tuple(shape):
        what = "x".join(map(str, prepared.shape))
        return _plain_conversion(raw, shape), f"scaled to 0–1 only: the dataset's images are {what}"
    return prepared, _conversion_note(raw, shape)


def _conversion_note(raw: np.ndarray, shape: tuple) -> str:
    """How a picture was changed to fit the network ("" when it already fitted)."""
    height, width = raw.shape[:2]
    colour = "colour" if raw.ndim == 3 and raw.shape[2] >= 3 else "grey"
    wanted = "grey" if shape[2] == 1 else "colour" if shape[2] == 3 else f"{shape[2]} channels"
    if (height, width) == tuple(shape[:2]) and colour == wanted:
        return ""
    return f"converted from {width}×{height} {colour} to {shape[1]}×{shape[0]} {wanted}"


def _image_input_shape(workspace: Workspace) -> tuple[int, int, int]:
    shape = tuple(workspace.require_model().input_shape)
    if len(shape) != 3 or any(s is None for s in shape):
        wanted = "x".join("?" if s is None else str(s) for s in shape)
        raise UserError(f"this network's input is {wanted}, not an image of fixed size; "
                        "pictures and drawings need an input like 28x28x1")
    return shape  # type: ignore[return-value]


def _plain_conversion(raw: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Without the dataset: grey or colour as the network wants, resized, values scaled to [0, 1]."""
    import tensorflow as tf

    x = raw[..., None] if raw.ndim == 2 else raw[..., :3]
    x = tf.convert_to_tensor(x.astype(np.float32) / 255.0)
    if shape[2] == 1 and x.shape[-1] == 3:
        x = tf.image.rgb_to_grayscale(x)
    elif shape[2] == 3 and x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    elif x.shape[-1] != shape[2]:
        x = tf.repeat(tf.reduce_mean(x, axis=-1, keepdims=True), shape[2], axis=-1)
    x = tf.image.resize(x, shape[:2], method="bilinear", antialias=True)
    return np.clip(x.numpy(), 0.0, 1.0).astype(np.float32)


# -- the dataset ------------------------------------------------------------------------------
def dataset_index(workspace: Workspace, request: DatasetIndexRequest, progress: Progress) -> DatasetIndex:
    """Class names and labels of the validation and training splits of the model's project."""
    dataset = workspace.dataset(workspace.facts.project)
    labels = {split: dataset.labels(split) for split in BROWSED_SPLITS}
    return DatasetIndex(dataset.name, tuple(dataset.class_names), labels, tuple(dataset.input_shape))


def analyse_dataset_image(workspace: Workspace, request: DatasetImageRequest, progress: Progress) -> Analysis:
    """Image `index` of a split, analysed."""
    split, index = request.split, int(request.index)
    dataset = workspace.dataset(workspace.facts.project)
    images, labels = dataset.images(split, [index])
    label = int(labels[0])
    name = dataset.class_names[label] if 0 <= label < len(dataset.class_names) else str(label)
    title = f"{SPLIT_WORDS.get(split, split)} image {index} ({name})"
    return _analysis(workspace, InputImage(images[0], title, label, "dataset", split, index), request.with_maps)


def misclassified(workspace: Workspace, request: MisclassifiedRequest, progress: Progress) -> Misclassified:
    """Every image of the split the current model gets wrong (one pass over the split)."""
    split = request.split
    inspector = workspace.require_model()
    x, y = workspace.dataset(workspace.facts.project).arrays(split)
    if not len(y):
        return Misclassified(split, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    probabilities = np.asarray(inspector.predict_proba(x))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1).astype(np.float32)
    return Misclassified(split, np.flatnonzero(predicted != y), predicted, confidence)
