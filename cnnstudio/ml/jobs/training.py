"""The training job: load the data (cached by the workspace), train, report through job events.

Events sent while it runs: ("status", text), ("loading", fraction), ("started", run_dir),
("probe", ProbeImage), ("batch", BatchReport), ("epoch", EpochReport),
("snapshot", Snapshot), ("message", text). Pause, resume and stop reach the trainer
through ``progress.control``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.runs import mark_interrupted

from ..runs import default_run_dir
from ..trainer import Trainer, TrainingCallbacks
from ..training.memory import gigabytes
from ..training.preparation import precheck
from ..training.reporting import Snapshot, TrainingResult
from ..training.settings import TrainingSettings
from ..workspace import Workspace
from .protocol import Progress
from .requests import FinalLookRequest, RunRequest
from .results import ProbeImage

REPORT_EVERY = 0.1  # seconds between batch reports: 10 points a second on the curves
SNAPSHOT_EVERY = 2.0  # seconds between looks inside (filters and feature maps)


def unique_run_dir(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`, ... when taken."""
    candidate, n = folder / name, 2
    while candidate.exists():
        candidate = folder / f"{name}-{n}"
        n += 1
    return candidate


def train(workspace: Workspace, request: RunRequest, progress: Progress) -> TrainingResult | None:
    """Train the request's project and return how it went; None when the run was stopped before its
    first batch (nothing is written then)."""
    project = request.project
    control = progress.control
    settings = TrainingSettings.from_project(project)
    name = str(project.dataset.get("name") or "")
    facts = precheck(project, settings, name)  # shapes, classes, memory: before anything slow
    progress.event("status", f"Loading {name}…")
    dataset = workspace.dataset(project, progress=lambda fraction: progress.event("loading", fraction))
    if control.stopping:
        return None
    probe = _probe(dataset)
    if probe is not None:
        progress.event("probe", probe)
    run_dir = request.resume or unique_run_dir(request.runs_folder, default_run_dir(project).name)
    try:
        run_dir.mkdir(parents=True, exist_ok=request.resume is not None)
    except OSError as exc:
        raise UserError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}; choose another runs "
                        "folder in Preferences") from None
    progress.event("started", run_dir)
    callbacks = TrainingCallbacks(
        on_batch=lambda report: progress.event("batch", report),
        on_epoch=lambda report: progress.event("epoch", report),
        on_snapshot=lambda snapshot: progress.event("snapshot", snapshot),
        on_message=lambda text: progress.event("message", text))
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
    except Exception as exc:
        out_of_memory = is_out_of_memory(exc)
        message = (out_of_memory_message(run_dir, settings.batch_size,
                                         facts.analysis.estimated_memory_bytes(settings.batch_size))
                   if out_of_memory else f"training broke off: {type(exc).__name__}: {exc}")
        _remove_if_empty(run_dir)
        if run_dir.is_dir():
            mark_interrupted(run_dir, message)  # run.json must not say "running" any more
        if out_of_memory:
            raise UserError(message) from None
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


# How each backend says it ran out of memory on its device: TensorFlow's ResourceExhaustedError, XLA's
# (JAX) "RESOURCE_EXHAUSTED" runtime error, PyTorch's OutOfMemoryError; the host's MemoryError.
OUT_OF_MEMORY_TYPES = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")
OUT_OF_MEMORY_WORDS = ("RESOURCE_EXHAUSTED", "out of memory", "OOM when allocating")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says the device (or the host) ran out of memory, on any backend."""
    if type(exc).__name__ in OUT_OF_MEMORY_TYPES:
        return True
    text = str(exc)
    return any(words in text for words in OUT_OF_MEMORY_WORDS)


def out_of_memory_message(run_dir: Path, batch_size: int, estimate: int) -> str:
    return (f"the device ran out of memory while training with batch size {batch_size} (this network was "
            f"estimated to need about {gigabytes(estimate)} for it); try a smaller batch size or a smaller "
            f"network. What finished before is kept in {run_dir}")


def final_look(workspace: Workspace, request: FinalLookRequest, progress: Progress) -> Snapshot:
    """The watched layer of the finished run's model (made current by the call): its weights and its
    activations of the probe image, as a Snapshot (batch 0 = the end of training)."""
    layer = request.layer
    weights = [np.asarray(w) for w in workspace.require_model().model.get_layer(layer).get_weights()]
    activations = workspace.require_model().activations(request.probe_image[None], [layer])
    return Snapshot(request.epoch, 0, {layer: weights}, {layer: np.asarray(activations[layer])})
