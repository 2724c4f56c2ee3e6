"""Gradients of a class score, with respect to the input image or to a layer's feature maps.

The score is the one *before* the final softmax or sigmoid (heads.py says why and how).
A single sigmoid unit scores "yes" against an implicit "no": it is treated as the two
scores (0, s), whose softmax is exactly (1 - sigmoid(s), sigmoid(s)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import UserError

from .cache import submodels_for
from .heads import Stage, output_activation
from .heatmap import target_classes
from .prediction import softmax, to_probabilities


@dataclass
class ClassGradients:
    classes: np.ndarray  # (N,) the class each gradient is of
    probabilities: np.ndarray  # (N, K)
    gradients: np.ndarray  # (N, *shape of the input or of the layer's output)
    values: np.ndarray | None  # the layer's output, when gradients are with respect to a layer


def class_gradients(
    model: keras.Model,
    x: np.ndarray,
    class_index: int | Sequence[int] | np.ndarray | None = None,
    layer: str | None = None,
) -> ClassGradients:
    """d score[class] / d input (layer None) or / d layer output, for a batch `x`."""
    subs = submodels_for(model)
    stage = subs.scores()
    stage.sync()
    sub = subs.towards(stage) if layer is None else subs.with_scores(layer)
    images = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        if layer is None:
            values, head_input = images, sub(images, training=False)
        else:
            values, head_input = sub(images, training=False)
        scores, raw = class_scores(stage, head_input, model)
        classes = target_classes(scores.numpy(), class_index)
        picked = tf.reduce_sum(scores * tf.one_hot(classes, scores.shape[-1]), axis=-1)
    gradients = tape.gradient(picked, values)
    if gradients is None:  # the score does not depend on this layer at all
        gradients = tf.zeros_like(values)
    return ClassGradients(
        classes,
        probabilities_from_scores(raw.numpy(), stage, model),
        gradients.numpy(),
        None if layer is None else values.numpy(),
    )


def class_scores(stage: Stage, head_input: tf.Tensor, model: keras.Model) -> tuple[tf.Tensor, tf.Tensor]:
    """(N, K) scores to differentiate, and the output layer's values before its activation."""
    raw = stage.apply(head_input)
    width = int(np.prod(raw.shape[1:])) if None not in raw.shape[1:] else -1
    raw = tf.reshape(raw, (-1, width))  # keeps the class count known when compiled
    if raw.shape[-1] == 1 and (stage.removed or output_activation(model)) == "sigmoid":
        return tf.concat([tf.zeros_like(raw), raw], axis=-1), raw
    return raw, raw


def probabilities_from_scores(raw: np.ndarray, stage: Stage, model: keras.Model) -> np.ndarray:
    """The probabilities the network outputs, from its values before the final activation."""
    raw = raw.astype(np.float64)
    if stage.removed == "softmax":
        return softmax(raw).astype(np.float32)
    if stage.removed == "sigmoid":
        return to_probabilities(1.0 / (1.0 + np.exp(-raw)), "sigmoid")
    return to_probabilities(raw, output_activation(model))


def batched_gradients(
    model: keras.Model,
    x: np.ndarray,
    class_index: int | Sequence[int] | np.ndarray | None,
    batch_size: int,
    layer: str | None = None,
) -> ClassGradients:
    """`class_gradients` in slices of `batch_size` images (class_index: None, one, or one per image)."""
    per_image = np.ndim(class_index) > 0
    if per_image and len(np.ravel(class_index)) != len(x):
        raise UserError(f"{len(np.ravel(class_index))} classes were given for {len(x)} images")
    parts = [
        class_gradients(model, x[i:i + batch_size],
                        np.ravel(class_index)[i:i + batch_size] if per_image else class_index, layer)
        for i in range(0, len(x), batch_size)
    ]
    return ClassGradients(
        np.concatenate([p.classes for p in parts]),
        np.concatenate([p.probabilities for p in parts]),
        np.concatenate([p.gradients for p in parts]),
        None if layer is None else np.concatenate([p.values for p in parts]),
    )
