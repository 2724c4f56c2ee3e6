"""A Keras model description (config.json) -> network nodes and edges, in pure Python.

`GraphReader` walks Sequential and functional models as the file describes them,
flattening nested ones, and turns each layer's settings into catalog parameters (only
values that differ from Keras's defaults are kept). It needs neither TensorFlow nor the
weights, so an imported network can be drawn within a second even for NASNetMobile's
771 layers; `import_layers` then checks every layer against Keras and takes the weights.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.blocks import Block
from ..core.catalog import CATALOG, ParamError, get_spec
from ..core.catalog.spec import INTS, PADDING, REGULARIZER, LayerSpec, Param
from ..core.network import ID_PATTERN, Network, Node
from .import_check import MODEL_CLASSES, is_operation, operation_node

_REGULARIZERS = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}
_INITIALIZER_ALIASES = {"uniform": "random_uniform", "normal": "random_normal"}
# Settings outside the catalog and the value that means "not used"; any other value cannot be kept.
# (Keys not listed here are checked against Keras itself when the weights are loaded.)
NEUTRAL_SETTINGS = {
    "kernel_constraint": None, "bias_constraint": None, "depthwise_constraint": None,
    "pointwise_constraint": None, "embeddings_constraint": None, "beta_constraint": None,
    "gamma_constraint": None, "data_format": "channels_last", "lora_rank": None, "synchronized": False,
    "use_gate": False, "sliding_window": None,
}  # fmt: skip
# Call arguments that change nothing at their default value.
_NEUTRAL_CALL = {"use_causal_mask": False, "return_attention_scores": False}


@dataclass
class LayerSource:
    """Where a node came from in the file: the path of layer names (nested models first) and its settings."""

    path: tuple[str, ...]
    class_name: str
    config: dict[str, Any] = field(default_factory=dict)


class GraphReader:
    """Collects the nodes and edges of a model description, nested models flattened."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []
        self.sources: dict[str, LayerSource] = {}  # node id -> the file's layer (for its weights)
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.input_ids: list[str] = []
        self.output_ids: list[str] = []
        self.reduced_precision = False
        self._taken: set[str] = set()
        self._edge_set: set[tuple[str, str]] = set()
        self._renamed: list[tuple[str, str]] = []
        self._frozen: list[str] = []
        self._operations: list[str] = []  # "Add -> Rescaling" for the notes
        self._settings: list[tuple[str, str, str]] = []  # (layer type, layer name, a setting CNN Studio lacks)
        self.blocks: list[Block] = []  # one per nested model
        self._members: list[list[str]] = [[]]  # what the model being read holds (a nested model: its block)

    def read_model(self, config: dict[str, Any]) -> None:
        """Read a whole model description ({"class_name": ..., "config": {...}})."""
        self.output_ids = self._model(config, None, (), "")
        self.problems += grouped_settings(self._settings)
        feeding = sorted({src for src, _ in self.edges} & set(self.output_ids))
        if feeding:
            self.problems.append(f"the output of '{feeding[0]}' also feeds other layers (in CNN Studio the outputs "
                                 "are the last layers)")
        if self._renamed:
            shown = ", ".join(f"'{a}' -> '{b}'" for a, b in self._renamed[:5])
            more = f" and {len(self._renamed) - 5} more" if len(self._renamed) > 5 else ""
            self.notes.append(f"Renamed {len(self._renamed)} layer(s) to valid, unique ids: {shown}{more}.")
        if self._operations:
            counts = ", ".join(f"{text} x{self._operations.count(text)}" for text in dict.fromkeys(self._operations))
            self.notes.append(f"{len(self._operations)} keras.ops call(s) in the model code became the layers "
                              f"that compute the same: {counts}.")
        if self._frozen:
            self.notes.append(f"{len(self._frozen)} layer(s) were frozen in the file ({', '.join(self._frozen[:5])}"
                              f"{', ...' if len(self._frozen) > 5 else ''}); they stay frozen.")

    def network(self) -> Network:
        """The nodes in order: inputs and outputs in the model's own order (it decides theirs in Keras)."""
        order = list(self.nodes)
        for wanted in (self.input_ids, self.output_ids):
            rank = {node_id: i for i, node_id in enumerate(wanted)}
            slots = [i for i, node in enumerate(order) if node.id in rank]
            placed = sorted((order[i] for i in slots), key=lambda node: rank[node.id])
            for i, node in zip(slots, placed, strict=True):
                order[i] = node
        return Network.from_parts(order, self.edges, [copy.deepcopy(b) for b in self.blocks])

    # -- models ---------------------------------------------------------------------------
    def _model(self, entry: dict, feeds: list[str] | None, path: tuple[str, ...], prefix: str) -> list[str]:
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        if entry.get("class_name") == "Sequential":
            return self._sequential(config, feeds, path, prefix)
        return self._functional(config, feeds, path, prefix)

    def _sequential(self, config: dict, feeds: list[str] | None, path: tuple[str, ...], prefix: str) -> list[str]:
        current = feeds
        name = str(config.get("name") or "sequential")
        for entry in config.get("layers", []):
            if entry.get("class_name") == "InputLayer":
                if current is None:
                    current = [self._input(entry.get("config") or {}, prefix)]
                continue
            if current is None:
                shape = config.get("build_input_shape")
                if shape is None:
                    self.problems.append(f"the Sequential model '{name}' was never built, so its input "
                                         "shape is unknown; build it (model.build(...)) and save it again")
                    return []
                current = [self._input({"name": "input", "batch_shape": list(shape)}, prefix)]
            current = self._call(entry, current, path, name)
        return current or []

    def _functional(self, config: dict, feeds: list[str] | None, path: tuple[str, ...], prefix: str) -> list[str]:
        tensors: dict[tuple[str, int], str] = {}  # (layer, output index): each layer is called once
        inputs = _triples(config.get("input_layers"))
        model_name = str(config.get("name") or "model")
        if feeds is not None and len(feeds) != len(inputs):
            self.problems.append(f"the nested model '{model_name}' gets {len(feeds)} inputs but has {len(inputs)}")
            return []
        for entry in config.get("layers", []):
            name = str(entry.get("name") or (entry.get("config") or {}).get("name"))
            if entry.get("class_name") == "InputLayer":
                index = next((i for i, t in enumerate(inputs) if t[0] == name), None)
                if feeds is not None and index is not None:
                    tensors[(name, 0)] = feeds[index]
                else:
                    tensors[(name, 0)] = self._input(entry.get("config") or {}, prefix)
                continue
            inbound = entry.get("inbound_nodes") or []
            if len(inbound) != 1:
                self.problems.append(f"layer '{name}' is used {len(inbound)} times (shared weights)")
                continue
            if is_operation(entry):
                node_id = self._operation(entry, tensors, prefix)
                if node_id is not None:
                    tensors[(name, 0)] = node_id
                continue
            sources = self._sources(name, inbound[0], tensors)
            if sources is None:
                continue
            for index, node_id in enumerate(self._call(entry, sources, path, model_name, inbound[0])):
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
            neutral = key in _NEUTRAL_CALL and value == _NEUTRAL_CALL[key]
            if key not in ("training", "mask") and value is not None and not neutral:
                self.problems.append(f"layer '{name}' is called with {key}={value!r}")
                return None
        missing = [h for h in histories if h not in tensors]
        if missing:
            self.problems.append(f"layer '{name}' takes an input CNN Studio cannot trace ('{missing[0][0]}')")
            return None
        return [tensors[h] for h in histories]

    def _call(self, entry: dict, sources: list[str], path: tuple[str, ...], owner: str,
              call: dict | None = None) -> list[str]:
        """Add the layer `entry` fed by `sources`; a nested model is flattened. The ids of its outputs."""
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = str(entry.get("name") or config.get("name"))
        if entry.get("class_name") in MODEL_CLASSES and "layers" in config:
            if call and (call.get("kwargs") or {}).get("training") is False:
                self.notes.append(f"The file ran '{name}' with training=False (frozen batch statistics); "
                                  "in CNN Studio its layers train like the others.")
            before = len(self.nodes)
            self._members.append([])
            outputs = self._model(entry, sources, (*path, name), name)
            members = self._members.pop()
            block_id = self._unique(name, "")
            self.blocks.append(Block(block_id, name, members, trainable=config.get("trainable") is not False))
            self._members[-1].append(block_id)
            self.notes.append(f"The nested model '{name}' ({len(self.nodes) - before} layers) became the block "
                              f"'{block_id}'.")
            return outputs
        return [self._layer(entry, sources, path, owner)]

    def _operation(self, entry: dict, tensors: dict, prefix: str) -> str | None:
        """A keras.ops call (x + y, x * 0.5, ops.relu(x)) as the catalog layer computing the same."""
        name = entry["name"]
        found = operation_node(entry)
        if isinstance(found, str):
            self.problems.append(f"the operation {entry.get('class_name')} '{name}' ({found})")
            return None
        type_name, params, positions = found
        args = entry["inbound_nodes"][0]["args"]
        histories = [tuple(args[i]["config"]["keras_history"]) for i in positions]
        missing = [h for h in histories if (h[0], h[2]) not in tensors]
        if missing:
            self.problems.append(f"the operation '{name}' takes an input CNN Studio cannot trace ('{missing[0][0]}')")
            return None
        node_id = self._unique(name, prefix)
        self._add(Node(node_id, type_name, params), [tensors[(h[0], h[2])] for h in histories], name)
        self._operations.append(f"{entry.get('class_name')} -> {type_name}")
        return node_id

    # -- layers ---------------------------------------------------------------------------
    def _input(self, config: dict, prefix: str) -> str:
        shape = list(config.get("batch_shape") or config.get("batch_input_shape") or [None])[1:]
        node_id = self._unique(str(config.get("name") or "input"), prefix)
        params: dict[str, Any] = {"shape": shape}
        dtype = config.get("dtype")
        if isinstance(dtype, str) and dtype != "float32" and dtype in get_spec("Input").param("dtype").choices:
            params["dtype"] = dtype
        self.nodes.append(Node(node_id, "Input", params))
        self._taken.add(node_id)
        self.input_ids.append(node_id)
        return node_id

    def _layer(self, entry: dict, sources: list[str], path: tuple[str, ...], owner: str) -> str:
        type_name = str(entry.get("class_name"))
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = str(entry.get("name") or config.get("name"))
        spec = CATALOG.get(type_name)
        node_id = self._unique(name, owner)
        if spec is None:
            self.problems.append(f"{type_name} '{name}' is not supported")
            return node_id
        if spec.call and len(sources) > 1 and sources[1] == sources[0]:
            sources = sources[:1] if len(sources) == 2 or sources[2] == sources[0] else sources
        elif spec.call and len(sources) == 3 and sources[2] == sources[1]:
            sources = sources[:2]  # the key is the value, as when it is left out
        params, problems = layer_params(spec, config)
        self._settings += [(type_name, name, p) for p in problems]
        if config.get("trainable") is False:
            self._frozen.append(node_id)
        policy = _policy_name(config.get("dtype"))
        if policy not in ("float32", None):
            self.reduced_precision = True
            self.notes.append(f"Layer '{node_id}' computed in {policy} in the file; CNN Studio computes in float32.")
        if config.get("seed") is not None:
            self.notes.append(f"Layer '{node_id}': its random seed {config['seed']} is not kept.")
        self._add(Node(node_id, type_name, params, trainable=config.get("trainable") is not False), sources, name)
        self.sources[node_id] = LayerSource((*path, name), type_name, config)
        return node_id

    def _add(self, node: Node, sources: list[str], name: str) -> None:
        self.nodes.append(node)
        self._members[-1].append(node.id)
        for src in sources:
            if (src, node.id) in self._edge_set:
                self.problems.append(f"layer '{name}' takes the output of '{src}' twice")
            self._edge_set.add((src, node.id))
            self.edges.append((src, node.id))

    def _unique(self, name: str, prefix: str) -> str:
        clean = re.sub(r"\W", "_", name) or "layer"
        if not ID_PATTERN.match(clean):
            clean = "_" + clean
        candidate = clean
        if candidate in self._taken and prefix:
            candidate = f"{re.sub(r'[^A-Za-z0-9_]', '_', prefix)}_{clean}"
        stem, n = candidate, 1
        while candidate in self._taken:
            candidate = f"{stem}_{n}"
            n += 1
        if candidate != name:
            self._renamed.append((name, candidate))
        self._taken.add(candidate)
        return candidate


def _policy_name(dtype: Any) -> str | None:
    if isinstance(dtype, dict):
        return (dtype.get("config") or {}).get("name")
    return dtype if isinstance(dtype, str) else None


def grouped_settings(found: list[tuple[str, str, str]]) -> list[str]:
    """One problem per kind of layer and setting: "Dense 'capped' uses ..." or "Activation x19 (...) use ..."."""
    names: dict[tuple[str, str], list[str]] = {}
    for type_name, name, detail in found:
        names.setdefault((type_name, detail), []).append(name)
    out = []
    for (type_name, detail), layers in names.items():
        if len(layers) == 1:
            out.append(f"{type_name} '{layers[0]}' uses {detail}")
        else:
            shown = ", ".join(f"'{n}'" for n in layers[:2]) + (", ..." if len(layers) > 2 else "")
            out.append(f"{type_name} x{len(layers)} ({shown}) use {detail}")
    return out


def layer_params(spec: LayerSpec, config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(catalog parameters with only non-default values, settings that cannot be kept)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in config:
            if param.required:
                problems.append(f"no '{param.name}'")
            continue
        try:
            value = catalog_value(param, config[param.name])
        except ParamError as exc:
            problems.append(str(exc).split("; choose one of")[0])
            continue
        if value is not SKIP:
            values[param.name] = value
    for key, neutral in NEUTRAL_SETTINGS.items():
        if key in config and key not in spec.param_names and not same(config[key], neutral):
            problems.append(f"{key}={short(config[key])}, which CNN Studio cannot represent yet")
    if problems:
        return {}, problems
    required = {p.name: values[p.name] for p in spec.params if p.required and p.name in values}
    try:
        defaults = spec.resolve(required)
    except ParamError as exc:
        return {}, [str(exc)]
    params = {name: compact(spec.param(name), value) for name, value in values.items()
              if spec.param(name).required or not same(value, defaults[name])}
    if "strides" in params and "pool_size" in spec.param_names and spec.param("strides").default is None \
            and same(values["strides"], values.get("pool_size", defaults["pool_size"])):
        del params["strides"]  # Keras derives it: strides default to the pool size
    return params, []


SKIP = object()  # a value left to Keras's default (an initializer CNN Studio does not offer)


def catalog_value(param: Param, value: Any) -> Any:
    """A config value in the catalog's terms (normalised), or SKIP to leave Keras's default."""
    if param.name.endswith("_initializer"):
        name = snake(str(value.get("class_name"))) if isinstance(value, dict) else str(value)
        if _INITIALIZER_ALIASES.get(str(param.default)) == name:
            return param.default  # Keras saves "uniform" as RandomUniform
        return name if name in param.choices else SKIP
    if param.kind == REGULARIZER:
        if value is None:
            return None
        if isinstance(value, dict) and value.get("class_name") in _REGULARIZERS:
            keys = _REGULARIZERS[value["class_name"]]
            return param.normalize({k: float(value.get("config", {}).get(k, 0.0)) for k in keys})
        raise ParamError(f"'{param.name}' {short(value)}, a regularizer CNN Studio does not offer")
    if param.name == "activation":
        if not isinstance(value, str):
            raise ParamError(f"'activation' {short(value)}, a custom activation function")
        if value == "linear" and param.default is None:
            value = None
    if isinstance(value, list):
        value = tuples(value)
    return param.normalize(value)


def same(a: Any, b: Any) -> bool:
    """Equal as settings: lists and tuples alike, numbers within float rounding, bools strictly."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= max(1e-6 * max(abs(a), abs(b)), 1e-12)
    return a == b


def compact(param: Param, value: Any) -> Any:
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


def tuples(value: Any) -> Any:
    return tuple(tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def short(value: Any) -> str:
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
