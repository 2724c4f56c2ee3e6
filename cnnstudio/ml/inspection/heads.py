"""Class scores before the softmax, and any layer's values before its activation.

Why: the gradient of a softmax probability is a poor explanation. A class's
probability can rise because the *other* scores fall, and a confident (saturated)
softmax has almost no gradient at all. So saliency, Grad-CAM and class
visualisation differentiate the score *before* the softmax (or sigmoid), and
activation maximization pushes a filter's value before its ReLU (a ReLU that is
off has no gradient to follow).

How: a separate Softmax / Activation / ReLU layer is skipped (its input is the
value wanted). A layer with a built-in activation (``Dense(10, activation="softmax")``)
is applied a second time through a copy of its configuration with activation
'linear'; the copy's weights are copied from the real layer every time the copy is
used (`Stage.sync`), so it never goes stale after more training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from .layers import output_layer

PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")
ACTIVATION_LAYERS = (
    keras.layers.Activation, keras.layers.Softmax, keras.layers.ReLU,
    keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU,
)  # fmt: skip


def activation_name(layer: keras.layers.Layer) -> str | None:
    """'softmax', 'relu', 'linear', ... for a layer's activation; None if it has none."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    function = getattr(layer, "activation", None)
    if function is None:
        return None
    return getattr(function, "__name__", type(function).__name__)


def output_activation(model: keras.Model) -> str | None:
    """The activation of the model's output layer: 'softmax', 'sigmoid', 'linear', ... or None."""
    return activation_name(output_layer(model))


def _identity(x: Any) -> Any:
    return x


class LinearCopy:
    """A layer applied without its activation, always with the real layer's current weights."""

    def __init__(self, layer: keras.layers.Layer) -> None:
        config = dict(layer.get_config())
        config["activation"] = "linear"
        config["name"] = f"{layer.name}_without_activation"
        self.layer = layer
        self.copy = type(layer).from_config(config)
        self.copy.build(tuple(layer.input.shape))
        self.sync()

    def sync(self) -> None:
        self.copy.set_weights(self.layer.get_weights())

    def __call__(self, x: Any) -> Any:
        return self.copy(x)


@dataclass
class Stage:
    """A value inside the network: the symbolic `tensor` a sub-model outputs, then `apply`.

    `removed` names the activation that was left out ('softmax', 'relu', ...), or None.
    """

    tensor: Any
    apply: Callable[[Any], Any]
    removed: str | None = None

    def sync(self) -> None:
        """Copy the real layer's weights into the copy (call before each use)."""
        if isinstance(self.apply, LinearCopy):
            self.apply.sync()


def before_activation(layer: keras.layers.Layer, only: tuple[str, ...] | None = None) -> Stage:
    """The layer's values before its activation (only if it is one of `only`, when given)."""
    name = activation_name(layer)
    if name in (None, "linear") or (only is not None and name not in only):
        return Stage(layer.output, _identity)
    if isinstance(layer, ACTIVATION_LAYERS):
        return Stage(layer.input, _identity, name)
    try:
        return Stage(layer.input, LinearCopy(layer), name)
    except Exception:  # a layer Keras cannot copy from its config: keep its real output
        return Stage(layer.output, _identity)


def score_stage(model: keras.Model) -> Stage:
    """The class scores before a final softmax or sigmoid (the model's output if it has neither)."""
    layer = output_layer(model)
    stage = before_activation(layer, only=PROBABILITY_ACTIVATIONS)
    if stage.removed is None:
        return Stage(model.outputs[0], _identity)
    return stage
