"""Keras model file -> editable network: `import_model` and `save_imported_run`.

The file's description is read first as plain JSON (a .keras file is a zip with
config.json; an .h5 file keeps it in an attribute), so a model whose layers carry
Python code (Lambda) or that CNN Studio cannot represent is refused before Keras
deserializes anything. Only then is it loaded, with Keras's `safe_mode`. Nested
Sequential/functional sub-models are flattened; each layer's settings become catalog
parameters (only non-default values). The network is rebuilt as a Keras model with
the file's weights and must give the same predictions, or nothing is imported.
"""

from __future__ import annotations

import datetime
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..core.analysis import analyze
from ..core.catalog.training import OPTIMIZER_BY_NAME, OPTIMIZERS
from ..core.errors import UserError
from ..core.layout import auto_layout
from ..core.network import Network
from ..core.project import DEFAULT_TRAINING, Project
from .builder import build_model
from .import_layers import MODEL_CLASSES, STRUCTURAL_CLASSES, GraphReader, unsupported_reason
from .model_file import check_model_file, read_config_json
from .runs import RunRecord, versions

SUFFIXES = (".keras", ".h5", ".hdf5")
TOLERANCE = 1e-4  # largest difference between the file's and the rebuilt model's outputs (relative)
_DEFAULT_NAMES = ("sequential", "functional", "model")
_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclass
class ImportedModel:
    """An imported model: the editable network and the Keras model holding the file's weights.

    `model` is rebuilt from `network` (its layer names are the node ids) with the file's
    weights, and was checked to predict what the file's model predicts. `notes` are plain
    sentences about what was converted. `dataset` is guessed from the input shape;
    `training` holds the file's optimizer, learning rate and loss where CNN Studio knows them.
    """

    name: str
    network: Network
    model: keras.Model
    notes: list[str] = field(default_factory=list)
    source: Path | None = None
    dataset: dict[str, Any] = field(default_factory=lambda: {"name": "mnist-sample", "permute_pixels": None})
    training: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRAINING))

    def project(self) -> Project:
        """A new (unsaved) project holding the imported network."""
        return Project(name=self.name, network=self.network.copy(), dataset=dict(self.dataset),
                       training=dict(self.training))


def import_model(path: str | Path) -> ImportedModel:
    """Read a .keras or .h5 model into a network; UserError says in plain words why not."""
    path = Path(path)
    _check_path(path)
    config = read_model_config(path)
    refuse_unsupported(config, path.name)
    model, compiled = _load(path)
    reader = GraphReader()
    reader.read_model(model)
    if reader.problems:
        raise UserError(f"{path.name} cannot be imported: " + "; ".join(reader.problems))
    network = reader.network()
    analysis = analyze(network)
    if analysis.errors:
        raise UserError(f"{path.name} cannot be imported: {analysis.errors[0]}")
    for node_id, (x, y) in auto_layout(network).items():
        network.nodes[node_id].position = (x, y)
    name = _project_name(model.name, path)
    rebuilt = _rebuild(network, name, reader, path.name)
    difference = _check_same_predictions(model, rebuilt, path.name, relaxed=reader.reduced_precision)
    notes = _summary_note(model, network, reader) + reader.notes
    notes.append(f"Checked: the network gives the same predictions as the file's model "
                 f"(largest difference {difference:.1g}).")
    training, training_notes = _training_settings(model if compiled else None)
    dataset, dataset_note = _guess_dataset(analysis, network)
    return ImportedModel(name, network, rebuilt, notes + training_notes + [dataset_note], path,
                         dataset, training)


def _check_path(path: Path) -> None:
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise UserError(f"{path} is a TensorFlow SavedModel folder; CNN Studio imports .keras and .h5 "
                            "files (in Keras: model.save('model.keras'))")
        raise UserError(f"{path} is a folder; give a .keras or .h5 model file")
    if path.suffix.lower() not in SUFFIXES and path.exists():
        raise UserError(f"{path.name} is not a Keras model file; CNN Studio imports .keras and .h5 files")
    check_model_file(path)  # missing, a pipe or a device, corrupt, or a description of gigabytes


# -- reading the description (plain JSON, nothing deserialized) ---------------------------

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
    """UserError before anything is deserialized: code-carrying layers, then unsupported ones."""
    code: list[str] = []
    unsupported: list[str] = []
    shared: list[str] = []
    for entry in _layer_entries(config):
        class_name, name = str(entry.get("class_name")), str(entry.get("name") or entry.get("config", {}).get("name"))
        if class_name == "Lambda" or _carries_code(entry.get("config")):
            code.append(f"{class_name} '{name}'")
            continue
        reason = unsupported_reason(entry)
        if reason:
            unsupported.append(reason)
        if len(entry.get("inbound_nodes") or []) > 1:
            shared.append(f"'{name}' (used {len(entry['inbound_nodes'])} times)")
    if code:
        also = f" It also uses layers CNN Studio does not support yet: {', '.join(unsupported)}." if unsupported else ""
        raise UserError(
            f"{where} was refused for safety: {', '.join(code)} carr{'ies' if len(code) == 1 else 'y'} Python "
            "code, and CNN Studio never runs code from a model file (Keras safe mode). Nothing was loaded or "
            f"run. Replace the Lambda with standard layers to import it.{also}"
        )
    if unsupported:
        raise UserError(f"{where} uses layers CNN Studio does not support yet: {', '.join(unsupported)}")
    if shared:
        raise UserError(f"{where} reuses layers (shared weights), which a CNN Studio network cannot hold: "
                        + ", ".join(shared))


def _layer_entries(config: dict[str, Any]):
    """Every layer entry of a model description, nested models included (their entries too)."""
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    for entry in inner.get("layers") or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("class_name") in MODEL_CLASSES:
            yield from _layer_entries(entry)
        elif entry.get("class_name") not in STRUCTURAL_CLASSES:
            yield entry
    if config.get("class_name") not in MODEL_CLASSES:
        yield config  # a subclassed model: reported as unsupported


def _carries_code(value: Any) -> bool:
    """True when a config holds serialized Python code (a lambda or a function's bytecode)."""
    if isinstance(value, dict):
        if value.get("class_name") in ("__lambda__", "function") or "__lambda__" in value:
            return True
        return any(_carries_code(v) for v in value.values())
    if isinstance(value, list):
        return any(_carries_code(v) for v in value)
    return False


# -- loading and rebuilding ------------------------------------------------------------------

def _load(path: Path) -> tuple[keras.Model, bool]:
    """The model loaded in safe mode; (model, whether its training configuration was read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return keras.models.load_model(path, safe_mode=True), True
        except Exception as first:  # noqa: BLE001 - Keras raises many kinds; each is explained below
            if _is_safety_refusal(first):
                raise _safety_error(path.name) from None
            try:
                return keras.models.load_model(path, safe_mode=True, compile=False), False
            except Exception as exc:  # noqa: BLE001
                if _is_safety_refusal(exc):
                    raise _safety_error(path.name) from None
                raise UserError(f"{path.name} cannot be loaded by Keras: {_first_line(exc)}") from None


def _is_safety_refusal(exc: Exception) -> bool:
    text = str(exc)
    return "safe_mode" in text or "arbitrary code" in text


def _safety_error(where: str) -> UserError:
    return UserError(f"{where} was refused for safety: it holds Python code, and CNN Studio never runs code "
                     "from a model file (Keras safe mode). Nothing was run.")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _rebuild(network: Network, name: str, reader: GraphReader, where: str) -> keras.Model:
    """The network as a Keras model carrying the file's weights, layer by layer."""
    rebuilt = build_model(network, name)
    for node_id, layer in reader.layers.items():
        weights = layer.get_weights()
        target = rebuilt.get_layer(node_id)
        expected = [tuple(w.shape) for w in target.get_weights()]
        if [tuple(w.shape) for w in weights] != expected:
            raise UserError(f"{where} cannot be imported: the weights of layer '{node_id}' do not fit the "
                            "network CNN Studio builds from its settings")
        target.set_weights(weights)
    return rebuilt


def _check_same_predictions(original: keras.Model, rebuilt: keras.Model, where: str, *, relaxed: bool) -> float:
    """Largest difference between both models' outputs on random inputs; UserError if they disagree."""
    rng = np.random.default_rng(0)
    inputs = [rng.random((2, *[32 if s is None else s for s in tensor.shape[1:]]), dtype=np.float32)
              for tensor in rebuilt.inputs]
    feed = inputs[0] if len(inputs) == 1 else inputs
    expected = [np.asarray(a, np.float64) for a in _as_list(original(feed, training=False))]
    got = [np.asarray(a, np.float64) for a in _as_list(rebuilt(feed, training=False))]
    if len(expected) != len(got) or any(a.shape != b.shape for a, b in zip(expected, got, strict=False)):
        raise UserError(f"{where} cannot be imported: its outputs could not be reproduced by a CNN Studio network")
    difference = max((float(np.max(np.abs(a - b))) if a.size else 0.0) for a, b in zip(expected, got, strict=True))
    scale = max((float(np.max(np.abs(a))) if a.size else 0.0) for a in expected)
    allowed = (1e-2 if relaxed else TOLERANCE) * max(1.0, scale)
    if not difference <= allowed:
        raise UserError(f"{where} cannot be imported: the network CNN Studio rebuilt from it predicts differently "
                        f"(largest difference {difference:.3g}); it uses a setting CNN Studio does not model yet. "
                        "Nothing was imported")
    return difference


def _as_list(outputs: Any) -> list[Any]:
    if isinstance(outputs, dict):
        return list(outputs.values())
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# -- names, notes, settings ----------------------------------------------------------------

def _project_name(model_name: str, path: Path) -> str:
    base = model_name.rsplit("_", 1)[0] if model_name.rsplit("_", 1)[-1].isdigit() else model_name
    return path.stem if base.lower() in _DEFAULT_NAMES or not model_name.strip() else model_name


def _summary_note(model: keras.Model, network: Network, reader: GraphReader) -> list[str]:
    kind = "Sequential" if isinstance(model, keras.Sequential) else "functional"
    layers = len(network) - len(network.input_nodes())
    merges = sum(1 for n in network if len(network.inputs_of(n.id)) > 1)
    joined = f", {merges} merging layer{'s' * (merges != 1)}" if merges else ""
    return [f"Imported a {kind} Keras model: {layers} layer{'s' * (layers != 1)} "
            f"({model.count_params():,} parameters{joined}) with their trained weights."]


def _training_settings(model: keras.Model | None) -> tuple[dict[str, Any], list[str]]:
    """Optimizer, learning rate and loss from the file where CNN Studio knows them."""
    training = dict(DEFAULT_TRAINING)
    optimizer = getattr(model, "optimizer", None) if model is not None else None
    if optimizer is None:
        return training, ["The file holds no training settings; CNN Studio's defaults are used (Adam, 0.001)."]
    name = type(optimizer).__name__.lower()
    if name not in OPTIMIZERS:
        return training, [f"The file's optimizer {type(optimizer).__name__} is not offered by CNN Studio; "
                          "Adam is used instead."]
    training["optimizer"] = name
    try:
        rate = float(np.asarray(optimizer.learning_rate))
    except (TypeError, ValueError):
        rate = 0.0
    if math.isfinite(rate) and 0 < rate <= 10:
        training["learning_rate"] = float(f"{rate:.6g}")
    momentum = getattr(optimizer, "momentum", 0.0)
    if OPTIMIZER_BY_NAME[name].momentum and isinstance(momentum, float) and 0 < momentum < 1:
        training["momentum"] = float(f"{momentum:.6g}")
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) else _snake(type(loss).__name__) if loss is not None else None
    if loss_name in _LOSSES:
        training["loss"] = loss_name
    shown = f"optimizer {name}, learning rate {training['learning_rate']:g}"
    return training, [f"Training settings taken from the file: {shown}"
                      + (f", loss {loss_name}" if loss_name in _LOSSES else "") + "."]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _guess_dataset(analysis, network: Network) -> tuple[dict[str, Any], str]:
    """mnist-sample for 28x28x1 inputs, cifar10 (cifar100 with 100 outputs) for 32x32x3."""
    inputs = network.input_nodes()
    shape = tuple(analysis.layers[inputs[0]].output_shape or ()) if inputs else ()
    outputs = network.output_nodes()
    units = (analysis.layers[outputs[0]].output_shape or (None,))[-1] if outputs else None
    if shape == (32, 32, 3):
        name = "cifar100" if units == 100 else "cifar10"
        return {"name": name, "permute_pixels": None}, f"Dataset set to {name} (it matches the 32x32x3 input)."
    if shape == (28, 28, 1):
        return ({"name": "mnist-sample", "permute_pixels": None},
                "Dataset set to mnist-sample (it matches the 28x28x1 input).")
    shown = "x".join("?" if s is None else str(s) for s in shape) or "unknown"
    return ({"name": "mnist-sample", "permute_pixels": None},
            f"No built-in dataset matches the {shown} input; choose the data to train on before training.")


# -- a run record for the imported weights ---------------------------------------------------

def save_imported_run(imported: ImportedModel, folder: str | Path) -> Path:
    """A run-like folder in `folder` (model.keras, project.cnnproj, run.json, metrics.csv); its path.

    Run histories list it with status "imported", and inspection views can open its weights.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give a folder for the imported model's run")
    stamp = datetime.datetime.now()
    run_dir = folder / f"{_slug(imported.name)}-imported-{stamp:%Y%m%d-%H%M%S}"
    n = 2
    while run_dir.exists():
        run_dir = folder / f"{_slug(imported.name)}-imported-{stamp:%Y%m%d-%H%M%S}-{n}"
        n += 1
    project = imported.project()
    record = RunRecord.open(run_dir, project)
    record.save_model(imported.model)
    record.write_metrics([])
    when = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    record.write_info(
        durable=True, status="imported", project=project.name, project_file=None,
        source=str(imported.source.resolve()) if imported.source else None,
        started=when, finished=when, epochs_completed=0, final=None, test=None,
        settings=dict(project.training), dataset={"name": project.dataset.get("name")},
        notes=list(imported.notes), versions=versions(),
    )
    return record.path


def _slug(name: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name).strip("-")
    return "-".join(part for part in cleaned.split("-") if part) or "model"

