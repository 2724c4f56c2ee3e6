"""What the trainer tells its caller, and how the caller steers it.

Reports are plain dataclasses of Python numbers and NumPy arrays: a Qt worker can
put them in queued signals as they are. Callbacks run on the training thread;
they should return quickly (hand the report over, do not draw).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# stopped_reason values of TrainingResult
FINISHED = "finished"  # every epoch ran
STOPPED = "stopped"  # stop() was called
EARLY_STOPPING = "early_stopping"  # validation loss stopped improving
DIVERGED = "diverged"  # the loss became NaN or infinite


@dataclass(frozen=True)
class BatchReport:
    """Progress within an epoch (sent at most every `report_every` seconds).

    `loss` and `accuracy` are means over the epoch's batches so far.
    """

    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch
    batches: int | None  # batches per epoch, None when unknown
    loss: float
    accuracy: float | None
    images_per_second: float
    seconds: float  # time spent in this epoch so far (pauses left out)
    metrics: dict[str, float] = field(default_factory=dict)  # the task's own figures so far (mean_iou, mae, auc)


@dataclass(frozen=True)
class EpochReport:
    """One finished epoch: the row of metrics.csv, plus rate, duration and extras."""

    epoch: int  # 1-based
    epochs: int
    loss: float
    accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    seconds: float
    images_per_second: float
    top_k_accuracy: float | None = None
    val_top_k_accuracy: float | None = None
    best: bool = False  # the best epoch so far by validation loss
    metrics: dict[str, float | None] = field(default_factory=dict)  # the task's own: mean_iou, val_mean_iou, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Snapshot:
    """For live views: weights of chosen layers, and their activations on the probe images."""

    epoch: int
    batch: int
    weights: dict[str, list[np.ndarray]]  # layer id -> the layer's weight arrays (kernel, bias, ...)
    activations: dict[str, np.ndarray]  # layer id -> outputs for the probe images (batch first)


@dataclass
class TrainingCallbacks:
    """Plain functions the trainer calls; leave any of them None."""

    on_batch: Callable[[BatchReport], None] | None = None
    on_epoch: Callable[[EpochReport], None] | None = None
    on_snapshot: Callable[[Snapshot], None] | None = None
    on_message: Callable[[str], None] | None = None

    def message(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)


@dataclass
class TrainingResult:
    """How a run ended. `test_*` are None when no test evaluation happened."""

    test_loss: float | None
    test_accuracy: float | None
    epochs: int  # epochs completed
    seconds: float  # training plus evaluation, pauses left out
    run_dir: Path | None
    history: list[EpochReport] = field(default_factory=list)
    stopped_reason: str = FINISHED
    message: str = ""
    test_top_k_accuracy: float | None = None
    best_epoch: int | None = None
    initial_weights: dict[str, Any] | None = None  # what was taken from where (see training.initial_weights)
    task: str = "classification"
    test_metrics: dict[str, float | None] = field(default_factory=dict)  # the task's own: mean_iou, mae, auc

    def to_json(self) -> dict[str, Any]:
        """The object `cnnstudio train --json` prints (CONTRACTS.md section 2), plus extras: the task and
        its own test figures (`test_mean_iou`, `test_mae`, `test_auc`)."""
        return {
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 3),
            "run_dir": None if self.run_dir is None else str(self.run_dir),
            "stopped_reason": self.stopped_reason,
            "task": self.task,
            **{f"test_{name}": value for name, value in self.test_metrics.items()},
        }


class RunControl:
    """Thread-safe pause, resume and stop, checked by the training loop between batches."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can end

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (returns at once otherwise); the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.monotonic()
        while not self._running.wait(0.1):
            pass
        return time.monotonic() - start


class Throttle:
    """True at most once per `interval` seconds (the first call is due at once)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    def due(self, now: float) -> bool:
        if self.interval is None or now < self._next:
            return False
        self._next = now + self.interval
        return True
