"""The training job: runs on the ML thread (never the GUI thread) and reports through job events.

TensorFlow and the trainer are imported inside `train_in_workspace`, which only
ever runs on the ML thread, so importing this module costs the window nothing.
Events sent to the GUI thread: ("status", text), ("loading", fraction),
("started", run_dir), ("probe", ProbeImage), ("batch", BatchReport),
("epoch", EpochReport), ("snapshot", Snapshot), ("message", text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import Project

REPORT_EVERY = 0.1  # seconds between batch reports: 10 points a second on the curves
SNAPSHOT_EVERY = 2.0  # seconds between looks inside (filters and feature maps)


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, decided on the GUI thread."""

    project: Project  # a copy: later edits never reach a running job
    runs_folder: Path
    label: str | None = None
    watch_layer: str | None = None  # the first convolution layer, watched live
    initial_weights: Path | None = None  # a run directory or .keras file to start from
    evaluate_test: bool = True


@dataclass(frozen=True)
class ProbeImage:
    """The validation image whose feature maps are shown while training."""

    image: np.ndarray  # (H, W, C) as the network sees it
    label: int  # -1 where the image has no single class (segmentation, regression, multi-label)
    class_name: str
    split: str


def unique_run_dir(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`, ... when taken."""
    candidate, n = folder / name, 2
    while candidate.exists():
        candidate = folder / f"{name}-{n}"
        n += 1
    return candidate


def train_in_workspace(workspace: Any, request: RunRequest, control: Any, *, job: Any) -> Any:
    """Load the data (cached by the workspace), train, and return the TrainingResult.

    Returns None when the run was stopped before its first batch (nothing is written).
    """
    from cnnstudio.ml.runs import default_run_dir
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
    from cnnstudio.ml.training.preparation import precheck
    from cnnstudio.ml.training.settings import TrainingSettings

    project = request.project
    settings = TrainingSettings.from_project(project)
    name = str(project.dataset.get("name") or "")
    precheck(project, settings, name)  # shapes, classes, memory: before anything slow
    job.event("status", f"Loading {name}…")
    dataset = workspace.dataset(project, progress=lambda fraction: job.event("loading", fraction))
    if control.stopping:
        return None
    probe = _probe(dataset)
    if probe is not None:
        job.event("probe", probe)
    run_dir = unique_run_dir(request.runs_folder, default_run_dir(project).name)
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}; choose another runs "
                        "folder in Preferences") from None
    job.event("started", run_dir)
    callbacks = TrainingCallbacks(
        on_batch=lambda report: job.event("batch", report),
        on_epoch=lambda report: job.event("epoch", report),
        on_snapshot=lambda snapshot: job.event("snapshot", snapshot),
        on_message=lambda text: job.event("message", text))
    watch = [request.watch_layer] if request.watch_layer and probe is not None else []
    trainer = Trainer(project, settings=settings, dataset=dataset, run_dir=run_dir, callbacks=callbacks,
                      control=control, report_every=REPORT_EVERY, snapshot_every=SNAPSHOT_EVERY,
                      snapshot_layers=watch, probe_images=None if probe is None else probe.image[None],
                      evaluate_test=request.evaluate_test, initial_weights=request.initial_weights)
    try:
        return trainer.run()
    except UserError:
        _remove_if_empty(run_dir)
        raise
    except MemoryError:
        raise UserError(_out_of_memory(run_dir, settings.batch_size)) from None
    except Exception as exc:
        if type(exc).__name__ == "ResourceExhaustedError":
            raise UserError(_out_of_memory(run_dir, settings.batch_size)) from None
        raise


def _probe(dataset: Any) -> ProbeImage | None:
    for split in ("validation", "train"):
        count = dataset.num_validation if split == "validation" else dataset.num_train
        if count:
            images, labels = dataset.samples(1, split, seed=0)
            if np.ndim(labels[0]) != 0:  # a mask, 0/1 labels or values: no one class to name
                return ProbeImage(np.asarray(images[0], np.float32), -1, "", split)
            label = int(labels[0])
            names = dataset.class_names
            return ProbeImage(np.asarray(images[0], np.float32), label,
                              str(names[label]) if 0 <= label < len(names) else str(label), split)
    return None


def _remove_if_empty(run_dir: Path) -> None:
    try:
        run_dir.rmdir()  # only succeeds when nothing was written
    except OSError:
        pass


def _out_of_memory(run_dir: Path, batch_size: int) -> str:
    return (f"the computer ran out of memory while training (batch size {batch_size}); try a smaller batch size "
            f"or a smaller network. What finished before is kept in {run_dir}")


def final_look(workspace: Any, layer: str, probe_image: np.ndarray, epoch: int) -> Any:
    """The watched layer of the finished run's model (loaded by `with_model`): its weights and its
    activations of the probe image, as a Snapshot (batch 0 = the end of training)."""
    from cnnstudio.ml.training.reporting import Snapshot

    model = workspace.model
    weights = [np.asarray(w) for w in model.get_layer(layer).get_weights()]
    activations = workspace.require_model().activations(probe_image[None], [layer])
    return Snapshot(epoch, 0, {layer: weights}, {layer: np.asarray(activations[layer])})
