"""Reading a loaded Keras model's graph into network nodes and edges (for the importer).

`GraphReader` walks Sequential and functional models, flattening nested ones, and turns
each layer's `get_config()` into catalog parameters: only values that differ from
Keras's defaults are kept, and the layer Keras builds from them must have the same
configuration as the file's (so nothing is silently lost).
"""

from __future__ import annotations

import math
import re
from typing import Any

import keras

from ..core.catalog import CATALOG, ParamError
from ..core.catalog.spec import INTS, PADDING, REGULARIZER, LayerSpec, Param
from ..core.network import ID_PATTERN, Network, Node
from .builder import keras_arguments

MODEL_CLASSES = ("Sequential", "Functional", "Model")
STRUCTURAL_CLASSES = ("InputLayer",)
# Settings that do not change what a layer computes from its weights; differences become notes.
_NOT_COMPARED = {"name", "trainable", "dtype", "seed"}
_REGULARIZERS = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}


def unsupported_reason(entry: dict[str, Any]) -> str | None:
    """Why a layer entry of a model description cannot become a node ("LSTM 'lstm'"), or None."""
    class_name = str(entry.get("class_name"))
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    name = str(entry.get("name") or config.get("name") or class_name.lower())
    module = entry.get("module")
    if isinstance(module, str) and ".ops." in module:
        return f"operation {class_name} '{name}' (a keras.ops call in the model code; use the matching layer instead)"
    if class_name in MODEL_CLASSES and "layers" not in config:
        return f"{class_name} '{name}' (a model class defined in code)"
    if class_name not in CATALOG:
        return f"{class_name} '{name}'"
    registered = entry.get("registered_name")
    if (isinstance(module, str) and not module.startswith("keras")) or (registered and registered != class_name):
        return f"{class_name} '{name}' (a custom layer of the same name)"
    return None


class GraphReader:
    """Collects the nodes and edges of a model, nested models flattened."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []
        self.layers: dict[str, keras.layers.Layer] = {}  # node id -> the file's layer (weights)
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.input_ids: list[str] = []
        self.output_ids: list[str] = []
        self.reduced_precision = False
        self._renamed: list[tuple[str, str]] = []
        self._frozen: list[str] = []

    def read_model(self, model: keras.Model) -> None:
        self.output_ids = self._model(model, None, "")
        feeding = sorted({src for src, _ in self.edges} & set(self.output_ids))
        if feeding:
            self.problems.append(f"the output of '{feeding[0]}' also feeds other layers (in CNN Studio the outputs "
                                 "are the last layers)")
        if self._renamed:
            shown = ", ".join(f"'{a}' -> '{b}'" for a, b in self._renamed[:5])
            more = f" and {len(self._renamed) - 5} more" if len(self._renamed) > 5 else ""
            self.notes.append(f"Renamed {len(self._renamed)} layer(s) to valid, unique ids: {shown}{more}.")
        if self._frozen:
            self.notes.append(f"{len(self._frozen)} layer(s) were frozen in the file ({', '.join(self._frozen[:5])}"
                              f"{', ...' if len(self._frozen) > 5 else ''}); in CNN Studio every layer trains.")

    def network(self) -> Network:
        """The nodes in order: inputs and outputs in the model's own order (it decides theirs in Keras)."""
        order = list(self.nodes)
        for wanted in (self.input_ids, self.output_ids):
            slots = [i for i, node in enumerate(order) if node.id in wanted]
            placed = sorted((order[i] for i in slots), key=lambda node: wanted.index(node.id))
            for i, node in zip(slots, placed, strict=True):
                order[i] = node
        return Network.from_parts(order, self.edges)

    # -- models ---------------------------------------------------------------------------
    def _model(self, model: keras.Model, feeds: list[str] | None, prefix: str) -> list[str]:
        config = model.get_config()
        if isinstance(model, keras.Sequential):
            return self._sequential(model, config, feeds, prefix)
        return self._functional(model, config, feeds, prefix)

    def _sequential(self, model: keras.Sequential, config: dict, feeds: list[str] | None, prefix: str) -> list[str]:
        by_name = {layer.name: layer for layer in model.layers}
        current = feeds
        for entry in config.get("layers", []):
            if entry.get("class_name") == "InputLayer":
                if current is None:
                    current = [self._input(entry["config"], prefix)]
                continue
            if current is None:
                shape = config.get("build_input_shape")
                if shape is None:
                    self.problems.append(f"the Sequential model '{model.name}' was never built, so its input "
                                         "shape is unknown; build it (model.build(...)) and save it again")
                    return []
                current = [self._input({"name": "input", "batch_shape": list(shape)}, prefix)]
            layer = by_name[entry["config"]["name"] if "config" in entry else entry["name"]]
            current = self._call(layer, current, model.name)
        return current or []

    def _functional(self, model: keras.Model, config: dict, feeds: list[str] | None, prefix: str) -> list[str]:
        operations = {op.name: op for op in model.operations}
        tensors: dict[tuple[str, int], str] = {}  # (layer, output index): each layer is called once
        inputs = _triples(config.get("input_layers"))
        if feeds is not None and len(feeds) != len(inputs):
            self.problems.append(f"the nested model '{model.name}' gets {len(feeds)} inputs but has {len(inputs)}")
            return []
        for entry in config.get("layers", []):
            name = entry["name"]
            if entry.get("class_name") == "InputLayer":
                index = next((i for i, t in enumerate(inputs) if t[0] == name), None)
                if feeds is not None and index is not None:
                    tensors[(name, 0)] = feeds[index]
                else:
                    tensors[(name, 0)] = self._input(entry["config"], prefix)
                continue
            inbound = entry.get("inbound_nodes") or []
            if len(inbound) != 1:
                self.problems.append(f"layer '{name}' is used {len(inbound)} times (shared weights)")
                continue
            sources = self._sources(name, inbound[0], tensors)
            if sources is None:
                continue
            for index, node_id in enumerate(self._call(operations[name], sources, model.name, inbound[0])):
                tensors[(name, index)] = node_id
        outputs = []
        for name, _, index in _triples(config.get("output_layers")):
            if (name, index) in tensors:
                outputs.append(tensors[(name, index)])
            elif tensors:
                self.problems.append(f"the output of '{name}' could not be traced")
        return outputs

    def _sources(self, name: str, call: dict, tensors: dict) -> list[str] | None:
        histories: list[tuple[str, int]] = []
        if not _collect(call.get("args", []), histories):
            self.problems.append(f"layer '{name}' is called with arguments other than tensors")
            return None
        for key, value in (call.get("kwargs") or {}).items():
            if key not in ("training", "mask") and value is not None:
                self.problems.append(f"layer '{name}' is called with {key}={value!r}")
                return None
        missing = [h for h in histories if h not in tensors]
        if missing:
            self.problems.append(f"layer '{name}' takes an input CNN Studio cannot trace ('{missing[0][0]}')")
            return None
        return [tensors[h] for h in histories]

    def _call(self, layer: Any, sources: list[str], owner: str, call: dict | None = None) -> list[str]:
        """Add `layer` fed by `sources`; a nested model is flattened. The ids of its outputs."""
        if isinstance(layer, keras.Model):
            if call and (call.get("kwargs") or {}).get("training") is False:
                self.notes.append(f"The file ran '{layer.name}' with training=False (frozen batch statistics); "
                                  "in CNN Studio its layers train like the others.")
            before = len(self.nodes)
            outputs = self._model(layer, sources, layer.name)
            self.notes.append(f"Flattened the nested model '{layer.name}' ({len(self.nodes) - before} layers) "
                              "into the network.")
            return outputs
        return [self._layer(layer, sources, owner)]

    # -- layers ---------------------------------------------------------------------------
    def _input(self, config: dict, prefix: str) -> str:
        shape = list(config.get("batch_shape") or [None])[1:]
        node_id = self._unique(str(config.get("name") or "input"), prefix)
        self.nodes.append(Node(node_id, "Input", {"shape": shape}))
        self.input_ids.append(node_id)
        return node_id

    def _layer(self, layer: keras.layers.Layer, sources: list[str], owner: str) -> str:
        type_name = type(layer).__name__
        spec = CATALOG.get(type_name)
        node_id = self._unique(layer.name, owner)
        if spec is None or getattr(keras.layers, type_name, None) is not type(layer):
            self.problems.append(f"{type_name} '{layer.name}' is not supported")
            return node_id
        params, problems, notes = layer_params(spec, layer)
        self.problems += [f"{type_name} '{layer.name}' uses {p}" for p in problems]
        self.notes += [f"Layer '{node_id}': {n}." for n in notes]
        if not layer.trainable:
            self._frozen.append(node_id)
        policy = getattr(getattr(layer, "dtype_policy", None), "name", "float32")
        if policy != "float32":
            self.reduced_precision = True
            self.notes.append(f"Layer '{node_id}' computed in {policy} in the file; CNN Studio computes in float32.")
        self.nodes.append(Node(node_id, type_name, params))
        self.layers[node_id] = layer
        for src in sources:
            if (src, node_id) in self.edges:
                self.problems.append(f"layer '{layer.name}' takes the output of '{src}' twice")
            self.edges.append((src, node_id))
        return node_id

    def _unique(self, name: str, prefix: str) -> str:
        clean = re.sub(r"\W", "_", name) or "layer"
        if not ID_PATTERN.match(clean):
            clean = "_" + clean
        taken = {node.id for node in self.nodes}
        candidate = clean
        if candidate in taken and prefix:
            candidate = f"{re.sub(r'[^A-Za-z0-9_]', '_', prefix)}_{clean}"
        stem, n = candidate, 1
        while candidate in taken:
            candidate = f"{stem}_{n}"
            n += 1
        if candidate != name:
            self._renamed.append((name, candidate))
        return candidate


def layer_params(spec: LayerSpec, layer: keras.layers.Layer) -> tuple[dict[str, Any], list[str], list[str]]:
    """(catalog parameters with only non-default values, settings that cannot be kept, notes)."""
    config = layer.get_config()
    problems: list[str] = []
    notes: list[str] = []
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in config:
            if param.required:
                problems.append(f"no '{param.name}'")
            continue
        try:
            value = _catalog_value(param, config[param.name], notes)
        except ParamError as exc:
            problems.append(str(exc))
            continue
        if value is not _SKIP:
            values[param.name] = value
    if problems:
        return {}, problems, notes
    required = {p.name: values[p.name] for p in spec.params if p.required and p.name in values}
    try:
        defaults = spec.resolve(required)
    except ParamError as exc:
        return {}, [str(exc)], notes
    params = {name: _compact(spec.param(name), value) for name, value in values.items()
              if spec.param(name).required or not _same(value, defaults[name])}
    reference = _keras_config(spec.type, params)
    for name in [n for n in params if spec.param(n).default is None and not spec.param(n).required]:
        trial = {k: v for k, v in params.items() if k != name}
        if _same_config(_keras_config(spec.type, trial), reference):  # Keras derives it (strides = pool size)
            params = trial
    built = _keras_config(spec.type, params)
    for key, value in config.items():
        if key in _NOT_COMPARED or key.endswith("_initializer") or key not in built:
            continue
        if not _same(value, built[key]):
            problems.append(f"{key}={_short(value)}, which CNN Studio cannot represent yet")
    if config.get("seed") is not None:
        notes.append(f"its random seed {config['seed']} is not kept")
    return params, problems, notes


_SKIP = object()


def _catalog_value(param: Param, value: Any, notes: list[str]) -> Any:
    """A config value in the catalog's terms (normalised), or _SKIP to leave Keras's default."""
    if param.name.endswith("_initializer"):
        return _initializer(param, value, notes)
    if param.kind == REGULARIZER:
        if value is None:
            return None
        if isinstance(value, dict) and value.get("class_name") in _REGULARIZERS:
            keys = _REGULARIZERS[value["class_name"]]
            return param.normalize({k: float(value.get("config", {}).get(k, 0.0)) for k in keys})
        raise ParamError(f"'{param.name}' {_short(value)}, a regularizer CNN Studio does not offer")
    if param.name == "activation":
        if not isinstance(value, str):
            raise ParamError(f"'activation' {_short(value)}, a custom activation function")
        if value == "linear" and param.default is None:
            value = None
    if isinstance(value, list):
        value = _tuples(value)
    return param.normalize(value)


def _initializer(param: Param, value: Any, notes: list[str]) -> Any:
    """Initializers matter only for training from scratch: unknown ones become a note."""
    class_name = value.get("class_name") if isinstance(value, dict) else value
    name = _snake(str(class_name)) if isinstance(value, dict) else str(value)
    if name not in param.choices:
        notes.append(f"{param.name.replace('_', ' ')} {class_name} is not offered; training from scratch uses "
                     f"{param.default}")
        return _SKIP
    settings = value.get("config") or {} if isinstance(value, dict) else {}
    standard = keras.initializers.get(name).get_config()
    if any(k != "seed" and not _same(v, standard.get(k)) for k, v in settings.items()):
        notes.append(f"{param.name.replace('_', ' ')} {class_name} keeps Keras's standard settings for "
                     "training from scratch")
    return name


def _keras_config(type_name: str, params: dict[str, Any]) -> dict[str, Any]:
    return getattr(keras.layers, type_name)(**keras_arguments(type_name, params)).get_config()


def _same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(_same(a.get(k), b.get(k)) for k in set(a) | set(b) if k != "name")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a == b


def _compact(param: Param, value: Any) -> Any:
    """JSON-ready and short, as a person would write it: (3, 3) -> 3, ((1, 1), (1, 1)) -> 1."""
    if param.kind in (INTS, PADDING) and isinstance(value, tuple) and value and all(v == value[0] for v in value):
        first = value[0]
        if param.kind == INTS or (isinstance(first, tuple) and first[0] == first[1]):
            return first if param.kind == INTS else first[0]
    if param.kind == PADDING and isinstance(value, tuple) and all(a == b for a, b in value):
        return [a for a, _ in value]
    return _lists(value)


def _lists(value: Any) -> Any:
    return [_lists(v) for v in value] if isinstance(value, (list, tuple)) else value


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _short(value: Any) -> str:
    if isinstance(value, dict) and "class_name" in value:
        return str(value["class_name"])
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _triples(value: Any) -> list[tuple[str, int, int]]:
    """input_layers/output_layers: [name, 0, 0] or [[name, 0, 0], ...] -> list of tuples."""
    if not value:
        return []
    if isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value]


def _collect(value: Any, out: list[tuple[str, int]]) -> bool:
    """(layer, output index) of every tensor in call arguments; False if anything else is there."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        name, _, index = value["config"]["keras_history"]
        out.append((str(name), int(index)))
        return True
    if isinstance(value, (list, tuple)):
        return all(_collect(v, out) for v in value)
    return False
