"""What changed between two runs, and what it did: the network, the settings, the outcome.

    d = diff_runs("runs/a", "runs/b")
    d.network.layers        # added, removed, changed layers (matched by id), and those a change affected,
                            # each with its parameters, receptive field and activation memory before and after
    d.settings              # only the training and dataset settings that differ
    d.outcome.curves        # both runs' metrics per epoch, side by side
    d.outcome.classes       # per-class F1 before and after
    d.outcome.only_a_right  # validation images run A gets right and run B gets wrong (and the other way round)

Reads each run's project.cnnproj, run.json, metrics.csv and val_predictions.npz; figures come
from core/analysis.py, so they are what the Inspector and `cnnstudio summary` show.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import Analysis, analyze
from .catalog import CATALOG, ParamError, dims_text
from .classification import class_scores, confusion_matrix
from .errors import UserError
from .network import Network
from .project import Project, load_project
from .runs import METRICS_HEADER, ValPredictions, read_metrics, read_run_info, read_val_predictions

ADDED, REMOVED, CHANGED, AFFECTED = "added", "removed", "changed", "affected"
BYTES_PER_VALUE = 4  # activations are float32
# dataset settings that decide which images are in the validation split, and their order
SPLIT_DATASET_KEYS = ("name", "relabel", "exclude")
SPLIT_TRAINING_KEYS = ("validation_split", "seed")


# -- the network ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerFigures:
    """What core/analysis.py says about one layer."""

    type: str
    output_shape: tuple | None
    params: int
    receptive_field: tuple | None

    @property
    def memory(self) -> int | None:
        """Bytes of this layer's output for one image (float32)."""
        if not self.output_shape:
            return None
        return BYTES_PER_VALUE * math.prod(s for s in self.output_shape if s is not None)


@dataclass(frozen=True)
class LayerChange:
    """One layer that differs: `kind` added, removed, changed (type or parameters), or affected
    (the same layer, whose figures changed because of a change before it)."""

    id: str
    kind: str
    before: LayerFigures | None
    after: LayerFigures | None
    params_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (before, after)

    @property
    def params_delta(self) -> int:
        return (self.after.params if self.after else 0) - (self.before.params if self.before else 0)

    @property
    def memory_delta(self) -> int:
        return ((self.after.memory or 0) if self.after else 0) - ((self.before.memory or 0) if self.before else 0)

    def describe(self) -> str:
        """One line: "conv1 changed: filters 6 -> 16; +260 parameters; output 28x28x6 -> 28x28x16 (+18.8 KB per image)"."""
        b, a = self.before, self.after
        if self.kind == ADDED:
            head = f"{self.id} added ({a.type})"
        elif self.kind == REMOVED:
            head = f"{self.id} removed ({b.type})"
        elif self.kind == AFFECTED:
            head = f"{self.id} ({a.type}) follows the changes"
        else:
            what = [f"type {b.type} -> {a.type}"] if b.type != a.type else []
            what += [f"{name} {value_text(old)} -> {value_text(new)}" for name, (old, new) in self.params_changed.items()]
            head = f"{self.id} changed: {', '.join(what)}"
        parts = [head]
        if self.params_delta:
            parts.append(f"{self.params_delta:+,} parameters")
        if b and a and b.output_shape != a.output_shape:
            parts.append(f"output {shape_text(b.output_shape)} -> {shape_text(a.output_shape)}"
                         f" ({bytes_text(self.memory_delta, signed=True)} per image)")
        elif self.kind in (ADDED, REMOVED) and (a or b).output_shape:
            parts.append(f"output {shape_text((a or b).output_shape)} ({bytes_text(self.memory_delta, signed=True)} per image)")
        if b and a and b.receptive_field != a.receptive_field:
            parts.append(f"receptive field {shape_text(b.receptive_field)} -> {shape_text(a.receptive_field)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class NetworkDiff:
    """Two networks compared layer by layer (matched by id), with the totals before and after."""

    layers: list[LayerChange]
    edges_added: list[tuple[str, str]]
    edges_removed: list[tuple[str, str]]
    total_params: tuple[int, int]
    activation_bytes: tuple[int, int]  # per image, all layers
    receptive_field: tuple[tuple | None, tuple | None]  # the largest any layer has

    @property
    def same(self) -> bool:
        return not (self.layers or self.edges_added or self.edges_removed)

    def of_kind(self, kind: str) -> list[LayerChange]:
        return [c for c in self.layers if c.kind == kind]

    def lines(self) -> list[str]:
        if self.same:
            return ["the networks are the same"]
        out = [c.describe() for c in self.layers]
        out += [f"connection {a} -> {b} added" for a, b in self.edges_added]
        out += [f"connection {a} -> {b} removed" for a, b in self.edges_removed]
        before, after = self.total_params
        out.append(f"parameters {before:,} -> {after:,} ({after - before:+,}); activations "
                   f"{bytes_text(self.activation_bytes[0])} -> {bytes_text(self.activation_bytes[1])} per image; largest "
                   f"receptive field {shape_text(self.receptive_field[0])} -> {shape_text(self.receptive_field[1])}")
        return out


def diff_networks(before: Network, after: Network) -> NetworkDiff:
    """Layers added, removed and changed from `before` to `after`, with each change's effect."""
    analysis_b, analysis_a = analyze(before), analyze(after)
    figures_b, figures_a = _figures(analysis_b), _figures(analysis_a)
    changes = []
    for node_id, node in after.nodes.items():
        if node_id not in before.nodes:
            changes.append(LayerChange(node_id, ADDED, None, figures_a[node_id]))
            continue
        old = before.nodes[node_id]
        changed = _param_changes(old.type, old.params, node.type, node.params)
        if old.type != node.type or changed:
            changes.append(LayerChange(node_id, CHANGED, figures_b[node_id], figures_a[node_id], changed))
        elif figures_b[node_id] != figures_a[node_id] or before.inputs_of(node_id) != after.inputs_of(node_id):
            changes.append(LayerChange(node_id, AFFECTED, figures_b[node_id], figures_a[node_id]))
    changes += [LayerChange(node_id, REMOVED, figures_b[node_id], None)
                for node_id in before.nodes if node_id not in after.nodes]
    edges_b, edges_a = before.edges, after.edges
    return NetworkDiff(changes, [e for e in edges_a if e not in edges_b], [e for e in edges_b if e not in edges_a],
                       (analysis_b.total_params, analysis_a.total_params),
                       (BYTES_PER_VALUE * analysis_b.activation_values(),
                        BYTES_PER_VALUE * analysis_a.activation_values()),
                       (_largest_field(analysis_b), _largest_field(analysis_a)))


def _figures(analysis: Analysis) -> dict[str, LayerFigures]:
    return {i: LayerFigures(info.type, info.output_shape, info.params, info.receptive_field)
            for i, info in analysis.layers.items()}


def _param_changes(type_b: str, params_b: dict, type_a: str, params_a: dict) -> dict[str, tuple[Any, Any]]:
    """Parameters that differ, compared with Keras's defaults filled in (kernel_size 5 equals [5, 5])."""
    resolved_b, resolved_a = _resolved(type_b, params_b), _resolved(type_a, params_a)
    names = list(dict.fromkeys([*resolved_a, *resolved_b]))
    missing = object()
    out = {}
    for name in names:
        old, new = resolved_b.get(name, missing), resolved_a.get(name, missing)
        if _canonical(old) != _canonical(new):
            out[name] = (None if old is missing else old, None if new is missing else new)
    return out


def _resolved(type_name: str, params: dict) -> dict[str, Any]:
    spec = CATALOG.get(type_name)
    if spec is None:
        return dict(params)
    try:
        return spec.resolve(params)
    except ParamError:
        return dict(params)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=lambda v: list(v) if isinstance(v, tuple) else str(v))


def _largest_field(analysis: Analysis) -> tuple | None:
    fields = [info.receptive_field for info in analysis.layers.values() if info.receptive_field]
    return max(fields, key=math.prod) if fields else None


# -- the settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingChange:
    """A training or dataset setting with different values in the two runs."""

    section: str  # training | dataset
    key: str
    before: Any
    after: Any

    def describe(self) -> str:
        return f"{self.section}.{self.key}: {value_text(self.before)} -> {value_text(self.after)}"


def diff_settings(project_a: Project, info_a: dict, project_b: Project, info_b: dict) -> list[SettingChange]:
    """Only the settings that differ: training (with epochs and seed) and dataset."""
    changes = []
    for section, a, b in (("training", _training(project_a, info_a), _training(project_b, info_b)),
                          ("dataset", _dataset(project_a, info_a), _dataset(project_b, info_b))):
        for key in dict.fromkeys([*a, *b]):
            if _canonical(a.get(key)) != _canonical(b.get(key)):
                changes.append(SettingChange(section, key, a.get(key), b.get(key)))
    return changes


def _training(project: Project, info: dict) -> dict[str, Any]:
    settings = info.get("settings") if isinstance(info.get("settings"), dict) else {}
    return {**project.training, **settings}


def _dataset(project: Project, info: dict) -> dict[str, Any]:
    data = dict(project.dataset)
    loaded = info.get("dataset") if isinstance(info.get("dataset"), dict) else {}
    if loaded.get("name"):
        data["name"] = loaded["name"]
    return data


# -- the outcome -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassChange:
    """One class's F1 on the validation split in both runs (at each run's last epoch)."""

    name: str
    f1_before: float
    f1_after: float
    support: int

    @property
    def delta(self) -> float:
        return self.f1_after - self.f1_before


@dataclass(frozen=True)
class OutcomeDiff:
    """How the two runs did: curves side by side, final figures, per-class F1, per-image differences.

    `only_a_right` / `only_b_right` are positions in the validation split (most confidently
    wrong first); they are empty, with `per_image_note` saying why, when the runs did not
    validate on the same images (a different seed, validation share or dataset).
    """

    curves: dict[str, tuple[np.ndarray, np.ndarray]]  # column -> (run A per epoch, run B per epoch)
    final: dict[str, tuple[Any, Any]]  # test_accuracy, test_loss, val_accuracy, val_loss, seconds, epochs
    classes: list[ClassChange] | None
    only_a_right: np.ndarray
    only_b_right: np.ndarray
    per_image_note: str = ""


def diff_outcomes(run_a: Path, info_a: dict, project_a: Project, run_b: Path, info_b: dict,
                  project_b: Project) -> OutcomeDiff:
    curves = {column: (_column(run_a, column), _column(run_b, column)) for column in METRICS_HEADER[1:]}
    final = {name: (_final(info_a, name), _final(info_b, name))
             for name in ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "seconds", "epochs")}
    pa, pb = read_val_predictions(run_a), read_val_predictions(run_b)
    nothing = np.zeros(0, np.int64)
    if pa is None or pb is None or not pa.predicted or not pb.predicted:
        return OutcomeDiff(curves, final, None, nothing, nothing,
                           "a run kept no validation predictions per epoch, so images cannot be compared")
    names = _class_names(info_a, info_b, pa, pb)
    classes = _class_changes(pa, pb, names)
    note = _same_validation_images(project_a, info_a, pa, project_b, info_b, pb)
    if note:
        return OutcomeDiff(curves, final, classes, nothing, nothing, note)
    right_a, right_b = pa.correct(pa.last_epoch), pb.correct(pb.last_epoch)
    only_a = np.flatnonzero(right_a & ~right_b)
    only_b = np.flatnonzero(right_b & ~right_a)
    only_a = only_a[np.argsort(-pb.confidence[pb.last_epoch][only_a], kind="stable")]
    only_b = only_b[np.argsort(-pa.confidence[pa.last_epoch][only_b], kind="stable")]
    return OutcomeDiff(curves, final, classes, only_a, only_b)


def _column(run: Path, column: str) -> np.ndarray:
    try:
        rows = read_metrics(run)
    except (OSError, ValueError):
        return np.zeros(0)
    return np.array([np.nan if row.get(column) is None else row[column] for row in rows], dtype=float)


def _final(info: dict, name: str) -> Any:
    test = info.get("test") if isinstance(info.get("test"), dict) else {}
    last = info.get("final") if isinstance(info.get("final"), dict) else {}
    if name.startswith("test_"):
        return test.get(name.removeprefix("test_"))
    if name == "epochs":
        return info.get("epochs_completed")
    if name == "seconds":
        return info.get("seconds")
    return last.get(name)


def _class_names(info_a: dict, info_b: dict, pa: ValPredictions, pb: ValPredictions) -> list[str]:
    for info in (info_a, info_b):
        names = (info.get("dataset") or {}).get("class_names") if isinstance(info.get("dataset"), dict) else None
        if isinstance(names, list) and names:
            return [str(n) for n in names]
    count = 1 + max(int(p.max(initial=0)) for p in (pa.labels, pb.labels, pa.at(pa.last_epoch), pb.at(pb.last_epoch)))
    return [str(i) for i in range(count)]


def _class_changes(pa: ValPredictions, pb: ValPredictions, names: list[str]) -> list[ClassChange]:
    k = len(names)
    scores_a = class_scores(confusion_matrix(pa.labels, pa.at(pa.last_epoch), k))
    scores_b = class_scores(confusion_matrix(pb.labels, pb.at(pb.last_epoch), k))
    return [ClassChange(names[i], float(scores_a.f1[i]), float(scores_b.f1[i]), int(scores_b.support[i]))
            for i in range(k)]


def _same_validation_images(project_a: Project, info_a: dict, pa: ValPredictions, project_b: Project,
                            info_b: dict, pb: ValPredictions) -> str:
    """Why the two runs' validation images cannot be compared one by one, or "" when they can."""
    training_a, training_b = _training(project_a, info_a), _training(project_b, info_b)
    dataset_a, dataset_b = _dataset(project_a, info_a), _dataset(project_b, info_b)
    differ = [f"training.{k}" for k in SPLIT_TRAINING_KEYS if _canonical(training_a.get(k)) != _canonical(training_b.get(k))]
    differ += [f"dataset.{k}" for k in SPLIT_DATASET_KEYS if _canonical(dataset_a.get(k)) != _canonical(dataset_b.get(k))]
    if differ or len(pa.labels) != len(pb.labels) or not np.array_equal(pa.labels, pb.labels):
        why = f"their {', '.join(differ)} differ" if differ else "their validation labels differ"
        return (f"the runs validated on different images ({why}), so images cannot be compared one by one; "
                "compare runs trained with the same seed and data")
    return ""


# -- two runs --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunDiff:
    """Run A against run B: network, settings and outcome."""

    run_a: Path
    run_b: Path
    network: NetworkDiff
    settings: list[SettingChange]
    outcome: OutcomeDiff


def diff_runs(run_a: str | Path, run_b: str | Path) -> RunDiff:
    """Compare two run directories (A is "before", B is "after"); UserError when one is not a run."""
    run_a, run_b = Path(run_a), Path(run_b)
    loaded = []
    for run in (run_a, run_b):
        info = read_run_info(run)
        if info is None:
            raise UserError(f"{run} is not a run directory (it has no run.json)")
        loaded.append((info, load_project(run / "project.cnnproj")))
    (info_a, project_a), (info_b, project_b) = loaded
    return RunDiff(run_a, run_b, diff_networks(project_a.network, project_b.network),
                   diff_settings(project_a, info_a, project_b, info_b),
                   diff_outcomes(run_a, info_a, project_a, run_b, info_b, project_b))


def value_text(value: Any) -> str:
    """A setting's or parameter's value in words: 0.001, 5x5, none."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return dims_text(value) if value and all(isinstance(v, int) for v in value) else json.dumps(list(value))
    return "none" if value is None else str(value)


def shape_text(shape: tuple | None) -> str:
    """A shape or receptive field as "28x28x6" ("-" when there is none)."""
    return "-" if not shape else dims_text(shape)


def bytes_text(count: int, signed: bool = False) -> str:
    """A size in bytes in words: "18.8 KB", or with `signed` "+18.8 KB"."""
    sign = ("+" if count > 0 else "-" if count < 0 else "") if signed else ""
    size = abs(count)
    for unit, scale in (("MB", 2 ** 20), ("KB", 2 ** 10)):
        if size >= scale:
            return f"{sign}{size / scale:,.1f} {unit}"
    return f"{sign}{size:,} B"
