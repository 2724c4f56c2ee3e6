"""Class probabilities, whatever the network's last layer does (softmax, sigmoid or raw scores)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .batching import Progress, in_batches
from .cache import submodels_for
from .heads import output_activation
from .layers import as_batch


def predict_proba(
    model: keras.Model, images: np.ndarray, *, batch_size: int = 256, progress: Progress | None = None
) -> np.ndarray:
    """(N, classes) probabilities; one image without a batch axis gives (classes,).

    A softmax output is returned as it is; raw scores (no activation: "logits") get a
    softmax; one sigmoid unit becomes the two columns (1 - p, p); several sigmoid units
    (independent yes/no answers) are returned as they are.
    """
    x, single = as_batch(model, images)
    if len(x) > batch_size:  # many images: compile once (about a second), then run ~3x faster
        run = submodels_for(model).forward()
        parts = in_batches(x, batch_size, lambda b: run(tf.constant(b)).numpy(), progress)
    else:
        parts = in_batches(x, batch_size, lambda b: _first_output(model(b, training=False)), progress)
    raw = np.concatenate(parts).astype(np.float64)
    raw = raw.reshape(len(raw), -1)
    probabilities = to_probabilities(raw, output_activation(model))
    return probabilities[0] if single else probabilities


def to_probabilities(outputs: np.ndarray, activation: str | None) -> np.ndarray:
    """Turn the output layer's values into probabilities, knowing its activation."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if activation == "sigmoid":
        if outputs.shape[-1] == 1:
            return np.concatenate([1.0 - outputs, outputs], axis=-1).astype(np.float32)
        return outputs.astype(np.float32)
    if activation == "softmax" or (activation != "linear" and _looks_like_probabilities(outputs)):
        return outputs.astype(np.float32)
    return softmax(outputs).astype(np.float32)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _looks_like_probabilities(outputs: np.ndarray) -> bool:
    return bool(np.all(outputs >= 0) and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))


def _first_output(outputs: object) -> np.ndarray:
    return keras.ops.convert_to_numpy(outputs[0] if isinstance(outputs, (list, tuple)) else outputs)
