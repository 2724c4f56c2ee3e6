"""Sub-models that share a network's layers, built once per model and kept.

Building a Keras sub-model costs far more than running it on one image, and the
inspection views ask again on every click. The sub-models share the network's
layers, so they always see its current weights: nothing here needs rebuilding
after more training. A new Keras model (the network was edited and rebuilt) gets
a fresh set. Only the ML thread may use these (TensorFlow is not thread-safe).
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import tensorflow as tf

from cnnstudio.core.errors import UserError

from .heads import Stage, before_activation, score_stage
from .layers import get_layer, layer_output


class SubModels:
    """The cached sub-models of one Keras model (holds its layers, not the model itself).

    Sub-models take every input of the model (one tensor, or a list for several inputs)."""

    def __init__(self, model: keras.Model) -> None:
        if not model.inputs:
            raise UserError("the model has no defined input yet; build it (e.g. start it with keras.Input) first")
        self.inputs = list(model.inputs)
        self.input = self.inputs[0] if len(self.inputs) == 1 else self.inputs
        self.input_shapes = [tuple(tensor.shape[1:]) for tensor in self.inputs]
        self.image_shape = self.input_shapes[0]  # the first input's shape (the image, for one-input networks)
        self.layers = list(model.layers)
        self._model_ref = weakref.ref(model)
        self._built: dict[Any, Any] = {}

    @property
    def model(self) -> keras.Model:
        model = self._model_ref()
        if model is None:  # pragma: no cover - callers always hold the model
            raise RuntimeError("the model was released")
        return model

    def cached(self, key: Any, build: Any) -> Any:
        """The object stored under `key`, built by `build()` the first time."""
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def layer(self, name: str) -> keras.layers.Layer:
        return get_layer(self.model, name)

    def features(self, names: tuple[str, ...]) -> keras.Model:
        """A model from the input to the outputs of the named layers (in that order)."""
        def build() -> keras.Model:
            outputs = [layer_output(self.layer(name)) for name in names]
            return keras.Model(self.input, outputs, name="features")

        return self.cached(("features", names), build)

    def forward(self) -> Any:
        """The model's first output as a compiled function of an input batch (one argument per model
        input): slower to make (about a second), about three times faster to run than calling the model
        eagerly."""
        def build() -> Any:
            model = self.model
            specs = [tf.TensorSpec((None, *shape), tf.float32) for shape in self.input_shapes]

            @tf.function(input_signature=specs)
            def run(*batches: tf.Tensor) -> tf.Tensor:
                outputs = model(batches[0] if len(batches) == 1 else list(batches), training=False)
                return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

            return run

        return self.cached("forward", build)

    def scores(self) -> Stage:
        """The class scores before the softmax (see heads.py)."""
        return self.cached("scores", lambda: score_stage(self.model))

    def pre_activation(self, name: str) -> Stage:
        """Layer `name`'s values before its activation."""
        return self.cached(("pre", name), lambda: before_activation(self.layer(name)))

    def towards(self, *stages: Stage) -> keras.Model:
        """A model from the input to the tensors the stages read."""
        key = ("towards", tuple(id(stage.tensor) for stage in stages))
        return self.cached(key, lambda: keras.Model(self.input, [s.tensor for s in stages], name="towards"))

    def with_scores(self, name: str) -> keras.Model:
        """A model from the input to layer `name`'s output and the tensor the scores are made from."""
        def build() -> keras.Model:
            return keras.Model(self.input, [layer_output(self.layer(name)), self.scores().tensor], name="with_scores")

        return self.cached(("with_scores", name), build)


_registry: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def submodels_for(model: keras.Model) -> SubModels:
    """The cached sub-models of `model`, made on first use and dropped with the model."""
    found = _registry.get(model)
    if found is None:
        found = SubModels(model)
        _registry[model] = found
    return found
