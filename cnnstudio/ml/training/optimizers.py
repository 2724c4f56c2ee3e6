"""Optimizers and learning-rate schedules.

Schedules change the learning rate once per epoch, before the epoch starts, so the
rate is a plain number in each epoch's report and a resumed run picks up exactly
where it stopped (its state is the epoch number and, for "plateau", two counters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras

from ...core.catalog.training import DEFAULT_WEIGHT_DECAY, OPTIMIZER_BY_NAME
from .settings import TrainingSettings


def make_optimizer(settings: TrainingSettings) -> keras.optimizers.Optimizer:
    """A Keras optimizer for the settings (create it inside the strategy's scope)."""
    spec = OPTIMIZER_BY_NAME[settings.optimizer]
    make = getattr(keras.optimizers, spec.keras_class)
    if spec.momentum:
        return make(learning_rate=settings.learning_rate, momentum=settings.momentum)
    if spec.weight_decay:
        decay = DEFAULT_WEIGHT_DECAY if settings.weight_decay is None else settings.weight_decay
        return make(learning_rate=settings.learning_rate, weight_decay=decay)
    optimizer = make(learning_rate=settings.learning_rate)
    if settings.weight_decay:
        optimizer.weight_decay = settings.weight_decay
    return optimizer


@dataclass
class LearningRateSchedule:
    """The learning rate of each epoch; "plateau" also watches the monitored loss."""

    settings: TrainingSettings
    current: float = 0.0
    best: float = math.inf
    waited: int = 0

    def __post_init__(self) -> None:
        if not self.current:
            self.current = self.settings.learning_rate

    def rate_for_epoch(self, epoch: int) -> float:
        """The rate to use for `epoch` (0-based)."""
        s = self.settings
        base = s.learning_rate
        if s.schedule == "step":
            every = max(1, int(s.schedule_param("every")))
            self.current = base * s.schedule_param("factor") ** (epoch // every)
        elif s.schedule == "cosine":
            low = s.schedule_param("min_fraction")
            progress = epoch / max(1, s.epochs)
            self.current = base * (low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress)))
        elif s.schedule == "constant":
            self.current = base
        return self.current

    def epoch_ended(self, monitored_loss: float) -> str | None:
        """Tell a "plateau" schedule the epoch's loss; a message when it lowers the rate."""
        if self.settings.schedule != "plateau" or not math.isfinite(monitored_loss):
            return None
        if monitored_loss < self.best:
            self.best, self.waited = monitored_loss, 0
            return None
        self.waited += 1
        if self.waited < int(self.settings.schedule_param("patience")):
            return None
        lowest = self.settings.schedule_param("min_lr")
        lowered = max(lowest, self.current * self.settings.schedule_param("factor"))
        self.waited = 0
        if lowered >= self.current:
            return None
        self.current = lowered
        return f"validation loss stopped improving; learning rate lowered to {lowered:.3g}"

    def state(self) -> dict[str, Any]:
        return {"current": self.current, "best": None if math.isinf(self.best) else self.best,
                "waited": self.waited}

    def restore(self, state: dict[str, Any]) -> None:
        self.current = float(state.get("current", self.current))
        best = state.get("best")
        self.best = math.inf if best is None else float(best)
        self.waited = int(state.get("waited", 0))


@dataclass
class EarlyStopping:
    """Stop when the monitored loss has not improved for `patience` epochs."""

    patience: int | None
    best: float = math.inf
    best_epoch: int = 0
    waited: int = 0

    def improved(self, loss: float, epoch: int) -> bool:
        """Record an epoch's loss (1-based epoch); True when it is the best so far."""
        if math.isfinite(loss) and loss < self.best:
            self.best, self.best_epoch, self.waited = loss, epoch, 0
            return True
        self.waited += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.waited >= self.patience

    def state(self) -> dict[str, Any]:
        return {"best": None if math.isinf(self.best) else self.best, "best_epoch": self.best_epoch,
                "waited": self.waited}

    def restore(self, state: dict[str, Any]) -> None:
        best = state.get("best")
        self.best = math.inf if best is None else float(best)
        self.best_epoch = int(state.get("best_epoch", 0))
        self.waited = int(state.get("waited", 0))
