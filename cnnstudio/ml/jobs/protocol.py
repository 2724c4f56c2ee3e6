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


WORKER_MAIN = "cnnstudio.ml.jobs.worker:serve"  # the worker process's main function


def start_by_name(target: str, *args: Any) -> None:
    """The first call in a spawned process: import `target` ("module:function") there and call it. The
    process that spawns it (the window) so never imports the worker's modules."""
    module_name, _, function_name = target.partition(":")
    getattr(importlib.import_module(module_name), function_name)(*args)


def job_function(request: Any) -> Callable[..., Any]:
    """The function named by ``request.JOB`` ("package.module:function"), imported by name."""
    module_name, _, function_name = type(request).JOB.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    if not callable(function):
        raise TypeError(f"{type(request).JOB} is not a function")
    return function


# -- the worker process: messages in (window -> worker) ----------------------------------------------
# A window holds a session in the worker (its own JobHost); job ids are unique per worker process.
PAUSE, RESUME, STOP = "pause", "resume", "stop"


@dataclass(frozen=True)
class Submit:
    """Run `call` for `session` after the jobs sent before it."""

    job: int
    session: int
    call: JobCall


@dataclass(frozen=True)
class Steer:
    """Pause, resume or stop (cancel) a job, queued or running."""

    job: int
    action: str  # PAUSE, RESUME or STOP


@dataclass(frozen=True)
class EndSession:
    """A window closed: drop its JobHost once its jobs are done, then say SessionEnded."""

    session: int


@dataclass(frozen=True)
class Warm:
    """Import Keras on the worker's backend now, while nothing waits for it."""


@dataclass(frozen=True)
class Quit:
    """Stop every job and end the worker."""


# -- the worker process: messages out (worker -> window) ---------------------------------------------
@dataclass(frozen=True)
class Hello:
    """The worker is up: its process id and Keras backend."""

    pid: int
    backend: str


@dataclass(frozen=True)
class Event:
    job: int
    kind: str
    payload: Any = None


@dataclass(frozen=True)
class Result:
    job: int
    value: Any


@dataclass(frozen=True)
class Failure:
    """A job ended without a result: cancelled, a UserError, or a fault (`message` says it in words).

    `error` is the exception itself when it is plain data the window can rebuild (built-in and
    core exceptions), else None; `type_name` and `text` describe it either way.
    """

    job: int
    error: BaseException | None
    type_name: str
    text: str
    details: str  # the traceback, as text
    message: str  # in the user's words (a fault: where its details were logged)


@dataclass(frozen=True)
class SessionEnded:
    session: int


@dataclass(frozen=True)
class Warmed:
    """Keras is imported on `backend`; it took `seconds`."""

    backend: str
    seconds: float


class WorkerJobError(Exception):
    """A job's fault that could not travel as itself (its class belongs to TensorFlow, Keras, ...)."""

    def __init__(self, type_name: str, text: str) -> None:
        super().__init__(f"{type_name}: {text}" if text else type_name)
        self.type_name = type_name

    def __reduce__(self):
        return (type(self), (self.type_name, str(self).partition(": ")[2]))


class WorkerLost(Exception):
    """The worker process ended while a job was queued or running on it (its message is in words)."""
