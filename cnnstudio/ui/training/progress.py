"""How far a run has got and how long it will take (pure Python, fed with the trainer's reports).

Elapsed time runs from Start and leaves pauses out; the time left is projected from
the pace since the first batch report (so loading the data and tracing the model,
which happen once, do not inflate it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RunProgress:
    epochs: int
    started: float  # monotonic seconds when Start was pressed
    epoch: int = 0  # 1-based epoch being trained (0 before the first report)
    batch: int = 0
    batches: int | None = None
    images_per_second: float = 0.0
    epochs_done: int = 0
    _paused_at: float | None = None
    _paused: float = 0.0
    _anchor: tuple[float, float] | None = None  # (active seconds, run fraction) at the first report

    def batch_report(self, epoch: int, epochs: int, batch: int, batches: int | None, images_per_second: float,
                     now: float) -> None:
        self.epochs, self.epoch, self.batch, self.batches = epochs, epoch, batch, batches
        self.images_per_second = float(images_per_second)
        if self._anchor is None:
            self._anchor = (self.active(now), self.run_fraction)

    def epoch_report(self, epoch: int, epochs: int, images_per_second: float) -> None:
        self.epochs, self.epochs_done = epochs, epoch
        self.epoch, self.batch = epoch, self.batches or self.batch
        if images_per_second and math.isfinite(images_per_second):
            self.images_per_second = float(images_per_second)

    def pause(self, now: float) -> None:
        if self._paused_at is None:
            self._paused_at = now

    def resume(self, now: float) -> None:
        if self._paused_at is not None:
            self._paused += now - self._paused_at
            self._paused_at = None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def active(self, now: float) -> float:
        """Seconds since Start, pauses left out."""
        paused = self._paused + (now - self._paused_at if self._paused_at is not None else 0.0)
        return max(0.0, now - self.started - paused)

    @property
    def epoch_fraction(self) -> float:
        if self.epoch == 0:
            return 0.0
        if self.epochs_done >= self.epoch:
            return 1.0
        return min(1.0, self.batch / self.batches) if self.batches else 0.0

    @property
    def run_fraction(self) -> float:
        if self.epoch == 0 or not self.epochs:
            return 0.0
        done = max(self.epochs_done, self.epoch - 1) + (0.0 if self.epochs_done >= self.epoch else self.epoch_fraction)
        return min(1.0, done / self.epochs)

    def remaining(self, now: float) -> float | None:
        """Seconds still to go, or None while there is too little to judge by."""
        if self._anchor is None:
            return None
        seconds0, fraction0 = self._anchor
        gained = self.run_fraction - fraction0
        spent = self.active(now) - seconds0
        if gained <= 0.002 or spent <= 0.5:
            return None
        return spent / gained * (1.0 - self.run_fraction)


def format_duration(seconds: float | None) -> str:
    """0:07, 3:25, 1:02:09 — or an en dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    total = int(round(max(0.0, seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(images_per_second: float) -> str:
    if not images_per_second or not math.isfinite(images_per_second):
        return "– images/s"
    if images_per_second >= 100:
        return f"{images_per_second:,.0f} images/s"
    return f"{images_per_second:.1f} images/s"
