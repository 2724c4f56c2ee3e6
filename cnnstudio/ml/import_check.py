"""What a model file describes, read as plain JSON before TensorFlow is imported.

A .keras file is a zip holding config.json; an .h5 file keeps the same description in
an attribute. Reading it with the standard library (and h5py) lets the importer refuse a
model that carries Python code or uses layers CNN Studio cannot represent in well under a
second, before Keras deserializes anything. Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..core.catalog import CATALOG
from ..core.errors import UserError
from .model_file import check_model_file, read_config_json

SUFFIXES = (".keras", ".h5", ".hdf5")
MODEL_CLASSES = ("Sequential", "Functional", "Model")
STRUCTURAL_CLASSES = ("InputLayer",)

# keras.ops calls recorded in a functional graph, and the catalog layer that computes exactly
# the same thing (same Keras function underneath, same order of float operations).
_ACTIVATION_OPERATIONS = {
    "Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "Silu": "silu",
    "HardSigmoid": "hard_sigmoid", "Selu": "selu", "Softplus": "softplus", "Softsign": "softsign",
    "HardSilu": "hard_silu",
}  # fmt: skip
_MERGE_OPERATIONS = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply", "Maximum": "Maximum",
                     "Minimum": "Minimum"}


def check_model_path(path: Path) -> None:
    """UserError unless `path` is an existing .keras/.h5 file."""
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise UserError(f"{path} is a TensorFlow SavedModel folder; CNN Studio imports .keras and .h5 "
                            "files (in Keras: model.save('model.keras'))")
        raise UserError(f"{path} is a folder; give a .keras or .h5 model file")
    if path.suffix.lower() not in SUFFIXES and path.exists():
        raise UserError(f"{path.name} is not a Keras model file; CNN Studio imports .keras and .h5 files")
    check_model_file(path)  # missing, a pipe or a device, corrupt, or a description of gigabytes


def read_model_config(path: Path) -> dict[str, Any]:
    """The model's description as stored in the file (JSON only: nothing is run or built)."""
    if path.suffix.lower() == ".keras":
        text = read_config_json(path)  # sizes checked before anything is inflated
    else:
        text = _h5_config(path)
    try:
        config = json.loads(text)
    except (ValueError, RecursionError):
        raise UserError(f"{path.name} is damaged: its model description is not valid JSON") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise UserError(f"{path.name} does not describe a Keras model")
    return config


def _h5_config(path: Path) -> str | bytes:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get("model_config")
    except OSError:
        raise UserError(f"{path.name} is damaged or not an HDF5 model file") from None
    if text is None:
        raise UserError(f"{path.name} holds weights only, no model (it was saved with save_weights); "
                        "save the whole model with model.save('model.keras')")
    return text


def refuse_unsupported(config: dict[str, Any], where: str) -> None:
    """UserError before anything is deserialized: code-carrying layers, then unsupported ones.

    Repeats are grouped so the message stays one short line ("LayerScale x18, Lambda x1").
    """
    code: list[tuple[str, str]] = []
    unsupported: list[tuple[str, str]] = []
    shared: list[str] = []
    for entry in layer_entries(config):
        class_name, name = _names(entry)
        if class_name == "Lambda" or _carries_code(entry.get("config")):
            code.append((class_name, name))
            continue
        reason = unsupported_reason(entry)
        if reason:
            unsupported.append((reason, name))
        if len(entry.get("inbound_nodes") or []) > 1:
            shared.append(f"'{name}' (used {len(entry['inbound_nodes'])} times)")
    if code:
        also = f" It also uses layers CNN Studio does not support yet: {grouped(unsupported)}." if unsupported else ""
        verb = "carries" if len(code) == 1 else "carry"
        raise UserError(
            f"{where} was refused for safety: {grouped(code)} {verb} Python code, and CNN Studio never runs "
            f"code from a model file (Keras safe mode). Nothing was loaded or run.{also}"
        )
    if unsupported:
        raise UserError(f"{where} uses layers CNN Studio does not support yet: {grouped(unsupported)}")
    if shared:
        raise UserError(f"{where} reuses layers (shared weights), which a CNN Studio network cannot hold: "
                        + ", ".join(shared[:5]) + (f" and {len(shared) - 5} more" if len(shared) > 5 else ""))


def grouped(items: list[tuple[str, str]]) -> str:
    """("LayerScale", "a"), ("LayerScale", "b"), ("LSTM", "lstm") -> "LayerScale x2, LSTM 'lstm'"."""
    counts = Counter(kind for kind, _ in items)
    first = {}
    for kind, name in items:
        first.setdefault(kind, name)
    return ", ".join(f"{kind} x{count}" if count > 1 else f"{kind} '{first[kind]}'" for kind, count in counts.items())


def layer_entries(config: dict[str, Any]):
    """Every layer entry of a model description, nested models included (their entries too)."""
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    for entry in inner.get("layers") or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("class_name") in MODEL_CLASSES and isinstance(entry.get("config"), dict) \
                and "layers" in entry["config"]:
            yield from layer_entries(entry)
        elif entry.get("class_name") not in STRUCTURAL_CLASSES:
            yield entry
    if config.get("class_name") not in MODEL_CLASSES:
        yield config  # a subclassed model: reported as unsupported


def unsupported_reason(entry: dict[str, Any]) -> str | None:
    """What kind of thing a layer entry is, when it cannot become a node ("LSTM"), or None."""
    class_name = str(entry.get("class_name"))
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    module = entry.get("module")
    if is_operation(entry):
        return None if isinstance(operation_node(entry), tuple) else f"keras.ops.{_snake(class_name)}"
    if class_name in MODEL_CLASSES and "layers" not in config:
        return f"{class_name} (a model class defined in code)"
    spec = CATALOG.get(class_name)
    if spec is None:
        return class_name
    registered = entry.get("registered_name")
    expected = "keras.layers" if spec.keras_module == "keras.layers" else spec.keras_module
    if isinstance(module, str) and module != expected and not (expected == "keras.layers"
                                                               and module.startswith("keras.")):
        return f"{class_name} (a custom layer of the same name)"
    if registered and registered not in (class_name, f"keras>{class_name}") and expected == "keras.layers":
        return f"{class_name} (a custom layer of the same name)"
    return None


def is_operation(entry: dict[str, Any]) -> bool:
    """True for a keras.ops call recorded in a functional graph (x + y, ops.relu(x), ...)."""
    module = entry.get("module")
    return isinstance(module, str) and ".ops." in f"{module}."


def operation_node(entry: dict[str, Any]) -> tuple[str, dict[str, Any], list[int]] | str:
    """(catalog type, parameters, positions of the tensor arguments) computing the same as a
    recorded keras.ops call, or the reason it has no such layer."""
    class_name = str(entry.get("class_name"))
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    calls = entry.get("inbound_nodes") or []
    if len(calls) != 1 or not isinstance(calls[0], dict) or calls[0].get("kwargs"):
        return "called in a way CNN Studio cannot follow"
    args = list(calls[0].get("args") or [])
    tensors = [i for i, a in enumerate(args) if _is_tensor(a)]
    numbers = [a for a in args if _is_number(a)]
    if len(tensors) + len(numbers) != len(args) or not tensors:
        return "takes values other than tensors and numbers"
    settings = {k: v for k, v in config.items() if k != "name"}
    if class_name in _ACTIVATION_OPERATIONS and len(args) == 1 and not settings:
        return "Activation", {"activation": _ACTIVATION_OPERATIONS[class_name]}, tensors
    if class_name == "Elu" and len(args) == 1 and settings in ({}, {"alpha": 1.0}):
        return "Activation", {"activation": "elu"}, tensors
    if class_name == "Gelu" and len(args) == 1 and settings == {"approximate": False}:
        return "Activation", {"activation": "gelu"}, tensors
    if class_name == "LeakyRelu" and len(args) == 1 and set(settings) <= {"negative_slope"}:
        return "LeakyReLU", {"negative_slope": float(settings.get("negative_slope", 0.2))}, tensors
    if class_name == "Softmax" and len(args) == 1 and set(settings) <= {"axis"}:
        return "Softmax", ({"axis": settings["axis"]} if settings.get("axis", -1) != -1 else {}), tensors
    if class_name == "Negative" and len(args) == 1 and not settings:
        return "Rescaling", {"scale": -1.0}, tensors
    if class_name in _MERGE_OPERATIONS and not settings and len(args) == 2:
        if len(tensors) == 2:
            return _MERGE_OPERATIONS[class_name], {}, tensors
        constant = float(numbers[0])
        tensor_first = tensors == [0]
        if class_name == "Add":
            return "Rescaling", {"scale": 1.0, "offset": constant}, tensors
        if class_name == "Multiply":
            return "Rescaling", {"scale": constant}, tensors
        if class_name == "Subtract":  # x - c = x + (-c); c - x = (-1) * x + c, both exact in floats
            params = {"scale": 1.0, "offset": -constant} if tensor_first else {"scale": -1.0, "offset": constant}
            return "Rescaling", params, tensors
    return "no matching layer"


def _names(entry: dict[str, Any]) -> tuple[str, str]:
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    class_name = str(entry.get("class_name"))
    return class_name, str(entry.get("name") or config.get("name") or class_name.lower())


def _is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _carries_code(value: Any) -> bool:
    """True when a config holds serialized Python code (a lambda or a function's bytecode)."""
    if isinstance(value, dict):
        if value.get("class_name") in ("__lambda__", "function") or "__lambda__" in value:
            return True
        return any(_carries_code(v) for v in value.values())
    if isinstance(value, list):
        return any(_carries_code(v) for v in value)
    return False
