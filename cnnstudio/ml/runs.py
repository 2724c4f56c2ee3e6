"""Run records: one directory per training run (CONTRACTS.md section 2).

    runs/<project>-<YYYYmmdd-HHMMSS>/
        project.cnnproj     what was trained (a snapshot, never the user's file)
        run.json            settings, dataset, strategy, timing, final and test metrics, versions
        metrics.csv         a row per epoch: epoch,loss,accuracy,val_loss,val_accuracy
        model.keras         the trained model (written when training ends)
        logs/train, logs/validation   TensorBoard event files
        checkpoints/        last.npz, best.npz, best.keras (see training/checkpoints.py)

Every file except the TensorBoard logs is replaced atomically (written beside its
name, then renamed), so a crash never leaves a half-written file and never touches
another run's directory.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

from ..core.errors import UserError
from ..core.project import Project, atomic_write_text, dumps, load_project
from ..core.runs import (  # noqa: F401 - the readers live in core (no TensorFlow) and are re-exported here
    FINISHED,
    METRICS_HEADER,
    RUN_FORMAT,
    RUNNING,
    is_run_dir,
    list_runs,
    read_metrics,
    read_run_info,
)
from .training.checkpoints import Checkpoints, disk_error, replace_bytes, save_model_atomically
from .training.reporting import EpochReport


def default_run_dir(project: Project, stem: str | None = None, now: datetime.datetime | None = None) -> Path:
    """`runs/<stem>-<YYYYmmdd-HHMMSS>` next to the project file (or in the current folder)."""
    if stem is None:
        stem = project.path.stem if project.path else _slug(project.name)
    base = (project.path.parent if project.path else Path.cwd()) / "runs"
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = base / f"{stem}-{stamp}"
    n = 2
    while candidate.exists():
        candidate = base / f"{stem}-{stamp}-{n}"
        n += 1
    return candidate


def _slug(name: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name).strip("-")
    return "-".join(part for part in cleaned.split("-") if part) or "run"


def versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow as tf

    from .. import __version__

    return {"cnnstudio": __version__, "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__, "platform": platform.platform()}


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class RunRecord:
    """The directory of one run, written as the run goes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.checkpoints = Checkpoints(self.path / "checkpoints")
        self.info: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, project: Project) -> RunRecord:
        """A new run directory, or an interrupted one to resume (same network only).

        A directory that holds something else, or a run that ended, is refused untouched.
        A run killed before its first checkpoint simply starts again.
        """
        record = cls(Path(path))
        if record.path.exists() and not record.path.is_dir():
            raise UserError(f"run directory {record.path} is a file; choose another --run-dir")
        if record.path.is_dir() and any(record.path.iterdir()):
            info = read_run_info(record.path)
            if info is None:
                raise UserError(f"{record.path} already exists and is not a CNN Studio run; "
                                "choose another --run-dir (nothing there was changed)")
            if info.get("status") != RUNNING:
                raise UserError(f"{record.path} holds a {info.get('status', 'finished')} run; choose another "
                                "--run-dir (nothing there was changed)")
            if record.checkpoints.load_state() is not None:
                record._check_same_network(project)
                record.info = info
                return record
        try:
            record.path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(record.path / "project.cnnproj", dumps(project))
        except OSError as exc:
            raise disk_error(exc, record.path, "the run record") from None
        return record

    def _check_same_network(self, project: Project) -> None:
        try:
            saved = load_project(self.path / "project.cnnproj")
        except UserError:
            saved = None
        if saved is None or saved.network.to_dict() != project.network.to_dict():
            raise UserError(f"{self.path} holds an interrupted run of a different network; choose another "
                            "--run-dir to train this one (nothing there was changed)")

    @property
    def resumable(self) -> bool:
        return self.info.get("status") == RUNNING and self.checkpoints.load_state() is not None

    # -- writing ----------------------------------------------------------------------------
    def write_info(self, durable: bool = False, **fields: Any) -> None:
        """Merge `fields` into run.json and replace it atomically (`durable`: also flush to disk)."""
        self.info = {"format": RUN_FORMAT, "version": 1, **self.info, **fields}
        text = json.dumps(_clean(self.info), indent=1, allow_nan=False) + "\n"
        try:
            replace_bytes(self.path / "run.json", text.encode("utf-8"), durable=durable)
        except OSError as exc:
            raise disk_error(exc, self.path / "run.json", "run.json") from None

    def write_metrics(self, history: list[EpochReport]) -> None:
        """metrics.csv with one row per epoch (empty cells where there is no validation)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(METRICS_HEADER)
        for r in history:
            writer.writerow([r.epoch, *(_cell(v) for v in (r.loss, r.accuracy, r.val_loss, r.val_accuracy))])
        try:
            replace_bytes(self.path / "metrics.csv", out.getvalue().encode("utf-8"))
        except OSError as exc:
            raise disk_error(exc, self.path / "metrics.csv", "metrics.csv") from None

    def log_epoch(self, report: EpochReport) -> None:
        """The epoch's figures in TensorBoard (logs/train and logs/validation)."""
        import tensorflow as tf

        def writer(name: str):
            if name not in self._writers:
                self._writers[name] = tf.summary.create_file_writer(str(self.path / "logs" / name))
            return self._writers[name]

        pairs = {"train": {"loss": report.loss, "accuracy": report.accuracy, "learning_rate": report.learning_rate,
                           "top_k_accuracy": report.top_k_accuracy, "images_per_second": report.images_per_second},
                 "validation": {"loss": report.val_loss, "accuracy": report.val_accuracy,
                                "top_k_accuracy": report.val_top_k_accuracy}}
        try:
            for name, values in pairs.items():
                shown = {k: v for k, v in values.items() if v is not None}
                if not shown:
                    continue
                with writer(name).as_default(step=report.epoch):
                    for key, value in shown.items():
                        write_scalar(f"epoch_{key}", value, report.epoch)
                writer(name).flush()
        except OSError as exc:
            raise disk_error(exc, self.path / "logs", "the TensorBoard logs") from None

    def save_model(self, model) -> None:
        save_model_atomically(model, self.path / "model.keras", "the trained model")

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()


def write_scalar(tag: str, value: float, step: int) -> None:
    """A scalar summary TensorBoard shows in its Scalars tab (no tensorboard package needed)."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=metadata.SerializeToString())


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else "nan"


def command_line() -> str:
    return " ".join(sys.argv)
