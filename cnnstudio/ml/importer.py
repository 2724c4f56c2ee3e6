"""Keras model file -> editable network: `import_model` and `save_imported_run`.

The file's description is read first as plain JSON (`import_check`), so a model whose
layers carry Python code (Lambda) or that CNN Studio cannot represent is refused before
TensorFlow is even imported. Only then is it loaded, with Keras's `safe_mode`. Nested
Sequential/functional sub-models are flattened; each layer's settings become catalog
parameters (only non-default values); keras.ops calls become the layers that compute the
same. The network is rebuilt as a Keras model with the file's weights and must give the
same predictions, or nothing is imported.
"""

from __future__ import annotations

import datetime
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.analysis import analyze
from ..core.catalog.training import OPTIMIZER_BY_NAME, OPTIMIZERS
from ..core.errors import UserError
from ..core.layout import auto_layout
from ..core.network import Network
from ..core.project import DEFAULT_TRAINING, Project
from .import_check import SUFFIXES, check_model_path, read_model_config, refuse_unsupported
from .import_graph import GraphReader
from .import_stages import add_stage_blocks

if TYPE_CHECKING:
    import keras

__all__ = ["SUFFIXES", "ImportPreview", "ImportedModel", "import_model", "preview_model", "read_model_config",
           "refuse_unsupported", "save_imported_run"]

TOLERANCE = 1e-4  # largest difference between the file's and the rebuilt model's outputs (relative)
_DEFAULT_NAMES = ("sequential", "functional", "model")
_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclass
class ImportPreview:
    """A model file's network read from its description alone, without TensorFlow: enough to draw it.

    The weights are not loaded and the layers not yet checked against Keras; `import_model`
    does both (seconds for large models) and gives the same network.
    """

    name: str
    network: Network
    notes: list[str] = field(default_factory=list)
    source: Path | None = None
    dataset: dict[str, Any] = field(default_factory=lambda: {"name": "mnist-sample", "permute_pixels": None})
    training: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRAINING))
    reader: GraphReader | None = field(default=None, repr=False)
    loaded: Any = field(default=None, repr=False)  # the file's Keras model when reading needed it (.h5)

    def project(self) -> Project:
        """A new (unsaved) project holding the imported network."""
        return Project(name=self.name, network=self.network.copy(), dataset=dict(self.dataset),
                       training=dict(self.training))


@dataclass
class ImportedModel(ImportPreview):
    """An imported model: the editable network and the Keras model holding the file's weights.

    `model` is rebuilt from `network` (its layer names are the node ids) with the file's
    weights, and was checked to predict what the file's model predicts. `notes` are plain
    sentences about what was converted. `dataset` is guessed from the input shape;
    `training` holds the file's optimizer, learning rate and loss where CNN Studio knows them.
    """

    model: keras.Model | None = field(default=None, repr=False)
    prediction_difference: float = 0.0  # largest difference from the file's model on the check's inputs
    output_scale: float = 0.0  # largest output value there (the difference relative to it is what matters)
    file_counts: tuple[int, int] = (0, 0)  # the file model's (parameters, trainable parameters), as Keras counts


def preview_model(path: str | Path) -> ImportPreview:
    """The network a .keras file describes, laid out, in well under a second and without TensorFlow.

    UserError says in plain words why the file cannot be imported. (An .h5 file keeps its
    description in an older form: it is read through Keras, so it takes as long as the import.)
    """
    path = Path(path)
    check_model_path(path)
    config = read_model_config(path)
    refuse_unsupported(config, path.name)  # before TensorFlow is imported: a refusal is instant
    if path.suffix.lower() != ".keras":
        model, description = _load_description(path)
        preview = _preview(path, description)
        preview.loaded = model
        return preview
    return _preview(path, config)


def import_model(path: str | Path, preview: ImportPreview | None = None) -> ImportedModel:
    """Read a .keras or .h5 model into a network with its weights, checked against Keras.

    Pass the `preview` already shown to skip reading the description again. UserError says
    in plain words why the file cannot be imported.
    """
    path = Path(path)
    preview = preview or preview_model(path)
    reader = preview.reader
    if reader is None:
        raise ValueError("the preview holds no description of the model; make it with preview_model")
    from .import_layers import check_against_keras

    model = preview.loaded or _load(path)
    problems, keras_notes = check_against_keras(reader, model)
    if problems:
        raise UserError(f"{path.name} cannot be imported: " + "; ".join(problems))
    network = preview.network
    rebuilt = _rebuild(network, preview.name, reader, model, path.name)
    difference, scale = _check_same_predictions(model, rebuilt, path.name, relaxed=reader.reduced_precision)
    notes = list(preview.notes)
    notes[1:1] = keras_notes
    notes.insert(1 + len(keras_notes), f"Checked: the network gives the same predictions as the file's model "
                                       f"(largest difference {difference:.1g}).")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return ImportedModel(preview.name, network, notes, path, preview.dataset, preview.training, reader, None,
                         rebuilt, difference, scale, (model.count_params(), trainable))


def _preview(path: Path, description: dict[str, Any]) -> ImportPreview:
    reader = GraphReader()
    reader.read_model(description)
    if reader.problems:
        raise UserError(f"{path.name} cannot be imported: " + "; ".join(reader.problems))
    network = reader.network()
    analysis = analyze(network)
    if analysis.errors:
        raise UserError(f"{path.name} cannot be imported: {analysis.errors[0]}")
    add_stage_blocks(network)
    for node_id, (x, y) in auto_layout(network).items():
        network.nodes[node_id].position = (x, y)
    name = _project_name(str((description.get("config") or {}).get("name") or ""), path)
    notes = [_summary_note(description, network, analysis)] + reader.notes
    training, training_notes = training_settings(description.get("compile_config"))
    dataset, dataset_note = _guess_dataset(analysis, network)
    return ImportPreview(name, network, notes + training_notes + [dataset_note], path, dataset, training, reader)


# -- loading and rebuilding ------------------------------------------------------------------

def _load(path: Path) -> keras.Model:
    """The model loaded in safe mode (without its training state when that cannot be restored)."""
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return keras.models.load_model(path, safe_mode=True)
        except Exception as first:  # noqa: BLE001 - Keras raises many kinds; each is explained below
            if _is_safety_refusal(first):
                raise _safety_error(path.name) from None
            try:
                return keras.models.load_model(path, safe_mode=True, compile=False)
            except Exception as exc:  # noqa: BLE001
                if _is_safety_refusal(exc):
                    raise _safety_error(path.name) from None
                raise UserError(f"{path.name} cannot be loaded by Keras: {_first_line(exc)}") from None


def _load_description(path: Path) -> tuple[keras.Model, dict[str, Any]]:
    """An older file's model, loaded, and its description in the form a .keras file holds it."""
    import keras

    model = _load(path)
    description = {"class_name": "Sequential" if isinstance(model, keras.Sequential) else "Functional",
                   "config": model.get_config()}
    if getattr(model, "optimizer", None) is not None:
        loss = getattr(model, "loss", None)
        description["compile_config"] = {
            "optimizer": {"class_name": type(model.optimizer).__name__, "config": model.optimizer.get_config()},
            "loss": loss if isinstance(loss, str) or loss is None else {"class_name": type(loss).__name__},
        }
    return model, description


def _is_safety_refusal(exc: Exception) -> bool:
    text = str(exc)
    return "safe_mode" in text or "arbitrary code" in text


def _safety_error(where: str) -> UserError:
    return UserError(f"{where} was refused for safety: it holds Python code, and CNN Studio never runs code "
                     "from a model file (Keras safe mode). Nothing was run.")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _rebuild(network: Network, name: str, reader: GraphReader, model: keras.Model, where: str) -> keras.Model:
    """The network as a Keras model carrying the file's weights, layer by layer."""
    from .builder import build_model
    from .import_layers import find_layer

    rebuilt = build_model(network, name)
    for node_id, source in reader.sources.items():
        weights = find_layer(model, source.path).get_weights()
        target = rebuilt.get_layer(node_id)
        expected = [tuple(w.shape) for w in target.get_weights()]
        if [tuple(w.shape) for w in weights] != expected:
            raise UserError(f"{where} cannot be imported: the weights of layer '{node_id}' do not fit the "
                            "network CNN Studio builds from its settings")
        target.set_weights(weights)
        if hasattr(target, "finalize_state"):  # layers holding measured statistics (Normalization) take them up
            target.finalize_state()
    return rebuilt


def _check_same_predictions(original: keras.Model, rebuilt: keras.Model, where: str, *,
                            relaxed: bool) -> tuple[float, float]:
    """(largest difference, largest output) of both models on random inputs; UserError if they disagree."""
    inputs = [_sample_input(tensor) for tensor in rebuilt.inputs]
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
    return difference, scale


def _sample_input(tensor: Any) -> np.ndarray:
    """Two random examples for an input: values in [0, 1) (large values would saturate the outputs
    of deep networks and hide differences), or small whole numbers (word indices) for integer
    inputs; unknown sizes become 32."""
    rng = np.random.default_rng(0)
    shape = (2, *[32 if s is None else s for s in tensor.shape[1:]])
    dtype = np.dtype(str(tensor.dtype))
    if dtype.kind in "iub":
        return rng.integers(0, 2, size=shape).astype(dtype)
    return rng.random(shape).astype(dtype)


def _as_list(outputs: Any) -> list[Any]:
    if isinstance(outputs, dict):
        return list(outputs.values())
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# -- names, notes, settings ----------------------------------------------------------------

def _project_name(model_name: str, path: Path) -> str:
    base = model_name.rsplit("_", 1)[0] if model_name.rsplit("_", 1)[-1].isdigit() else model_name
    return path.stem if base.lower() in _DEFAULT_NAMES or not model_name.strip() else model_name


def _summary_note(description: dict[str, Any], network: Network, analysis: Any) -> str:
    kind = "Sequential" if description.get("class_name") == "Sequential" else "functional"
    layers = len(network) - len(network.input_nodes())
    merges = sum(1 for n in network if len(network.inputs_of(n.id)) > 1)
    joined = f", {merges} merging layer{'s' * (merges != 1)}" if merges else ""
    return (f"Imported a {kind} Keras model: {layers} layer{'s' * (layers != 1)} "
            f"({analysis.total_params:,} parameters{joined}) with their trained weights.")


def training_settings(compile_config: Any) -> tuple[dict[str, Any], list[str]]:
    """Optimizer, learning rate and loss from the file's compile settings, where CNN Studio knows them."""
    training = dict(DEFAULT_TRAINING)
    optimizer = compile_config.get("optimizer") if isinstance(compile_config, dict) else None
    if not isinstance(optimizer, dict):
        return training, ["The file holds no training settings; CNN Studio's defaults are used (Adam, 0.001)."]
    class_name = str(optimizer.get("class_name"))
    name = class_name.lower()
    if name not in OPTIMIZERS:
        return training, [f"The file's optimizer {class_name} is not offered by CNN Studio; Adam is used instead."]
    training["optimizer"] = name
    settings = optimizer.get("config") or {}
    rate = settings.get("learning_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and math.isfinite(rate) and 0 < rate <= 10:
        training["learning_rate"] = float(f"{rate:.6g}")
    momentum = settings.get("momentum", 0.0)
    if OPTIMIZER_BY_NAME[name].momentum and isinstance(momentum, float) and 0 < momentum < 1:
        training["momentum"] = float(f"{momentum:.6g}")
    loss = compile_config.get("loss")
    loss_name = loss if isinstance(loss, str) else _snake(str(loss.get("class_name"))) \
        if isinstance(loss, dict) else None
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
    from .runs import RunRecord, versions

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

