"""Jobs the benchmarks send through the window's own ML client, to measure beside the app's jobs where they
run (the worker process, or the in-process ML thread; named by their requests, as every job is:
`cnnstudio.ml.jobs.protocol`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from cnnstudio.core.project import Project

_HERE = "_ml_jobs:"  # these scripts run with benchmarks/ first on sys.path


@dataclass(frozen=True)
class BareFit:
    """`model.fit` of the project's network on its dataset; says ("epoch", n) at each epoch's end (so the
    window can time it as it times the app's epochs) and answers the epoch-end (wall, CPU) times."""

    JOB: ClassVar[str] = _HERE + "bare_fit"
    project: Project
    epochs: int
    batch_size: int


@dataclass(frozen=True)
class TrainImages:
    """How many images one epoch of the project's dataset has."""

    JOB: ClassVar[str] = _HERE + "train_images"
    project: Project


@dataclass(frozen=True)
class ValidationImages:
    """The first `count` validation images of the inspected model's dataset."""

    JOB: ClassVar[str] = _HERE + "validation_images"
    count: int


@dataclass(frozen=True)
class DirectActivations:
    """Seconds `Inspector.activations` of one image takes when called directly."""

    JOB: ClassVar[str] = _HERE + "direct_activations"
    image: np.ndarray


@dataclass(frozen=True)
class DirectExplanation:
    """Seconds one explanation of `image` takes when the Inspector is called directly."""

    JOB: ClassVar[str] = _HERE + "direct_explanation"
    image: np.ndarray
    method: str


def bare_fit(workspace, request: BareFit, progress) -> tuple[list[tuple[float, float]], int]:
    import keras

    from cnnstudio.ml.builder import build_model

    project = request.project
    data = workspace.dataset(project)
    keras.utils.set_random_seed(0)
    model = build_model(project.network, project.name)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ends: list[tuple[float, float]] = []
    end = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: (ends.append((time.perf_counter(), time.process_time())),
                                      progress.event("epoch", e + 1)))
    model.fit(data.train(request.batch_size, seed=0), epochs=request.epochs, verbose=0, callbacks=[end])
    return ends, data.num_train


def train_images(workspace, request: TrainImages, progress) -> int:
    return workspace.dataset(request.project).num_train


def validation_images(workspace, request: ValidationImages, progress) -> Any:
    return workspace.dataset(workspace.facts.project).images("validation", np.arange(request.count))[0]


def direct_activations(workspace, request: DirectActivations, progress) -> float:
    start = time.perf_counter()
    workspace.require_model().activations(request.image)
    return time.perf_counter() - start


def direct_explanation(workspace, request: DirectExplanation, progress) -> float:
    start = time.perf_counter()
    inspector = workspace.require_model()
    if request.method == "gradient":
        inspector.saliency(request.image)
    elif request.method == "smoothgrad":
        inspector.smoothgrad(request.image, samples=25)
    else:
        inspector.grad_cam(request.image, variant=request.method)
    return time.perf_counter() - start
