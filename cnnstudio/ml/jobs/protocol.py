"""How the window and the ML side talk about jobs: requests in, events and results out.

A job is a plain, module-level function of this package:

    def analyse(workspace: Workspace, request: AnalyseRequest, progress: Progress) -> Analysis

Its request is a frozen dataclass of plain data (paths, NumPy arrays, projects) that
names its function (`Request.JOB`, "module:function"); with the model to load first, it
makes a `JobCall`, which pickles, so it can as well be sent to another process. The
state kept between jobs (`Workspace`: loaded datasets, the model under inspection)
stays on the side that runs them. A running job reports with
``progress.event(kind, payload)`` and checks ``progress.cancelled`` between steps; a
training run hands ``progress.control`` (pause, resume, stop) to the trainer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from cnnstudio.core.project import Project
from cnnstudio.ml.training.reporting import RunControl

MODEL_READY = "model"  # event: the ModelFacts of a model just loaded for a JobCall's `model`


class Request(Protocol):
    """What every job request has: the name of the function that answers it."""

    JOB: ClassVar[str]


class Progress(Protocol):
    """What a running job is handed to report and to be steered."""

    control: RunControl  # pause, resume and stop; stop is also how a job is cancelled

    def event(self, kind: str, payload: Any = None) -> None: ...

    @property
    def cancelled(self) -> bool: ...


class JobCancelled(Exception):
    """A job stopped because it was asked to, before it had a result."""


@dataclass(frozen=True)
class ModelChoice:
    """The model a job looks at: a run's trained model, or (no run) the project's network untrained."""

    project: Project
    run_dir: Path | None = None


@dataclass(frozen=True)
class JobCall:
    """One job to run: its request, and the model to make current first (None: leave it)."""

    request: Any
    model: ModelChoice | None = None

    @property
    def name(self) -> str:
        return type(self.request).__name__


def job_function(request: Any) -> Callable[..., Any]:
    """The function named by ``request.JOB`` ("package.module:function"), imported by name."""
    module_name, _, function_name = type(request).JOB.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{type(request).JOB} is not a function")
    return function
