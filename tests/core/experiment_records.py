"""Run records written by hand, as the trainer writes them, for tests of experiments, results and diffs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnstudio.core.project import Project, dumps
from cnnstudio.core.runs import RUN_FORMAT


def write_run(path: Path, project: Project, *, test_accuracy: float | None, test_loss: float | None = 0.3,
              val_accuracy: Sequence[float] = (0.8, 0.9), status: str = "finished", seconds: float = 4.0,
              class_names: Sequence[str] = tuple("0123456789"), task: str | None = None,
              test_figures: dict[str, float] | None = None) -> Path:
    """A run directory with run.json, metrics.csv and project.cnnproj (no model). For a `task` other than
    classification, `test_figures` are its own (e.g. {"mean_iou": 0.8}) and metrics.csv gets their columns."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "project.cnnproj").write_text(dumps(project), encoding="utf-8")
    epochs = len(val_accuracy)
    own = list(test_figures or {})
    rows = [",".join(["epoch,loss,accuracy,val_loss,val_accuracy", *(f"{n},val_{n}" for n in own)])]
    for k, acc in enumerate(val_accuracy, start=1):
        extra = "".join(f",{test_figures[n] * k / epochs!r},{test_figures[n] * k / epochs!r}" for n in own)
        rows.append(f"{k},{1.0 / k!r},{acc - 0.01!r},{1.1 / k!r},{acc!r}{extra}")
    (path / "metrics.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    final = {"epoch": epochs, "loss": 1.0 / epochs, "accuracy": val_accuracy[-1] - 0.01,
             "val_loss": 1.1 / epochs, "val_accuracy": val_accuracy[-1]}
    info = {"format": RUN_FORMAT, "version": 1, "project": project.name, "status": status,
            "settings": dict(project.training), "epochs_completed": epochs, "final": final,
            "seconds": seconds, "message": "",
            "dataset": {"name": project.dataset.get("name"), "class_names": list(class_names)}}
    if test_accuracy is not None or test_figures:
        info["test"] = {"accuracy": test_accuracy, "loss": test_loss, **(test_figures or {})}
    if task is not None:
        info["task"] = task
    (path / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return path


def write_predictions(path: Path, labels: Sequence[int], epochs: Sequence[Sequence[int]],
                      confidences: Sequence[Sequence[float]] | None = None) -> Path:
    """val_predictions.npz in the trainer's format: labels, epoch_<k>, confidence_<k> (k from 1)."""
    arrays: dict[str, np.ndarray] = {"labels": np.asarray(labels, dtype=np.int64)}
    for k, predicted in enumerate(epochs, start=1):
        arrays[f"epoch_{k}"] = np.asarray(predicted, dtype=np.uint8)
        conf = confidences[k - 1] if confidences is not None else [0.9] * len(predicted)
        arrays[f"confidence_{k}"] = np.asarray(conf, dtype=np.float16)
    np.savez_compressed(path / "val_predictions.npz", **arrays)
    return path
