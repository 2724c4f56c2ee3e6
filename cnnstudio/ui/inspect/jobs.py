"""The work the inspection views hand to the ML thread, and the plain results that come back.

Every function here runs on the ML thread (through ``window.workspace``) and takes the
`Workspace` first; TensorFlow is imported inside the functions, never when this module
loads, so the GUI thread can import it freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError

from ..inspect_area import InputImage

SPLIT_WORDS = {"validation": "validation", "train": "training"}


@dataclass(frozen=True)
class LayerKernels:
    """A convolution layer's filters, every input channel kept: `kernels` (n, kh, kw, in)."""

    layer: str
    layer_type: str
    kernels: np.ndarray
    biases: np.ndarray | None


@dataclass(frozen=True)
class Analysis:
    """What the network makes of one input: class probabilities and (if asked) every layer's output."""

    input: InputImage
    probabilities: np.ndarray | None
    activations: dict[str, np.ndarray] | None = None  # layer -> output without the batch axis
    orders: dict[str, np.ndarray] = field(default_factory=dict)  # spatial layer -> busiest channels first
    note: str = ""  # e.g. how a user's picture was converted


@dataclass(frozen=True)
class DatasetIndex:
    """What the browser needs to know of the project's dataset (no images)."""

    name: str
    class_names: tuple[str, ...]
    labels: dict[str, np.ndarray]  # split -> labels, in split order
    input_shape: tuple


@dataclass(frozen=True)
class Misclassified:
    """Images of a split the current model gets wrong: positions, predicted classes, confidence."""

    split: str
    indices: np.ndarray
    predicted: np.ndarray  # predicted class of every image of the split
    confidence: np.ndarray  # probability of the predicted class, every image of the split


# -- filters ----------------------------------------------------------------------------------
def layer_kernels(ws: Any, layer: str) -> LayerKernels:
    """The per-channel kernels and biases of convolution layer `layer` of the current model."""
    inspector = ws.require_model()
    found = inspector.filters(layer, "per_channel")
    layer_type = next((f.type for f in ws.facts.layers if f.name == layer), "")
    return LayerKernels(layer, layer_type, np.array(found.kernels), None if found.biases is None
                        else np.array(found.biases))


# -- inputs and what the network makes of them ------------------------------------------------
def analyse(ws: Any, image: InputImage, with_maps: bool, note: str = "") -> Analysis:
    """Probabilities for `image`; with `with_maps`, every layer's output too (one forward pass)."""
    inspector = ws.require_model()
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


def from_picture(ws: Any, raw: np.ndarray, title: str, origin: str, with_maps: bool) -> Analysis:
    """A user's picture or drawing (uint8, (H, W) or (H, W, C), any size) prepared as the training
    data were, then analysed."""
    image, note = prepare_picture(ws, raw)
    return analyse(ws, InputImage(image, title, None, origin), with_maps, note)


def prepare_picture(ws: Any, raw: np.ndarray) -> tuple[np.ndarray, str]:
    """The network input for a user's picture, and a note when it could not be done as in training."""
    shape = _image_input_shape(ws)
    raw = np.asarray(raw)
    if raw.dtype != np.uint8:
        raise UserError("pictures must be 8-bit images")
    try:
        dataset = ws.dataset(ws.facts.project)
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


def _image_input_shape(ws: Any) -> tuple[int, int, int]:
    shape = tuple(ws.require_model().input_shape)
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
def dataset_index(ws: Any) -> DatasetIndex:
    """Class names and labels of the validation and training splits of the model's project."""
    dataset = ws.dataset(ws.facts.project)
    labels = {split: dataset.labels(split) for split in SPLIT_WORDS}
    return DatasetIndex(dataset.name, tuple(dataset.class_names), labels, tuple(dataset.input_shape))


def dataset_image(ws: Any, split: str, index: int, with_maps: bool) -> Analysis:
    """Image `index` of a split, analysed."""
    dataset = ws.dataset(ws.facts.project)
    images, labels = dataset.images(split, [index])
    label = int(labels[0])
    name = dataset.class_names[label] if 0 <= label < len(dataset.class_names) else str(label)
    title = f"{SPLIT_WORDS.get(split, split)} image {index} ({name})"
    return analyse(ws, InputImage(images[0], title, label, "dataset", split, int(index)), with_maps)


def misclassified(ws: Any, split: str) -> Misclassified:
    """Every image of `split` the current model gets wrong (one pass over the split)."""
    inspector = ws.require_model()
    x, y = ws.dataset(ws.facts.project).arrays(split)
    if not len(y):
        return Misclassified(split, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    probabilities = np.asarray(inspector.predict_proba(x))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1).astype(np.float32)
    return Misclassified(split, np.flatnonzero(predicted != y), predicted, confidence)
