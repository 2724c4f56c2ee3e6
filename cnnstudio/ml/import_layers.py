"""Checking an imported network against Keras itself, layer by layer, and finding the file's weights.

`import_graph` reads the file's description without TensorFlow; here every node's
parameters are handed to Keras, and the configuration Keras builds from them must
equal the file's (so no setting is silently lost). Initializers matter only for
training from scratch: settings CNN Studio does not keep become notes.
"""

from __future__ import annotations

from typing import Any

import keras

from ..core.catalog import get_spec
from ..core.catalog.spec import AXIS, Param, ParamError
from .builder import keras_arguments, layer_class
from .import_graph import GraphReader, grouped_settings, same, short, snake, tuples

# Settings that do not change what a layer computes from its weights.
_NOT_COMPARED = {"name", "trainable", "dtype", "seed"}


def find_layer(model: keras.Model, path: tuple[str, ...]) -> keras.layers.Layer:
    """The layer at `path` (nested model names first, then the layer's name) in a loaded model."""
    layer: Any = model
    for name in path:
        layer = layer.get_layer(name)
    return layer


def check_against_keras(reader: GraphReader, model: keras.Model) -> tuple[list[str], list[str]]:
    """(problems, notes): settings Keras would not rebuild from the node's parameters, and initializer notes."""
    settings: list[tuple[str, str, str]] = []
    notes: list[str] = []
    nodes = {node.id: node for node in reader.nodes}
    for node_id, source in reader.sources.items():
        layer = find_layer(model, source.path)
        type_name = nodes[node_id].type
        if layer_class(type_name) is not type(layer):
            settings.append((type_name, layer.name, "a class of the same name defined elsewhere"))
            continue
        config = layer.get_config()
        params = nodes[node_id].params
        built = _keras_config(type_name, params)
        spec = get_spec(type_name)
        for key, value in config.items():
            if key in _NOT_COMPARED or key.endswith("_initializer") or key not in built:
                continue
            expected = built[key]
            if key in spec.param_names and spec.param(key).kind == AXIS:  # [-1] and -1 are the same axis
                value, expected = _axis_value(spec.param(key), value), _axis_value(spec.param(key), expected)
            if not same(value, expected):
                settings.append((type_name, layer.name, f"{key}={short(value)}, which CNN Studio cannot represent "
                                                        "yet"))
        notes += [f"Layer '{node_id}': {text}." for text in _initializer_notes(config, built)]
    return grouped_settings(settings), notes


def _initializer_notes(config: dict[str, Any], built: dict[str, Any]) -> list[str]:
    notes = []
    for key, value in config.items():
        if not key.endswith("_initializer") or not isinstance(value, dict):
            continue
        class_name = str(value.get("class_name"))
        if isinstance(built.get(key), dict) and built[key].get("class_name") != class_name:
            notes.append(f"{key.replace('_', ' ')} {class_name} is not offered; training from scratch uses "
                         f"{built[key].get('class_name')}")
            continue
        standard = keras.initializers.get(snake(class_name)).get_config() if _known(class_name) else {}
        settings = value.get("config") or {}
        if any(k != "seed" and not same(v, standard.get(k)) for k, v in settings.items()):
            notes.append(f"{key.replace('_', ' ')} {class_name} keeps Keras's standard settings for "
                         "training from scratch")
    return notes


def _known(class_name: str) -> bool:
    try:
        keras.initializers.get(snake(class_name))
    except ValueError:
        return False
    return True


def _axis_value(param: Param, value: Any) -> Any:
    try:
        return param.normalize(tuples(value))
    except ParamError:
        return value


def _keras_config(type_name: str, params: dict[str, Any]) -> dict[str, Any]:
    return layer_class(type_name)(**keras_arguments(type_name, params)).get_config()
