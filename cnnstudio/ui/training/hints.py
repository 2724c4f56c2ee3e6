"""Plain-words hints read from the curves: over-fitting, under-fitting, a network that guesses.

Pure functions on epoch rows (dicts with `epoch`, `loss`, `val_loss`, as in
metrics.csv or `EpochReport.to_dict()`) and, early in a run, the per-batch losses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OVERFITTING, UNDERFITTING = "overfitting", "underfitting"

RISE = 0.03  # validation loss this far (3%) above its best counts as rising
FLAT = 0.97  # training loss still above 97% of where it started counts as not falling
MIN_EPOCHS_FLAT = 3
MIN_BATCH_POINTS = 100  # per-batch evidence needed before epochs can tell (about 10 s of training)


@dataclass(frozen=True)
class Hint:
    kind: str  # OVERFITTING or UNDERFITTING
    text: str
    epoch: int | None = None  # where it starts (over-fitting: the first epoch after the best one)


def fitting_hint(rows: Sequence[Mapping[str, Any]], batch_losses: Sequence[float] = (),
                 num_classes: int | None = None) -> Hint | None:
    """The hint the curves give now, or None when they look healthy (or it is too early to say)."""
    epochs = [r for r in rows if _finite(r.get("loss"))]
    return _overfitting(epochs) or _underfitting(epochs, batch_losses, num_classes)


def _overfitting(rows: list[Mapping[str, Any]]) -> Hint | None:
    validated = [r for r in rows if _finite(r.get("val_loss"))]
    if len(validated) < 3:
        return None
    val = [float(r["val_loss"]) for r in validated]
    best_index = min(range(len(val)), key=val.__getitem__)
    after = validated[best_index + 1:]
    if len(after) < 2:
        return None
    best, last = validated[best_index], validated[-1]
    best_val = float(best["val_loss"])
    rising = [r for r in after if float(r["val_loss"]) > best_val * (1 + RISE)]
    train_falls = float(last["loss"]) < float(best["loss"])
    if len(rising) < 2 or float(last["val_loss"]) <= best_val * (1 + RISE) or not train_falls:
        return None
    best_epoch = int(best["epoch"])
    return Hint(OVERFITTING, (
        f"Over-fitting from epoch {best_epoch + 1}: validation loss has risen since epoch {best_epoch} "
        f"({best_val:.3g} → {float(last['val_loss']):.3g}) while training loss keeps falling "
        f"({float(best['loss']):.3g} → {float(last['loss']):.3g}). The network is memorising the training "
        "images. Early stopping, dropout, data augmentation or fewer parameters help."), best_epoch + 1)


def _underfitting(rows: list[Mapping[str, Any]], batch_losses: Sequence[float],
                  num_classes: int | None) -> Hint | None:
    if len(rows) >= MIN_EPOCHS_FLAT:
        first, last = float(rows[0]["loss"]), float(rows[-1]["loss"])
        if last <= first * FLAT:
            return None
        where = f"after {len(rows)} epochs ({first:.3g} → {last:.3g})"
    else:
        losses = [float(v) for v in batch_losses if _finite(v)]
        if len(losses) < MIN_BATCH_POINTS:
            return None
        head = losses[: max(1, len(losses) // 10)]
        tail = losses[-max(1, len(losses) // 4):]
        first, last = sum(head) / len(head), sum(tail) / len(tail)
        if last <= first * FLAT:
            return None
        where = f"over the last {len(losses)} batch reports ({first:.3g} → {last:.3g})"
    guessing = ""
    if num_classes and num_classes > 1 and abs(last - math.log(num_classes)) < 0.05 * math.log(num_classes):
        guessing = (f" It stays at ln({num_classes}) ≈ {math.log(num_classes):.2f}: the network gives every "
                    "class the same chance, i.e. it is guessing.")
    return Hint(UNDERFITTING, (
        f"Under-fitting: training loss is not falling {where}.{guessing} Check the learning rate "
        "(too low learns nothing, too high jumps around) or give the network more capacity."))


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
