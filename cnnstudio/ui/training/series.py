"""The numbers behind the training curves: per-batch points (raw and smoothed) and per-epoch rows.

Pure NumPy, no Qt: the curves widget draws these, the CSV export writes them, and
tests check them. The x axis is in epochs: a batch point halfway through epoch 3 sits
at 2.5, the end of epoch 3 at 3.0.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EPOCH_KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
# The figures other tasks add (segmentation, regression, multi-label), in metrics.csv or EpochReport.metrics.
TASK_KEYS = ("mean_iou", "val_mean_iou", "mae", "val_mae", "auc", "val_auc")
CSV_HEADER = ("kind", "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "smoothed_loss")
DEFAULT_SMOOTHING = 0.6


class GrowingArray:
    """A float64 array that grows by amortized doubling; `values` is a view of what was appended."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(max(1, capacity), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def values(self) -> np.ndarray:
        return self._data[: self._size]

    def append(self, value: float) -> None:
        if self._size == len(self._data):
            self._grow(self._size + 1)
        self._data[self._size] = value
        self._size += 1

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        end = self._size + len(values)
        if end > len(self._data):
            self._grow(end)
        self._data[self._size:end] = values
        self._size = end

    def clear(self) -> None:
        self._size = 0

    def _grow(self, needed: int) -> None:
        bigger = np.empty(max(needed, 2 * len(self._data)), dtype=np.float64)
        bigger[: self._size] = self._data[: self._size]
        self._data = bigger


def ema(values: np.ndarray, smoothing: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average; NaN stays NaN and is skipped.

    smoothed[t] = s[t] / (1 - a^(t+1)) with s[t] = a*s[t-1] + (1-a)*x[t], a = `smoothing`.
    """
    return Smoother(smoothing).extend(values)


class Smoother:
    """The moving average of a growing series, carried on point by point (or a million at once).

    Computed block by block in closed form, so a million points take milliseconds.
    """

    def __init__(self, smoothing: float) -> None:
        self.smoothing = min(max(float(smoothing), 0.0), 0.999)
        self._state = 0.0  # s[t] of the last finite point
        self._count = 0  # finite points so far

    def extend(self, values: np.ndarray) -> np.ndarray:
        """The smoothed values of `values`, which continue the points given before."""
        x = np.asarray(values, dtype=np.float64)
        out = np.full(x.shape, np.nan)
        finite = np.isfinite(x)
        y = x[finite]
        if len(y) == 0:
            return out
        a = self.smoothing
        if a == 0.0:
            out[finite] = y
            self._count += len(y)
            return out
        # within a block of length L, the weights a^-k stay below 1e200: L = 200 / -log10(a)
        block = int(max(1, min(4096, 200.0 / -math.log10(a))))
        k = np.arange(min(block, len(y)), dtype=np.float64)
        rising, falling = a ** (-k), (1.0 - a) * a ** k
        carried = a * a ** k
        s = np.empty_like(y)
        previous = self._state
        for start in range(0, len(y), block):
            chunk = y[start:start + block]
            n = len(chunk)
            weighted = np.cumsum(chunk * rising[:n]) * falling[:n]
            s[start:start + n] = previous * carried[:n] + weighted
            previous = float(s[start + n - 1])
        t = np.arange(self._count + 1, self._count + len(y) + 1, dtype=np.float64)
        out[finite] = s / -np.expm1(t * math.log(a))
        self._state, self._count = previous, self._count + len(y)
        return out


class SmoothedTrace:
    """A smoothed copy of a growing raw series, kept up to date incrementally."""

    def __init__(self, smoothing: float) -> None:
        self.values = GrowingArray()
        self.set_smoothing(smoothing)

    def set_smoothing(self, smoothing: float) -> None:
        self._smoother = Smoother(smoothing)
        self.values.clear()

    def sync(self, raw: np.ndarray) -> np.ndarray:
        """Smooth what `raw` gained since the last call; the smoothed series, as long as `raw`."""
        if len(raw) < len(self.values):
            self.set_smoothing(self._smoother.smoothing)
        self.values.extend(self._smoother.extend(raw[len(self.values):]))
        return self.values.values


@dataclass(frozen=True)
class _Last:
    epoch: int
    batch: int
    loss: float
    accuracy: float


class BatchSeries:
    """Per-batch loss and accuracy, rebuilt from the trainer's running means.

    The trainer reports the mean over the epoch so far; the mean over just the batches
    since the previous report follows from two consecutive means — that is the "raw"
    trace, and its moving average the smoothed one.
    """

    def __init__(self) -> None:
        self.x = GrowingArray()
        self.loss = GrowingArray()
        self.accuracy = GrowingArray()
        self._last: _Last | None = None
        self._batches_seen = 0  # batches in the longest epoch so far (when an epoch's length is unknown)

    def __len__(self) -> int:
        return len(self.x)

    def clear(self) -> None:
        for array in (self.x, self.loss, self.accuracy):
            array.clear()
        self._last = None
        self._batches_seen = 0

    def add(self, epoch: int, batch: int, batches: int | None, loss_mean: float,
            accuracy_mean: float | None, bounded: bool = True) -> tuple[float, float, float]:
        """One report (1-based epoch, batches done so far); returns the point added (x, loss, accuracy).

        "accuracy" is the figure the curves show (accuracy, mean IoU, AUC, or MAE: not `bounded` by 1)."""
        acc_mean = math.nan if accuracy_mean is None else float(accuracy_mean)
        loss_mean = float(loss_mean)
        last = self._last
        if last is not None and last.epoch == epoch and batch > last.batch:
            n0, n1 = last.batch, batch
            loss = (loss_mean * n1 - last.loss * n0) / (n1 - n0)
            accuracy = (acc_mean * n1 - last.accuracy * n0) / (n1 - n0)
            loss = max(loss, 0.0) if math.isfinite(loss) else loss
            if math.isfinite(accuracy):
                accuracy = min(max(accuracy, 0.0), 1.0) if bounded else max(accuracy, 0.0)
        else:
            loss, accuracy = loss_mean, acc_mean
        self._last = _Last(epoch, batch, loss_mean, acc_mean)
        self._batches_seen = max(self._batches_seen, batch)
        if batches:
            fraction = min(batch / batches, 1.0)
        else:
            fraction = batch / (self._batches_seen + 1)
        x = (epoch - 1) + fraction
        self.x.append(x)
        self.loss.append(loss)
        self.accuracy.append(accuracy)
        return x, loss, accuracy

    def extend(self, x: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> None:
        """Points already worked out (a saved history, a benchmark)."""
        self.x.extend(x)
        self.loss.extend(loss)
        self.accuracy.extend(accuracy)

    @property
    def last_x(self) -> float | None:
        return float(self.x.values[-1]) if len(self.x) else None


class EpochTable:
    """One row per finished epoch: loss, accuracy, validation loss and accuracy, learning rate."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float | None]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows.clear()

    def add(self, row: Mapping[str, Any]) -> None:
        own = row.get("metrics") if isinstance(row.get("metrics"), Mapping) else {}
        self.rows.append({key: _number(row.get(key, own.get(key))) for key in (*EPOCH_KEYS, *TASK_KEYS)})

    def column(self, key: str) -> np.ndarray:
        return np.array([math.nan if r[key] is None else r[key] for r in self.rows], dtype=np.float64)

    def nearest(self, x: float) -> dict[str, float | None] | None:
        """The row of the epoch closest to `x` (epochs end at whole numbers)."""
        if not self.rows:
            return None
        epochs = self.column("epoch")
        return self.rows[int(np.argmin(np.abs(epochs - x)))]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rows_from_reports(reports: Iterable[Any]) -> list[dict[str, Any]]:
    """EpochReports (or anything with `to_dict`, or mappings) as plain rows."""
    rows = []
    for report in reports:
        rows.append(dict(report) if isinstance(report, Mapping) else report.to_dict())
    return rows


def csv_text(batches: BatchSeries, epochs: EpochTable, smoothing: float) -> str:
    """Every point behind the curves as CSV: a row per batch point, then a row per epoch."""
    smoothed = ema(batches.loss.values, smoothing)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for x, loss, accuracy, smooth in zip(batches.x.values, batches.loss.values, batches.accuracy.values,
                                         smoothed, strict=True):
        writer.writerow(["batch", _cell(x), _cell(loss), _cell(accuracy), "", "", "", _cell(smooth)])
    for row in epochs.rows:
        writer.writerow(["epoch", *(_cell(row[key]) for key in EPOCH_KEYS), ""])
    return out.getvalue()


def _cell(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def read_rows(rows: Sequence[Mapping[str, Any]]) -> EpochTable:
    """An EpochTable from metrics.csv rows (`cnnstudio.ml.runs.read_metrics`) or EpochReport dicts."""
    table = EpochTable()
    for row in rows:
        table.add(row)
    return table
