"""What the export dialog can write: each format's label, file name and whether it needs a trained run.

Plain data shared by the dialog (GUI thread) and the export job (ML thread).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cnnstudio.core.project import Project

MODEL_FORMATS = ("keras", "savedmodel", "tflite", "onnx")
GUI_FORMATS = ("png", "svg")  # drawn from the canvas, on the GUI thread
TOLERANCES = {None: "predictions within 0.1% of the output's scale (float32 runtimes agree this closely)",
              0.01: "within 1% (accept a larger difference)", 0.05: "within 5% (accept a much larger difference)"}
QUANTIZATIONS = {None: "no quantization (float32)", "float16": "float16 weights (about half the size)",
                 "dynamic": "dynamic-range int8 weights (about a quarter)"}
BAD_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    suffix: str  # appended to the base name
    description: str
    runs_only: bool = False


FORMATS: tuple[Format, ...] = (
    Format("keras", "Keras model", ".keras", "the model with its weights, for Keras 3 (keras.models.load_model)"),
    Format("savedmodel", "TensorFlow SavedModel", "_savedmodel", "a folder for TensorFlow Serving and TF tools"),
    Format("tflite", "TFLite / LiteRT", ".tflite", "for phones and small devices (LiteRT interpreter)"),
    Format("onnx", "ONNX", ".onnx", "for ONNX Runtime, OpenCV, TensorRT and other frameworks"),
    Format("python", "Python script", ".py", "rebuilds, trains and evaluates the network with Keras"),
    Format("png", "Network diagram (PNG)", "_diagram.png", "the canvas as a picture, on white"),
    Format("svg", "Network diagram (SVG)", "_diagram.svg", "the canvas as a vector drawing, on white"),
    Format("metrics", "Metrics (CSV)", "_metrics.csv", "loss and accuracy per epoch", runs_only=True),
    Format("report", "Run report (HTML)", "_report.html",
           "one page: architecture, curves, metrics, confusion matrix, sample predictions", runs_only=True),
)
BY_KEY = {f.key: f for f in FORMATS}


@dataclass(frozen=True)
class ExportItem:
    """One file (or folder) to write."""

    key: str
    path: Path
    quantize: str | None = None

    @property
    def label(self) -> str:
        label = BY_KEY[self.key].label
        return f"{label}, {self.quantize} quantized" if self.quantize else label


@dataclass(frozen=True)
class ExportPlan:
    """Everything the export job needs: what to export from, and where each file goes."""

    project: Project  # the network exported (a run's snapshot, or the current project)
    run_dir: Path | None  # the trained run, or None for the untrained network
    items: tuple[ExportItem, ...] = field(default_factory=tuple)
    tolerance: float | None = None  # largest difference accepted, relative to the output's scale (None: default)


@dataclass(frozen=True)
class ItemResult:
    """How one file went: written and checked (`ok`), or why not."""

    key: str
    path: Path
    ok: bool
    size_bytes: int = 0
    detail: str = ""  # the check's outcome, or the reason for a failure, in plain words
    size_before_bytes: int | None = None  # TFLite quantized: the unquantized size


def target_path(folder: Path, base: str, key: str) -> Path:
    return Path(folder) / f"{base}{BY_KEY[key].suffix}"


def base_name_problem(base: str) -> str | None:
    """Why `base` cannot start a file name, or None when it can."""
    if not base.strip():
        return "give the files a name"
    if BAD_NAME.search(base):
        return 'a file name cannot contain / \\ : * ? " < > |'
    if base.strip() in (".", ".."):
        return "choose another file name"
    return None


def slug(name: str) -> str:
    """A file-name-friendly version of a project name ("LeNet-5 (copy)" -> "lenet-5-copy")."""
    cleaned = "".join(ch.lower() if ch.isalnum() or ch in "-_" else "-" for ch in name)
    return "-".join(part for part in cleaned.split("-") if part) or "model"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 ** 2:
        return f"{size / 1024:,.1f} KiB"
    return f"{size / 1024 ** 2:,.1f} MiB"
