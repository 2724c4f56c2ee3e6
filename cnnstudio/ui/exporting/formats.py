"""What the export dialog can write: each format's label, file name and whether it needs a trained run.

The export itself is the job `cnnstudio.ml.jobs.exporting.export`, given an `ExportPlan`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cnnstudio.ml.export_paths import MODEL_FORMATS
from cnnstudio.ml.jobs.requests import ExportItem, ExportPlan
from cnnstudio.ml.jobs.results import ItemResult, human_size

__all__ = ["BY_KEY", "FORMATS", "GUI_FORMATS", "MODEL_FORMATS", "QUANTIZATIONS", "TOLERANCES", "ExportItem", "ExportPlan", "Format", "ItemResult",
           "base_name_problem", "human_size", "item_label", "slug", "target_path"]

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


def item_label(item: ExportItem) -> str:
    """"ONNX", "TFLite / LiteRT, float16 quantized"."""
    label = BY_KEY[item.key].label
    return f"{label}, {item.quantize} quantized" if item.quantize else label


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

