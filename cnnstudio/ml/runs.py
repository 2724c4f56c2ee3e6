"""Run records: one directory per training run (CONTRACTS.md section 2).

    runs/<project>-<YYYYmmdd-HHMMSS>/
        project.cnnproj     what was trained (a snapshot, never the user's file)
        run.json            settings, dataset, strategy, timing, final and test metrics, versions
        metrics.csv         a row per epoch: epoch,loss,accuracy,val_loss,val_accuracy, then the
                            task's own columns (mean_iou,val_mean_iou / auc,val_auc / mae,val_mae)
        model.keras         the trained model (written when training ends)
        logs/train, logs/validation   TensorBoard event files
        checkpoints/        last.npz, best.npz, best.keras (see training/checkpoints.py)
        val_predictions.npz each epoch's validation predictions (classification)
        .lock               while a process trains into it: that process's id

Every file goes through the one atomic, durable writer (`cnnstudio.core.files`), so a
crash or a full disk never leaves a half-written file under its final name and never
touches another run's directory. A run directory in use by a living process is refused.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import UserError
from ..core.files import WriteBehind
from ..core.project import Project, dumps, load_project
from ..core.runs import (  # noqa: F401 - the readers live in core (no TensorFlow) and are re-exported here
    FINISHED,
    INTERRUPTED,
    METRICS_HEADER,
    RUN_FORMAT,
    RUNNING,
    is_run_dir,
    list_runs,
    read_metrics,
    read_run_info,
)
from .training.checkpoints import (
    CheckpointBudget,
    Checkpoints,
    disk_error,
    save_model_atomically,
    write_bytes,
)
from .training.reporting import EpochReport
from .training.tensorboard import EventFile

LOCK_NAME = ".lock"


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
    """The versions a run was trained with (the Keras backend's too), without importing any backend."""
    import keras

    from .. import __version__

    found = {"cnnstudio": __version__, "python": platform.python_version(), "keras": keras.__version__,
             "backend": keras.backend.backend(), "numpy": np.__version__, "platform": platform.platform()}
    for package in ("tensorflow", "jax", "torch"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


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
        self.checkpoints = Checkpoints(self.path / "checkpoints", write=self._write)
        self.info: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}
        self._behind: WriteBehind | None = None
        self._seconds: dict[Path, float] = {}  # how long the latest write of each file took (all of it)
        self._writing: set[Path] = set()  # files given to the writer and not yet written
        self._budget = CheckpointBudget()
        self._held: dict[str, Any] = {}  # the newest epoch's checkpoints the budget held back ("last", "best")

    # -- where the files are written ----------------------------------------------------------
    def write_behind(self) -> None:
        """From now on the record's files are written on a background thread (while training), in order."""
        if self._behind is None:
            self._behind = WriteBehind("run record writer")

    def write_now(self, raise_error: bool = True) -> None:
        """Wait for the files still being written, write in place again; raise a failed write's error."""
        behind, self._behind = self._behind, None
        if behind is not None:
            behind.finish(raise_error=raise_error)

    def wait_for_writes(self) -> None:
        """Block until the files given so far are on disk (raise a failed write's error); keep writing behind."""
        if self._behind is not None:
            self._behind.wait()

    def save_checkpoints(self, last: dict[str, Any], best: list | None = None) -> None:
        """An epoch's checkpoints: `last` from `Checkpoints.last_of`, and the weights of a new best epoch.
        Written now, or held (whole, replacing older ones held) while writing them would take more than
        `CHECKPOINT_SHARE` of the run's time (see `CheckpointBudget`); `flush_checkpoints` writes them."""
        if best is not None:
            self._held["best"] = best
        self._held["last"] = last
        paths = [self.checkpoints.last] + ([self.checkpoints.best] if "best" in self._held else [])
        cost = sum(self._seconds.get(path, 0.0) for path in paths)
        if self._budget.due(cost, busy=any(path in self._writing for path in paths)):
            self.flush_checkpoints()

    def flush_checkpoints(self) -> None:
        """Write the checkpoints held back (when the run pauses, and at its end however it ends)."""
        held, self._held = self._held, {}
        if "best" in held:
            self.checkpoints.save_best(held["best"])
        if "last" in held:
            self.checkpoints.write_last(held["last"])
        if held:
            self._budget.wrote()

    def _write(self, path: Path, make, what: str) -> None:
        def write() -> None:
            started = time.perf_counter()
            try:
                write_bytes(path, make(), what)
                self._seconds[path] = time.perf_counter() - started
            finally:
                self._writing.discard(path)

        self._writing.add(path)
        if self._behind is None:
            write()
            return
        try:
            self._behind.submit(path, write)
        except BaseException:
            self._writing.discard(path)
            raise

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
        try:
            record.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, record.path, "the run record") from None
        record._lock()
        try:
            record._open(project)
        except BaseException:
            record.close()
            raise
        return record

    def _open(self, project: Project) -> None:
        record = self
        if any(p.name != LOCK_NAME for p in record.path.iterdir()):
            info = read_run_info(record.path)
            if info is None:
                raise UserError(f"{record.path} already exists and is not a CNN Studio run; "
                                "choose another --run-dir (nothing there was changed)")
            if info.get("status") not in (RUNNING, INTERRUPTED):
                raise UserError(f"{record.path} holds a {info.get('status', 'finished')} run; choose another "
                                "--run-dir (nothing there was changed)")
            if record.checkpoints.load_state() is not None:
                record._check_same_network(project)
                record.info = info
                return
        write_bytes(record.path / "project.cnnproj", dumps(project).encode("utf-8"), "the run record")
        record.write_metrics([])  # the header from the start: a run that ends in epoch 1 still has one

    # -- the lock ---------------------------------------------------------------------------
    def _lock(self) -> None:
        """Take `.lock` (this process's id), or refuse a directory another living process trains into.

        The lock appears whole or not at all (a hard link of a finished file); a lock whose
        process is gone is moved aside and taken over.
        """
        lock = self.path / LOCK_NAME
        mine = f"{os.getpid()}\n"
        for _ in range(3):
            fd, tmp = tempfile.mkstemp(prefix=".lock.", suffix=".tmp", dir=self.path)
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(mine)
                os.link(tmp, lock)
                self._locked = True
                return
            except FileExistsError:
                pass
            except OSError as exc:
                raise disk_error(exc, lock, "the run's lock file") from None
            finally:
                os.unlink(tmp)
            owner = _lock_owner(lock)
            if owner is not None and _alive(owner):
                raise UserError(f"{self.path} is in use: another training run (process {owner}) is writing into it; "
                                "wait for it to end or choose another --run-dir")
            aside = self.path / f".lock.stale.{os.getpid()}"
            try:
                os.rename(lock, aside)
            except FileNotFoundError:
                continue  # someone else moved it: try again
            if _lock_owner(aside) != owner:  # it was a fresh lock taken meanwhile: put it back
                os.rename(aside, lock)
                raise UserError(f"{self.path} is in use by another training run; choose another --run-dir")
            os.unlink(aside)
        raise UserError(f"{self.path} is in use by another training run; choose another --run-dir")

    def _unlock(self) -> None:
        if getattr(self, "_locked", False):
            self._locked = False
            try:
                if _lock_owner(self.path / LOCK_NAME) == os.getpid():
                    os.unlink(self.path / LOCK_NAME)
            except OSError:
                pass

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
        return self.info.get("status") in (RUNNING, INTERRUPTED) and self.checkpoints.load_state() is not None

    # -- writing ----------------------------------------------------------------------------
    def write_info(self, durable: bool = False, **fields: Any) -> None:
        """Merge `fields` into run.json and replace it atomically (`durable`: also flush to disk)."""
        self.info = {"format": RUN_FORMAT, "version": 1, **self.info, **fields}
        text = json.dumps(_clean(self.info), indent=1, allow_nan=False) + "\n"
        data = text.encode("utf-8")
        self._write(self.path / "run.json", lambda: data, "run.json")

    def write_metrics(self, history: list[EpochReport], extra: Sequence[str] = ()) -> None:
        """metrics.csv with one row per epoch (empty cells where there is no validation), and after the
        contract's five columns the task's own (`extra`, e.g. mean_iou, val_mean_iou)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        extra = list(dict.fromkeys([*extra, *(k for r in history for k in r.metrics)]))
        writer.writerow([*METRICS_HEADER, *extra])
        for r in history:
            writer.writerow([r.epoch, *(_cell(v) for v in (r.loss, r.accuracy, r.val_loss, r.val_accuracy)),
                             *(_cell(r.metrics.get(k)) for k in extra)])
        data = out.getvalue().encode("utf-8")
        self._write(self.path / "metrics.csv", lambda: data, "metrics.csv")

    def write_val_predictions(self, labels: np.ndarray, epochs: list[tuple[np.ndarray, np.ndarray]],
                              num_classes: int) -> None:
        """val_predictions.npz: `labels`, and per epoch k (1-based) `epoch_k` (the predicted class,
        uint8 or uint16) and `confidence_k` (float16 probability of that class)."""
        kind = np.uint8 if num_classes <= 256 else np.uint16 if num_classes <= 65536 else np.int64
        arrays = {"labels": np.asarray(labels, np.int64)}
        for k, (predicted, confidence) in enumerate(epochs, start=1):
            arrays[f"epoch_{k}"] = np.asarray(predicted).astype(kind)
            arrays[f"confidence_{k}"] = np.asarray(confidence, np.float16)

        def packed() -> bytes:
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            return buffer.getvalue()

        self._write(self.path / "val_predictions.npz", packed, "the validation predictions")

    def log_epoch(self, history: list[EpochReport]) -> None:
        """Every epoch's figures in TensorBoard's files (logs/train and logs/validation)."""
        for name, keys in (("train", ("loss", "accuracy", "learning_rate", "top_k_accuracy", "images_per_second")),
                           ("validation", ("val_loss", "val_accuracy", "val_top_k_accuracy"))):
            if name not in self._writers:
                self._writers[name] = EventFile(self.path / "logs" / name, write=self._write)
            epochs = []
            for report in history:
                figures = {k: getattr(report, k) for k in keys}
                figures.update({k: v for k, v in report.metrics.items() if k.startswith("val_") == (name != "train")})
                values = {f"epoch_{k.removeprefix('val_')}": float(v) for k, v in figures.items()
                          if v is not None and math.isfinite(v)}
                epochs.append((report.epoch, values))
            if any(values for _, values in epochs):
                self._writers[name].write(epochs)

    def save_model(self, model) -> None:
        save_model_atomically(model, self.path / "model.keras", "the trained model")

    def close(self) -> None:
        """Let go of the directory (its lock)."""
        self.write_now(raise_error=False)
        self._writers.clear()
        self._unlock()


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value)) if math.isfinite(value) else "nan"


def command_line() -> str:
    return " ".join(sys.argv)
