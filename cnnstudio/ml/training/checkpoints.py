"""Checkpoints: what an interrupted run needs to go on, and the best model so far.

Files in `<run>/checkpoints/`:

- `last.npz`: after every epoch, ONE file holding the model's variables, the optimizer's
  variables and the run's state (epochs done, history, schedule and early-stopping
  counters) — weights and state can never disagree (the trainer writes it less often when
  writing it would take more than a twentieth of the training time: `CheckpointBudget`);
- `best.npz`: the weights (as `model.get_weights()` lists them) of the epoch with the lowest validation loss;
- `best.keras`: the best model as a Keras file, written when training ends.

Every file goes through the one atomic, durable writer (`cnnstudio.core.files`): a
killed process or a full disk never leaves half a file under its final name, and the
previous checkpoint stays whole.
"""

from __future__ import annotations

import errno
import functools
import io
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ...core import files
from ...core.errors import UserError

STATE_FORMAT = "cnnstudio-checkpoint"
CHECKPOINT_SHARE = 0.05  # writing checkpoints may take at most this share of a run's time


class CheckpointBudget:
    """When an epoch's checkpoints are written: after every epoch, unless writing them takes more than
    `CHECKPOINT_SHARE` of the time (a large network whose epochs are short, as on a GPU). Then they are
    written once the writer is free and the time since the last write is 1 / `share` times as long as
    that write took; the newest epoch's waits, whole, for then, a pause or the end of the run. A killed run
    loses at most one epoch or that time, whichever is longer."""

    def __init__(self, share: float = CHECKPOINT_SHARE, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.clock = clock
        self.written_at: float | None = None

    def due(self, cost: float, busy: bool = False) -> bool:
        """Whether to write now: `cost`, the seconds the last write took; `busy`, the writer still at it."""
        if self.written_at is None:
            return True
        return not busy and self.clock() - self.written_at >= cost / self.share

    def wrote(self) -> None:
        self.written_at = self.clock()


def write_bytes(path: Path, data: bytes, what: str) -> None:
    """`data` into `path` through the atomic writer; a failed write is a UserError in plain words."""
    try:
        files.atomic_write_bytes(path, data)
    except OSError as exc:
        raise disk_error(exc, Path(path), what, len(data)) from None


Writer = Callable[[Path, Callable[[], bytes], str], None]  # (file, makes its bytes, what it is, in words)


def write_made(path: Path, make: Callable[[], bytes], what: str) -> None:
    """The default Writer: make the bytes and write them now."""
    write_bytes(path, make(), what)


def save_model_atomically(model, path: Path, what: str = "the model") -> None:
    """`model.save(path)` through the atomic writer; a full disk is a UserError naming the space needed."""
    path = Path(path)
    try:
        files.atomic_write_with(path, lambda tmp: model.save(tmp), suffix=".keras")
    except OSError as exc:
        raise disk_error(exc, path, what) from None


def disk_error(exc: OSError, path: Path, what: str, size: int | None = None) -> UserError:
    """A plain message for a failed write: what could not be saved, why, and how much space it needs."""
    reason = str(files.write_error(exc, path, what)).split(": ", 1)[-1]
    if exc.errno == errno.ENOSPC:
        needed = size if size is not None else _size_of(path)
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        reason = "the disk is full"
        if needed:
            reason += f": it needs about {_mebibytes(needed)} free"
            if free is not None:
                reason += f", {_mebibytes(free)} is free"
    return UserError(f"could not save {what} to {path}: {reason}; the files saved before are kept. "
                     "Free some space (or choose another --run-dir) and run the same command again to resume")


def _size_of(path: Path) -> int | None:
    """The size the file had last time (a new version is about as big), if there was one."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def _mebibytes(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{max(1, round(n / 1024)):,} KiB"


def _pack(arrays: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{key: host(value) for key, value in arrays.items()})
    return buffer.getvalue()


class Checkpoints:
    """The checkpoint folder of one run."""

    def __init__(self, folder: Path, write: Writer | None = None) -> None:
        self.folder = Path(folder)
        self.last = self.folder / "last.npz"
        self.best = self.folder / "best.npz"
        self.best_model = self.folder / "best.keras"
        self._put = write or write_made

    def _write(self, path: Path, arrays: dict[str, np.ndarray], what: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, path, what) from None
        self._put(path, lambda: _pack(arrays), what)  # packed where it is written (maybe later, elsewhere)

    @staticmethod
    def last_of(model_values: list, optimizer, state: dict[str, Any]) -> dict[str, Any]:
        """What `write_last` writes after an epoch: the model's variables (a `snapshot` of `model.variables`),
        the optimizer's, copied now where they live (training goes on changing them), and the state that goes
        with them. All are brought to the host where they are written."""
        arrays: dict[str, Any] = {f"model_{i}": v for i, v in enumerate(model_values)}
        arrays.update({f"optimizer_{i}": v for i, v in enumerate(snapshot(optimizer.variables))})
        text = json.dumps({"format": STATE_FORMAT, "version": 1, **state}, allow_nan=False)
        arrays["state"] = np.array(text)
        return arrays

    def write_last(self, arrays: dict[str, Any]) -> None:
        """`last.npz` from `last_of`'s arrays (maybe later, on the writer's thread)."""
        self._write(self.last, arrays, "the last checkpoint")

    def save_best(self, values: list) -> None:
        """The weights of the best epoch (as `model.get_weights()` lists them; NumPy or `snapshot`s)."""
        self._write(self.best, {f"model_{i}": v for i, v in enumerate(values)}, "the best checkpoint")

    def load_state(self) -> dict[str, Any] | None:
        """The state saved with the last checkpoint, or None when there is none usable."""
        try:
            with np.load(self.last, allow_pickle=False) as data:
                state = json.loads(str(data["state"]))
        except (OSError, ValueError, KeyError):
            return None
        return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else None

    def restore_last(self, model, optimizer) -> None:
        """Load the last checkpoint's model and optimizer variables."""
        try:
            with np.load(self.last, allow_pickle=False) as data:
                model_arrays = _ordered(data, "model_")
                optimizer_arrays = _ordered(data, "optimizer_")
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"cannot resume from {self.last}: it cannot be read ({exc})") from None
        _assign(model.variables, model_arrays, self.last)
        _assign(optimizer.variables, optimizer_arrays, self.last)

    def restore_model(self, model) -> None:
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


def _numpy(variable) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable))


def snapshot(variables) -> list:
    """The variables' current values as copies on their own device, which training does not change.

    Made without waiting for the device: a NumPy copy would wait for every step queued so far and
    move the data on the training thread (on a GPU, for a network of 3 M weights with Adam, about
    as long as an epoch of MNIST). `host` makes NumPy of them where they are written.
    """
    import keras

    values = [getattr(v, "value", v) for v in variables]
    if keras.backend.backend() == "jax":
        return list(_jax_copies()(values))  # one call on the device rather than one per variable
    if keras.backend.backend() == "torch":
        values = [v.detach() for v in values]  # the copies keep no autograd history
    return [keras.ops.copy(v) for v in values]


@functools.cache
def _jax_copies():
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda values: [jnp.copy(v) for v in values])


def host(value) -> np.ndarray:
    """A NumPy array of a `snapshot`'s value (or of a NumPy value, as it is)."""
    return value if isinstance(value, np.ndarray) else _numpy(value)


def model_values(model) -> list[np.ndarray]:
    """Every variable of the model (weights, normalization statistics, dropout seeds) as NumPy."""
    return [_numpy(v) for v in model.variables]


def set_model_values(model, values: list[np.ndarray]) -> None:
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
