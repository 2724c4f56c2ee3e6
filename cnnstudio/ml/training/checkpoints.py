"""Checkpoints: what an interrupted run needs to go on, and the best model so far.

Files in `<run>/checkpoints/`:

- `last.npz`: after every epoch, ONE file holding the model's variables, the optimizer's
  variables and the run's state (epochs done, history, schedule and early-stopping
  counters) — weights and state can never disagree;
- `best.npz`: the model's variables at the epoch with the lowest validation loss;
- `best.keras`: the best model as a Keras file, written when training ends.

Per-epoch files are written beside their final name and renamed over it (a killed
process never leaves half a file, and the previous checkpoint stays whole). They are
not fsync'ed: saving costs a few milliseconds, not a noticeable share of an epoch.
Final files (model.keras, best.keras) are also flushed to disk.
"""

from __future__ import annotations

import errno
import io
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ...core.errors import UserError
from ...core.files import atomic_write_bytes, atomic_write_with

STATE_FORMAT = "cnnstudio-checkpoint"


def replace_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path` (`core.files`)."""
    atomic_write_bytes(path, data, durable=durable)


def save_model_atomically(model: keras.Model, path: Path, what: str = "the model") -> None:
    """`model.save(path)` through a temporary file, fsync and rename; disk full is a UserError."""
    try:
        atomic_write_with(path, lambda tmp: model.save(tmp), suffix=".keras")
    except OSError as exc:
        raise disk_error(exc, path, what) from None


def disk_error(exc: OSError, path: Path, what: str) -> UserError:
    """A plain message for a failed write (disk full, no permission, ...)."""
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "there is no permission to write there"
    else:
        reason = exc.strerror or str(exc)
    return UserError(f"could not save {what} to {path}: {reason}; the files saved before are kept. "
                     "Free some space (or choose another --run-dir) and run the same command again to resume")


def _pack(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


class Checkpoints:
    """The checkpoint folder of one run."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.last = self.folder / "last.npz"
        self.best = self.folder / "best.npz"
        self.best_model = self.folder / "best.keras"

    def _write(self, path: Path, arrays: dict[str, np.ndarray], what: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            replace_bytes(path, _pack(arrays))
        except OSError as exc:
            raise disk_error(exc, path, what) from None

    def save_last(self, model: keras.Model, optimizer: keras.optimizers.Optimizer, state: dict[str, Any]) -> None:
        """Model and optimizer variables after an epoch, with the state that goes with them."""
        arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model_values(model))}
        arrays.update({f"optimizer_{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)})
        text = json.dumps({"format": STATE_FORMAT, "version": 1, **state}, allow_nan=False)
        arrays["state"] = np.array(text)
        self._write(self.last, arrays, "the last checkpoint")

    def save_best(self, values: list[np.ndarray]) -> None:
        self._write(self.best, {f"model_{i}": v for i, v in enumerate(values)}, "the best checkpoint")

    def load_state(self) -> dict[str, Any] | None:
        """The state saved with the last checkpoint, or None when there is none usable."""
        try:
            with np.load(self.last, allow_pickle=False) as data:
                state = json.loads(str(data["state"]))
        except (OSError, ValueError, KeyError):
            return None
        return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else None

    def restore_last(self, model: keras.Model, optimizer: keras.optimizers.Optimizer) -> None:
        """Load the last checkpoint's model and optimizer variables."""
        try:
            with np.load(self.last, allow_pickle=False) as data:
                model_arrays = _ordered(data, "model_")
                optimizer_arrays = _ordered(data, "optimizer_")
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"cannot resume from {self.last}: it cannot be read ({exc})") from None
        _assign(model.variables, model_arrays, self.last)
        _assign(optimizer.variables, optimizer_arrays, self.last)

    def restore_model(self, model: keras.Model) -> None:
        """Load only the model's variables of the last checkpoint (to look at or export an unfinished run)."""
        try:
            with np.load(self.last, allow_pickle=False) as data:
                model_arrays = _ordered(data, "model_")
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"cannot read the checkpoint {self.last} ({exc})") from None
        _assign(model.variables, model_arrays, self.last, "it was saved for a different network")

    def load_best(self) -> list[np.ndarray] | None:
        try:
            with np.load(self.best, allow_pickle=False) as data:
                return _ordered(data, "model_")
        except (OSError, ValueError, KeyError):
            return None


def model_values(model: keras.Model) -> list[np.ndarray]:
    """Every variable of the model (weights, normalization statistics, dropout seeds) as NumPy."""
    return [np.asarray(v.numpy()) for v in model.variables]


def set_model_values(model: keras.Model, values: list[np.ndarray]) -> None:
    for variable, value in zip(model.variables, values, strict=True):
        variable.assign(value)


def _ordered(data, prefix: str) -> list[np.ndarray]:
    count = sum(1 for key in data.files if key.startswith(prefix))
    return [data[f"{prefix}{i}"] for i in range(count)]


def _assign(variables, arrays: list[np.ndarray], where: Path,
            problem: str = "it does not match this network; choose another --run-dir to start afresh") -> None:
    if len(variables) != len(arrays) or any(tuple(v.shape) != a.shape for v, a in zip(variables, arrays, strict=False)):
        action = "resume from" if "--run-dir" in problem else "use"
        raise UserError(f"cannot {action} {where}: {problem}")
    for variable, value in zip(variables, arrays, strict=True):
        variable.assign(value)
