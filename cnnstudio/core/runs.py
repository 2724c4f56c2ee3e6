"""Reading run records without TensorFlow: the GUI's run history, export, comparisons.

A run directory (see `cnnstudio.ml.runs` for how it is written) holds `run.json`
(settings, dataset, status, timing, final and test metrics), `metrics.csv` (a row per
epoch), `project.cnnproj` (what was trained) and `val_predictions.npz` (each epoch's
validation predictions, read only when asked for). A history of a hundred runs loads in a
few milliseconds.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError

RUN_FORMAT = "cnnstudio-run"
METRICS_HEADER = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
RUNNING, FINISHED, IMPORTED = "running", "finished", "imported"
INTERRUPTED = "interrupted"  # ended by an error it can resume from (a full disk); run it again to go on
PREDICTIONS_FILE = "val_predictions.npz"


def read_run_info(path: str | Path) -> dict[str, Any] | None:
    """run.json of a run directory, or None when it is not a run directory."""
    try:
        data = json.loads((Path(path) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RUN_FORMAT else None


def read_metrics(path: str | Path) -> list[dict[str, float | None]]:
    """The rows of a run's metrics.csv as dicts (None for empty cells)."""
    rows = []
    with open(Path(path) / "metrics.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append({k: _number(v) for k, v in row.items() if k is not None})
    return rows


def _number(text: str | None) -> float | None:
    if text in ("", None):
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ValPredictions:
    """Each epoch's predicted class and confidence for every validation image of a run.

    Indices are positions in the run's validation split, in its unshuffled order.
    """

    labels: Any  # (N,) int64 true class
    predicted: dict[int, Any]  # epoch (1-based) -> (N,) int64 predicted class
    confidence: dict[int, Any]  # epoch -> (N,) float32 probability of the predicted class

    @property
    def epochs(self) -> list[int]:
        return sorted(self.predicted)

    @property
    def last_epoch(self) -> int | None:
        return self.epochs[-1] if self.predicted else None

    def correct(self, epoch: int) -> Any:
        """(N,) bool: which images the run classified correctly after `epoch`."""
        return self.at(epoch) == self.labels

    def at(self, epoch: int) -> Any:
        if epoch not in self.predicted:
            shown = f"epochs {self.epochs[0]} to {self.epochs[-1]}" if self.predicted else "no epochs"
            raise UserError(f"there are no validation predictions for epoch {epoch} (the run has {shown})")
        return self.predicted[epoch]


def read_val_predictions(run_dir: str | Path) -> ValPredictions | None:
    """The run's kept validation predictions (`val_predictions.npz`: `labels`, and per epoch k from 1
    `epoch_<k>` and `confidence_<k>`), or None when it has none (no validation split, not a
    classifier, not written yet, unreadable)."""
    import numpy as np

    try:
        with np.load(Path(run_dir) / PREDICTIONS_FILE, allow_pickle=False) as data:
            labels = np.asarray(data["labels"], dtype=np.int64)
            predicted, confidence = {}, {}
            for key in data.files:
                if key.startswith("epoch_"):
                    epoch = int(key.split("_", 1)[1])
                    predicted[epoch] = np.asarray(data[key], dtype=np.int64)
                    confidence[epoch] = np.asarray(data[f"confidence_{epoch}"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        return None
    return ValPredictions(labels, dict(sorted(predicted.items())), dict(sorted(confidence.items())))


@dataclass(frozen=True)
class Interruption:
    """What an interrupted run kept: epochs done with a checkpoint after the last of them."""

    run_dir: Path
    epochs: int  # finished epochs (0: none)
    resumable: bool  # a checkpoint is there to go on from


def mark_interrupted(run_dir: str | Path, why: str) -> Interruption | None:
    """After the process that trained into `run_dir` died: a run.json still saying "running" says
    "interrupted" with `why`, so the run can be resumed. None when the folder holds no run record."""
    from .files import atomic_write_text

    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    if info is None:
        return None
    if info.get("status") == RUNNING:
        info = {**info, "status": INTERRUPTED, "message": why}
        atomic_write_text(run_dir / "run.json", json.dumps(info, indent=1, allow_nan=False) + "\n")
    checkpoint = run_dir / "checkpoints" / "last.npz"
    epochs = checkpoint_epochs(checkpoint) if checkpoint.is_file() else None
    if epochs is None:  # run.json may be written ahead of the checkpoint it goes with
        recorded = info.get("epochs_completed")
        epochs = recorded if isinstance(recorded, int) and not checkpoint.is_file() else 0
    return Interruption(run_dir, epochs, checkpoint.is_file())


def checkpoint_epochs(path: str | Path) -> int | None:
    """The epochs done by the last checkpoint `path` (a resumed run carries on after them); None when
    it cannot be read."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data["state"]))
        return int(state.get("epoch", len(state.get("history", []))))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def can_resume(status: str, run_dir: str | Path) -> bool:
    """Whether a run with this status can carry on from its last checkpoint."""
    return status in (RUNNING, INTERRUPTED) and (Path(run_dir) / "checkpoints" / "last.npz").is_file()


def is_run_dir(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / "run.json").is_file()


def list_runs(folder: str | Path) -> list[Path]:
    """Run directories in `folder` (e.g. a project's runs/), newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    runs = [p for p in folder.iterdir() if is_run_dir(p)]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


# -- summaries for the run history --------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """One row of the run history: what was trained, how, how it went (from run.json)."""

    path: Path
    project: str
    project_file: str | None
    started: datetime.datetime | None
    status: str  # finished, stopped, early_stopping, diverged, running, imported, ...
    dataset: str
    settings: dict[str, Any]
    permute_pixels: int | None
    epochs_completed: int
    epochs_planned: int | None
    final: dict[str, Any]  # the last epoch's figures (loss, accuracy, val_loss, val_accuracy, ...)
    test: dict[str, Any]
    seconds: float | None
    message: str
    network: str | None  # a fingerprint of the trained network, None when unknown
    layers: int | None  # how many layers the trained network has
    info: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_model(self) -> bool:
        return (self.path / "model.keras").is_file() or (self.path / "checkpoints" / "last.keras").is_file()

    def metric(self, key: str) -> float | None:
        value = self.final.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def test_accuracy(self) -> float | None:
        value = self.test.get("accuracy")
        return float(value) if isinstance(value, (int, float)) else None


def network_fingerprint(network: dict[str, Any]) -> str:
    """What decides a network's behaviour (layers, parameters, connections), as one string.

    Canvas positions and other presentation keys are left out, so moving a layer does
    not make a run's network "older".
    """
    nodes = [{"id": n.get("id"), "type": n.get("type"), "params": n.get("params") or {}}
             for n in network.get("nodes", []) if isinstance(n, dict)]
    edges = [list(e) for e in network.get("edges", []) if isinstance(e, (list, tuple))]
    return json.dumps({"nodes": nodes, "edges": edges}, sort_keys=True, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)


def _parse_time(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def summarize_run(path: str | Path) -> RunSummary | None:
    """The history row of one run directory, or None when it is not a run."""
    path = Path(path)
    info = read_run_info(path)
    if info is None:
        return None
    snapshot = _read_json(path / "project.cnnproj")
    network = snapshot.get("network") if isinstance(snapshot.get("network"), dict) else None
    settings = info.get("settings") if isinstance(info.get("settings"), dict) else {}
    if not settings and isinstance(snapshot.get("training"), dict):
        settings = snapshot["training"]
    data = info.get("dataset") if isinstance(info.get("dataset"), dict) else {}
    snap_data = snapshot.get("dataset") if isinstance(snapshot.get("dataset"), dict) else {}
    permute = snap_data.get("permute_pixels")
    final = info.get("final") if isinstance(info.get("final"), dict) else {}
    if not final:
        final = _last_metrics_row(path)
    started = _parse_time(info.get("started")) or _parse_time(info.get("created"))
    if started is None:
        started = datetime.datetime.fromtimestamp((path / "run.json").stat().st_mtime)
    planned = settings.get("epochs")
    return RunSummary(
        path=path,
        project=str(info.get("project") or snapshot.get("name") or path.name),
        project_file=info.get("project_file") if isinstance(info.get("project_file"), str) else None,
        started=started,
        status=str(info.get("status") or FINISHED),
        dataset=str(data.get("name") or snap_data.get("name") or ""),
        settings=settings,
        permute_pixels=permute if isinstance(permute, int) and not isinstance(permute, bool) else None,
        epochs_completed=int(info.get("epochs_completed") or final.get("epoch") or 0),
        epochs_planned=planned if isinstance(planned, int) else None,
        final=final,
        test=info.get("test") if isinstance(info.get("test"), dict) else {},
        seconds=info.get("seconds") if isinstance(info.get("seconds"), (int, float)) else None,
        message=str(info.get("message") or ""),
        network=None if network is None else network_fingerprint(network),
        layers=None if network is None else len(network.get("nodes", [])),
        info=info,
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _last_metrics_row(path: Path) -> dict[str, Any]:
    try:
        rows = read_metrics(path)
    except (OSError, ValueError, csv.Error):
        return {}
    return dict(rows[-1]) if rows else {}


def load_history(folder: str | Path) -> list[RunSummary]:
    """Every run in `folder`, newest first (unreadable folders are skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    summaries = []
    for entry in folder.iterdir():
        summary = summarize_run(entry) if entry.is_dir() else None
        if summary is not None:
            summaries.append(summary)
    epoch = datetime.datetime.min
    return sorted(summaries, key=lambda s: (s.started or epoch, s.name), reverse=True)


# -- what differs between runs ------------------------------------------------------------

# (key in the settings, short label, how to write the value); in the order they are shown
_SETTING_LABELS: tuple[tuple[str, str], ...] = (
    ("optimizer", ""),
    ("learning_rate", "lr"),
    ("batch_size", "batch"),
    ("epochs", "epochs"),
    ("validation_split", "val"),
    ("normalization", ""),
    ("seed", "seed"),
    ("momentum", "momentum"),
    ("weight_decay", "wd"),
    ("schedule", "schedule"),
    ("early_stopping", "early stop"),
    ("loss", "loss"),
    ("max_steps_per_epoch", "steps/epoch"),
)


def _value_text(key: str, value: Any) -> str:
    if key == "validation_split" and isinstance(value, (int, float)):
        return f"{value:.0%}"
    if key == "early_stopping":
        return "off" if value is None else f"after {value}"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    return str(value)


def differing_settings(summaries: Sequence[RunSummary]) -> dict[Path, str]:
    """For each run, the settings whose values are not the same in all runs, in a few words.

    E.g. {"runs/a": "mlp, lr 0.01, shuffled pixels", "runs/b": "lenet5, lr 0.001"}: what a
    user needs to tell the runs apart. Empty strings when all runs were trained alike.
    """
    if len(summaries) < 2:
        return {s.path: "" for s in summaries}
    parts: dict[Path, list[str]] = {s.path: [] for s in summaries}

    def varies(values: Iterable[Any]) -> bool:
        return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1

    projects = [s.project for s in summaries]
    if varies(projects):
        for s in summaries:
            parts[s.path].append(s.project)
    if varies(s.network for s in summaries):
        _network_labels(summaries, parts)
    if varies(s.dataset for s in summaries):
        for s in summaries:
            parts[s.path].append(s.dataset)
    if varies(s.permute_pixels for s in summaries):
        for s in summaries:
            parts[s.path].append("plain pixels" if s.permute_pixels is None else "shuffled pixels")
    for key, label in _SETTING_LABELS:
        values = [s.settings.get(key) for s in summaries]
        if varies(values):
            for s, value in zip(summaries, values, strict=True):
                text = _value_text(key, value)
                parts[s.path].append(f"{label} {text}".strip())
    names = {s.path: s.project.lower() for s in summaries}
    return {path: ", ".join(w for i, w in enumerate(words) if i == 0 or w.lower() not in names[path])
            for path, words in parts.items()}  # "MLP, shuffled pixels" needs no second "shuffled pixels"


def _network_labels(summaries: Sequence[RunSummary], parts: dict[Path, list[str]]) -> None:
    """Name networks "network 1", "network 2"... by first appearance (oldest first) within a project."""
    numbers: dict[tuple[str, str | None], int] = {}
    per_project: dict[str, int] = {}
    for s in sorted(summaries, key=lambda s: (s.started or datetime.datetime.min, s.name)):
        key = (s.project, s.network)
        if key not in numbers:
            per_project[s.project] = per_project.get(s.project, 0) + 1
            numbers[key] = per_project[s.project]
    for s in summaries:
        if per_project.get(s.project, 1) > 1:
            parts[s.path].append(f"network {numbers[(s.project, s.network)]}")
