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
from cnnstudio.core.experiment_results import ExperimentResults, SettingResult
from cnnstudio.core.network import Network
from cnnstudio.core.project import Project
from cnnstudio.core.runs import read_metrics, read_run_info
from cnnstudio.core.stats import (
    TEST_ACCURACY,
    VALIDATION_ACCURACY,
    Metric,
    Summary,
    Verdict,
    compare,
    summarize,
)


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


PERMUTE_KEY = "dataset.permute_pixels"


@dataclass(frozen=True)
class PixelArm:
    """One network on original or shuffled pixels, over its seeds."""

    network: str
    shuffled: bool
    figures: Summary  # of the compared accuracy, over the seeds

    @property
    def pixels(self) -> str:
        return "shuffled" if self.shuffled else "original"


@dataclass(frozen=True)
class ShuffleFinding:
    """What shuffling the pixels did to one network, tested over its seeds."""

    network: str
    verdict: Verdict  # original against shuffled pixels
    metric: Metric

    @property
    def loss(self) -> float:
        """Points lost by shuffling (negative: gained), in the metric's units."""
        return self.verdict.difference if self.verdict.better.endswith("original pixels") else -self.verdict.difference

    def sentence(self) -> str:
        """"LeNet-5 loses 6.7 points of test accuracy when pixels are shuffled; seeds differ by at most 0.7:
        a real difference"."""
        text = self._sentence()
        return text[:1].upper() + text[1:]

    def _sentence(self) -> str:
        verdict, metric = self.verdict, self.metric
        amount = f"{metric.amount(verdict.difference)} of {metric.name}"
        spread = metric.amount(verdict.spread).removesuffix(" points")
        if verdict.difference == 0:
            return f"{self.network} scores the same {metric.name} on shuffled pixels: no difference"
        verb = "loses" if self.loss > 0 else "gains"
        claim = f"{self.network} {verb} {amount} when pixels are shuffled"
        if verdict.real is None:
            return f"{claim}; with one seed per arm nothing can tell noise from a difference"
        if verdict.real:
            return f"{claim}; seeds differ by at most {spread}: a real difference"
        return f"{claim}, but seeds differ by up to {spread}: inside seed noise"


@dataclass(frozen=True)
class ShuffledFindings:
    """The shuffled-pixels lesson's outcome: four arms and a verdict per network."""

    arms: list[PixelArm]
    findings: list[ShuffleFinding]  # the MLP first, then LeNet-5
    metric: Metric
    seeds: int

    def conclusion(self) -> str:
        """What the verdicts mean, in a teacher's words."""
        mlp, cnn = self.findings
        if cnn.verdict.real and cnn.loss > 0 and not (mlp.verdict.real and mlp.loss > 0):
            return ("The MLP treats every pixel on its own, so their order does not matter to it: what it loses is "
                    "no more than what another seed would change. LeNet-5's 5×5 kernels look for strokes made of "
                    "neighbouring pixels, and after shuffling there are none: its loss is larger than the seeds' "
                    "differences. Convolutions pay off because they assume that nearby pixels belong together.")
        if cnn.verdict.real and mlp.verdict.real:
            return ("Both networks lose more than seed noise here. After so few epochs the MLP can be unlucky with "
                    "its seeds too; compare how much each loses — LeNet-5, whose kernels need neighbouring "
                    "pixels, should lose far more. Add seeds to the experiments (Experiments panel) to be surer.")
        return ("LeNet-5's loss is not yet larger than what its seeds differ by: after so few epochs or batches the "
                "runs are too short to tell. Train the experiments a few epochs longer or with more seeds "
                "(Experiments panel, Add Runs…) and the CNN should fall behind on shuffled pixels while the MLP "
                "does not.")


def _arm(setting: SettingResult, figure: str) -> Summary:
    return summarize(getattr(r.run, figure) for r in setting.runs)


def shuffled_findings(experiments: list[tuple[str, ExperimentResults]]) -> ShuffledFindings:
    """Verdicts on original against shuffled pixels, one per network (`experiments`: the MLP's, then LeNet-5's),
    on test accuracy where every run has it, else validation accuracy. ValueError when an arm has no results."""
    settings = [s for _name, results in experiments for s in results.settings]
    use_test = settings and all(s.summaries["test_accuracy"].count for s in settings)
    metric, figure = (TEST_ACCURACY, "test_accuracy") if use_test else (VALIDATION_ACCURACY, "val_accuracy")
    arms, findings, seeds = [], [], 0
    for network, results in experiments:
        by_pixels = {s.values.get(PERMUTE_KEY) is not None: s for s in results.settings}
        if set(by_pixels) != {False, True}:
            raise ValueError(f"{network} has no results on both original and shuffled pixels yet")
        original, shuffled = by_pixels[False], by_pixels[True]
        for setting, is_shuffled in ((original, False), (shuffled, True)):
            arms.append(PixelArm(network, is_shuffled, _arm(setting, figure)))
            seeds = max(seeds, len(setting.runs))
        verdict = compare(f"{network} on original pixels", original.figure(figure),
                          f"{network} on shuffled pixels", shuffled.figure(figure), metric)
        findings.append(ShuffleFinding(network, verdict, metric))
    return ShuffledFindings(arms, findings, metric, seeds)


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
