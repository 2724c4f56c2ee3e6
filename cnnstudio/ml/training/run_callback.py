"""The app's side of `model.fit`: pause and stop, throttled batch reports and snapshots, and after
each epoch the report, the run record and the checkpoint (through the trainer).

`RunCallbacks` is Keras's callback list with one difference that matters for speed: a
batch's logs live on the device, and reading them waits for it, so they are read only
when a report (or a NaN check) is due, never for every batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras

from .reporting import DIVERGED, STOPPED, BatchReport, Throttle

NAN_CHECK_EVERY = 0.5  # seconds between looks at the loss when nobody asks for batch reports


class Interrupted(Exception):
    """Ends `fit` before the next batch: stopped by request, or the loss is no longer finite."""

    def __init__(self, reason: str, epoch: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.epoch = epoch  # 0-based: the epoch that did not finish


def figures_of(logs: Any) -> dict[str, float]:
    """Plain numbers from a batch's logs (a dict of device values, or a function that makes one)."""
    if callable(logs):
        logs = logs()
    figures = {}
    for key, value in (logs or {}).items():
        try:
            figures[key] = float(keras.ops.convert_to_numpy(value))
        except (TypeError, ValueError):
            continue
    return figures


class RunCallbacks(keras.callbacks.CallbackList):
    """Keras's CallbackList, with batch ends handed to the run callback alone, logs unread."""

    def __init__(self, callbacks: list, run: RunCallback, model, epochs: int, steps: int) -> None:
        super().__init__([*callbacks, run], add_history=True, add_progbar=False, model=model, verbose=0,
                         epochs=epochs, steps=steps)
        self.run = run

    def on_train_batch_begin(self, batch, logs=None):
        self.run.batch_starting(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.run.batch_ended(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        loss = figures_of(logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise Interrupted(DIVERGED, epoch)
        self.run.training_done()
        super().on_epoch_end(epoch, logs)


class RunCallback(keras.callbacks.Callback):
    """Steers and reports one run; `trainer` keeps the record (see `Trainer._end_epoch`)."""

    def __init__(self, trainer, batches: int, report_every: float | None, snapshot_every: float | None,
                 on_train_begin: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.trainer = trainer
        self.control = trainer.control
        self.report = trainer.callbacks
        self.batches = batches
        self.reports = Throttle(report_every if trainer.callbacks.on_batch else NAN_CHECK_EVERY)
        self.snapshots = Throttle(snapshot_every) if snapshot_every is not None else None
        self._restore = on_train_begin
        self.epoch = 0
        self.batch = 0
        self.rate = 0.0
        self.started = time.monotonic()
        self.paused = 0.0

    def on_train_begin(self, logs=None):
        if self._restore is not None:  # after Keras's own callbacks reset their counters
            self._restore()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, 0
        self.rate = self.trainer.current_rate()
        self.started, self.paused = time.monotonic(), 0.0

    def batch_starting(self, batch: int) -> None:
        control = self.control
        if control.paused:
            if self.trainer.record is not None:  # a paused run's checkpoint is its newest (none held back)
                self.trainer.record.flush_checkpoints()
            self.report.message("paused")
            self.paused += control.wait_while_paused()
            if not control.stopping:
                self.report.message("resumed")
        if control.stopping:
            self.trainer.paused_seconds += self.paused
            raise Interrupted(STOPPED, self.epoch)

    def batch_ended(self, batch: int, logs: Any) -> None:
        self.batch = batch + 1
        now = time.monotonic()
        if self.reports.due(now):
            figures = figures_of(logs)
            loss = figures.get("loss")
            if loss is None or not math.isfinite(loss):
                raise Interrupted(DIVERGED, self.epoch)
            if self.report.on_batch:
                elapsed = now - self.started - self.paused
                images = min(self.batch * self.trainer.settings.batch_size, self.trainer.dataset.num_train)
                self.report.on_batch(BatchReport(
                    self.epoch + 1, self.trainer.settings.epochs, self.batch, self.batches, loss,
                    figures.get("accuracy"), images / max(elapsed, 1e-9), elapsed,
                    {k: v for k, v in figures.items() if k not in ("loss", "accuracy", "top_k_accuracy")}))
        if self.snapshots is not None and self.snapshots.due(now):
            self.trainer.send_snapshot(self.epoch + 1, self.batch)

    def training_done(self) -> None:
        """The epoch's batches are done (before validation): its training time ends here."""
        self.seconds = time.monotonic() - self.started - self.paused

    def on_epoch_end(self, epoch, logs=None):
        seconds = getattr(self, "seconds", None) or time.monotonic() - self.started - self.paused
        self.trainer.paused_seconds += self.paused
        self.trainer.end_epoch(epoch, dict(logs or {}), self.rate, seconds)
