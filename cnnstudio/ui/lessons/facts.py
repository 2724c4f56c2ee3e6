"""What the lessons conclude, computed from core's analysis and from the runs' records (no Qt).

Every number a lesson shows comes from here: parameter counts and receptive fields
from ``cnnstudio.core.analysis``, accuracies from the runs' metrics, the learned
filter's orientation from its weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.analysis import Analysis, LayerInfo, analyze
from cnnstudio.core.catalog import dims_text
from cnnstudio.core.network import Network
from cnnstudio.core.project import Project
from cnnstudio.core.runs import read_metrics, read_run_info


# ---------------------------------------------------------------------- lesson 1
@dataclass(frozen=True)
class ParameterComparison:
    mlp_name: str
    cnn_name: str
    mlp: Analysis
    cnn: Analysis

    @property
    def ratio(self) -> float:
        return self.mlp.total_params / max(self.cnn.total_params, 1)

    def biggest(self, analysis: Analysis) -> LayerInfo:
        return max(analysis.layers.values(), key=lambda info: info.params)

    def first_convolution(self) -> LayerInfo | None:
        return next((info for info in self.cnn.layers.values() if info.type.startswith("Conv")), None)

    def sentence(self) -> str:
        big = self.biggest(self.mlp)
        conv = self.first_convolution()
        text = (f"The {self.mlp_name} has {self.mlp.total_params:,} parameters, {self.cnn_name} "
                f"{self.cnn.total_params:,}: {self.ratio:.1f} times as many for the same 28×28 picture. "
                f"Most of them, {big.params:,}, are in '{big.id}', where every input value meets every "
                f"unit ({'; '.join(big.param_formula) or f'{big.params:,} parameters'}).")
        if conv is not None:
            text += (f" The convolution '{conv.id}' needs only {conv.params:,} "
                     f"({'; '.join(conv.param_formula) or 'its kernels and biases'}), "
                     f"and would need the same for a picture of any size.")
        return text


def compare_parameters(mlp: Project, cnn: Project) -> ParameterComparison:
    return ParameterComparison(mlp.name, cnn.name, analyze(mlp.network), analyze(cnn.network))


# ---------------------------------------------------------------------- lesson 2
@dataclass(frozen=True)
class RunOutcome:
    label: str
    path: Path
    accuracy: float | None  # validation accuracy of the last epoch (test accuracy when there is none)
    epochs: int


def run_outcome(label: str, path: str | Path) -> RunOutcome:
    """The final accuracy of a finished run, read from its record."""
    path = Path(path)
    rows = []
    try:
        rows = read_metrics(path)
    except OSError:
        pass
    accuracy = None
    if rows:
        last = rows[-1]
        accuracy = last.get("val_accuracy") if last.get("val_accuracy") is not None else last.get("accuracy")
    if accuracy is None:
        info = read_run_info(path) or {}
        test = info.get("test") or {}
        accuracy = test.get("accuracy") if isinstance(test, dict) else None
    return RunOutcome(label, path, None if accuracy is None else float(accuracy), len(rows))


def shuffled_verdict(mlp_ordered: RunOutcome, mlp_shuffled: RunOutcome, cnn_ordered: RunOutcome,
                     cnn_shuffled: RunOutcome) -> str:
    """One paragraph interpreting the four runs, with their numbers."""
    runs = (mlp_ordered, mlp_shuffled, cnn_ordered, cnn_shuffled)
    if any(run.accuracy is None for run in runs):
        missing = ", ".join(run.label for run in runs if run.accuracy is None)
        return f"Not every run recorded an accuracy ({missing}), so there is nothing to compare yet."
    mlp_drop = mlp_ordered.accuracy - mlp_shuffled.accuracy
    cnn_drop = cnn_ordered.accuracy - cnn_shuffled.accuracy
    numbers = (f"The MLP reached {mlp_ordered.accuracy:.1%} on ordered and {mlp_shuffled.accuracy:.1%} on "
               f"shuffled pixels; LeNet-5 reached {cnn_ordered.accuracy:.1%} and {cnn_shuffled.accuracy:.1%} "
               f"(validation accuracy after the last epoch). ")
    if cnn_drop > mlp_drop + 0.02:
        return numbers + (
            f"Shuffling cost the MLP {_points(mlp_drop)} and LeNet-5 {_points(cnn_drop)}. The MLP treats every "
            "pixel on its own, so their order does not matter to it; LeNet-5's 5×5 kernels look for strokes "
            "made of neighbouring pixels, and after shuffling there are none. Convolutions pay off because "
            "they assume that nearby pixels belong together.")
    return numbers + (
        f"Here shuffling cost the MLP {_points(mlp_drop)} and LeNet-5 {_points(cnn_drop)} — too close to tell "
        "them apart after so few epochs. Train the runs a few epochs longer (Training panel) and compare "
        "again: the CNN should fall behind on shuffled pixels while the MLP does not.")


def _points(drop: float) -> str:
    points = drop * 100
    if abs(points) < 0.05:
        return "nothing"
    return f"{points:.1f} points" if points > 0 else f"nothing (it gained {-points:.1f} points)"


# ---------------------------------------------------------------------- lesson 4
@dataclass(frozen=True)
class Orientation:
    vertical: float  # share of the kernel's pattern that changes from left to right only
    horizontal: float  # ... from top to bottom only

    def sentence(self) -> str:
        v, h = self.vertical, self.horizontal
        if max(v, h) < 0.5:
            return (f"The learned filter is not clearly a line detector yet ({v:.0%} of its pattern runs "
                    f"top-to-bottom, {h:.0%} left-to-right); train it a few more epochs.")
        kind, share = ("vertical", v) if v >= h else ("horizontal", h)
        direction = "from left to right and stays the same down each column" if kind == "vertical" else \
            "from top to bottom and stays the same along each row"
        return (f"{share:.0%} of the learned filter's pattern changes {direction}: it has become a {kind} "
                f"line/edge detector, like the Sobel {kind} kernel beside it. One orientation is enough — the "
                f"largest response anywhere tells the two kinds of stripes apart.")


def orientation(kernel: np.ndarray) -> Orientation:
    """How much of a 2-D kernel's variation is explained by its columns (vertical) or rows (horizontal)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    centred = kernel - kernel.mean()
    total = float(np.sum(centred**2))
    if total == 0.0:
        return Orientation(0.0, 0.0)
    columns = centred.mean(axis=0, keepdims=True)  # constant down each column: a vertical pattern
    rows = centred.mean(axis=1, keepdims=True)
    vertical = float(np.sum(np.broadcast_to(columns, kernel.shape) ** 2)) / total
    horizontal = float(np.sum(np.broadcast_to(rows, kernel.shape) ** 2)) / total
    return Orientation(vertical, horizontal)


# ---------------------------------------------------------------------- lesson 5
@dataclass(frozen=True)
class FieldRow:
    layer: str
    type: str
    output_shape: str
    field: int | None  # the receptive field's side in pixels, None after the spatial part
    growth: str  # "+2", "×2 step", ...


def receptive_fields(network: Network) -> list[FieldRow]:
    """Each layer's receptive field (square side, from core's analysis) and how much it grew."""
    rows, previous = [], None
    for info in analyze(network).layers.values():
        side = info.receptive_field[0] if info.receptive_field else None
        growth = ""
        if side is not None and previous is not None and side != previous:
            growth = f"+{side - previous}"
        rows.append(FieldRow(info.id, info.type, dims_text(info.output_shape) if info.output_shape else "-",
                             side, growth))
        if side is not None:
            previous = side
    return rows
