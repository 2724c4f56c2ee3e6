"""The window's one way to ML work: schedule jobs (`cnnstudio.ml.jobs`), get results and events back.

Views never touch TensorFlow. They send a request through this client; the job runs on
the ML side and the answer comes back on the GUI thread:

    client.with_model(AnalyseRequest(image, with_maps=True), on_result=self.show_maps, key="feature-maps")

`with_model` makes the job run on the right model — the current run's trained model
(``ModelSource``), or else the untrained network as it is now — and emits ``modelReady``
when that model is a different one. A job given a ``key`` replaces an older job with the
same key that has not started yet (latest wins while a user drags a slider or draws).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from cnnstudio.core.errors import UserError
from cnnstudio.core.network import NetworkChange
from cnnstudio.crashlog import internal_error_message
from cnnstudio.ml.jobs.protocol import MODEL_READY, JobCall, JobCancelled, ModelChoice, Request, WorkerLost
from cnnstudio.ml.jobs.requests import LoadModelRequest
from cnnstudio.ml.jobs.results import ModelFacts

from .document import ProjectDocument
from .jobs import Job
from .model_source import ModelSource

ResultSlot = Callable[[Any], None]
ErrorSlot = Callable[[str], None]
EventSlot = Callable[[str, Any], None]


class Transport(Protocol):
    """What carries jobs to the ML side and answers back (`WorkerTransport`, `MLThread`)."""

    busy_changed: Any  # Signal(bool)

    def submit(self, call: JobCall, *, on_result=None, on_error=None, on_event=None, on_finished=None,
               name: str = "") -> Job: ...

    @property
    def busy(self) -> bool: ...

    def shutdown(self, timeout_ms: int = 30000) -> bool: ...


class MLClient(QObject):
    modelReady = Signal(object)  # ModelFacts of a newly loaded model
    stale = Signal()  # the model the views show is out of date (network edited, other run chosen)
    failed = Signal(str)  # a job failed; the message is in the user's words
    workerLost = Signal(str)  # the worker process ended unexpectedly (why, in words); a new one starts
    workerRestarted = Signal(str)  # a new worker process (its backend) took over; it has no model loaded

    def __init__(self, document: ProjectDocument, transport: Transport, model_source: ModelSource,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.transport = transport
        self.model_source = model_source
        self.facts: ModelFacts | None = None  # of the model last loaded
        self._keyed: dict[str, Job] = {}
        model_source.changed.connect(lambda _run: self.stale.emit())
        document.networkChanged.connect(self._on_network_changed)
        document.projectReplaced.connect(self.stale.emit)
        worker = getattr(transport, "worker", None)
        if worker is not None:
            worker.lost.connect(self.workerLost.emit)
            worker.restarted.connect(self._on_restarted)

    @property
    def backend(self) -> str | None:
        """The Keras backend the jobs run on (None: this process's, for in-process jobs)."""
        worker = getattr(self.transport, "worker", None)
        return None if worker is None else worker.backend

    def switch_backend(self, backend: str, *, stop_jobs: bool = False) -> str:
        """Run later jobs under `backend`: the worker restarts when idle (`stop_jobs`: stop what runs first).
        What happens, in words."""
        worker = getattr(self.transport, "worker", None)
        if worker is None:
            return "in-process jobs keep their backend until CNN Studio starts again"
        if backend == worker.backend and worker.switching_to is None:
            return ""
        busy = worker.busy
        worker.use_backend(backend)
        if busy and stop_jobs:
            worker.stop_jobs()
            return "the running job is stopping; then the worker restarts"
        return "the worker restarts when the running job is done" if busy else "the worker restarted"

    def _on_restarted(self, backend: str) -> None:
        self.facts = None
        self.workerRestarted.emit(backend)
        self.stale.emit()

    def _on_network_changed(self, kind: NetworkChange, _ids: list) -> None:
        if kind != NetworkChange.MOVED and self.model_source.run_dir is None:
            self.stale.emit()

    @property
    def busy(self) -> bool:
        """Whether jobs are queued or running (a new one waits for them)."""
        return self.transport.busy

    # ------------------------------------------------------------------ jobs
    def run(self, request: Request, *, on_result: ResultSlot | None = None, on_error: ErrorSlot | None = None,
            on_event: EventSlot | None = None, key: str | None = None,
            on_cancelled: Callable[[], None] | None = None) -> Job:
        """Run the job ``request`` names; its result goes to ``on_result``, a failure (in words) to
        ``on_error`` (else to ``failed``), its progress events to ``on_event``. A job cancelled
        before it had a result calls ``on_cancelled`` (else nothing)."""
        return self._submit(JobCall(request), on_result, on_error, on_event, key, on_cancelled)

    def with_model(self, request: Request, *, on_result: ResultSlot | None = None, on_error: ErrorSlot | None = None,
                   on_event: EventSlot | None = None, key: str | None = None) -> Job:
        """Like `run`, on the current model (see the module docstring)."""
        choice = ModelChoice(self.document.project.copy(), self.model_source.run_dir)

        def events(kind: str, payload: Any) -> None:
            if kind == MODEL_READY:
                self.facts = payload
                self.modelReady.emit(payload)
            elif on_event is not None:
                on_event(kind, payload)

        return self._submit(JobCall(request, choice), on_result, on_error, events, key, None)

    def load_model(self, on_result: ResultSlot | None = None) -> Job:
        """Load the current model now; ``on_result`` gets its ModelFacts."""
        return self.with_model(LoadModelRequest(), on_result=on_result, key="load-model")

    def _submit(self, call: JobCall, on_result: ResultSlot | None, on_error: ErrorSlot | None,
                on_event: EventSlot | None, key: str | None, on_cancelled: Callable[[], None] | None) -> Job:
        if key is not None and key in self._keyed:
            self._keyed[key].cancel()  # skipped on the ML side if it has not started

        def errored(exc: BaseException, details: str) -> None:
            if isinstance(exc, JobCancelled):
                if on_cancelled is not None:
                    on_cancelled()
                return
            message = in_words(exc)
            if on_error is not None:
                on_error(message)
            else:
                self.failed.emit(message)

        def finished() -> None:
            if key is not None and self._keyed.get(key) is job:
                del self._keyed[key]

        job = self.transport.submit(call, on_result=on_result, on_error=errored, on_event=on_event,
                                    on_finished=finished, name=key or call.name)
        if key is not None:
            self._keyed[key] = job
        return job


def in_words(exc: BaseException) -> str:
    """A job's failure as the user reads it: a UserError's own words, the worker's account of a fault
    (it logged the details), or this process's."""
    if isinstance(exc, (UserError, WorkerLost)):
        return str(exc)
    said = getattr(exc, "said", None)
    return said if isinstance(said, str) and said else internal_error_message(exc)
