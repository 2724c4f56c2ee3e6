"""The GUI's handle on the ML thread's `Workspace`: the model under inspection and the datasets.

Views never touch TensorFlow. They ask through this object; the work runs on the
one ML thread and the answer comes back on the GUI thread:

    client.with_model(lambda ws, image: ws.inspector.activations(image), image,
                      on_result=self.show_maps, key="feature-maps")

`with_model` first makes sure the right model is loaded — the current run's trained
model (``ModelSource``), or else the untrained network as it is now — and emits
``modelReady`` when that model is a different one. A job given a ``key`` replaces
an older job with the same key that has not started yet (latest wins while a user
drags a slider or draws).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cnnstudio.core.errors import UserError
from cnnstudio.core.network import NetworkChange
from cnnstudio.crashlog import internal_error_message

from .document import ProjectDocument
from .ml_thread import CancelledError, Job, MLThread
from .model_source import ModelSource


class WorkspaceClient(QObject):
    modelReady = Signal(object)  # ModelFacts of a newly loaded model
    stale = Signal()  # the model the views show is out of date (network edited, other run chosen)
    failed = Signal(str)  # a job failed; the message is in the user's words

    def __init__(self, document: ProjectDocument, ml_thread: MLThread, model_source: ModelSource,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.ml_thread = ml_thread
        self.model_source = model_source
        self.facts = None  # ModelFacts of the model last loaded
        self._keyed: dict[str, Job] = {}
        self._workspace = None  # the ML thread's Workspace, created there on first use
        model_source.changed.connect(lambda _run: self.stale.emit())
        document.networkChanged.connect(self._on_network_changed)
        document.projectReplaced.connect(self.stale.emit)

    def _on_network_changed(self, kind: NetworkChange, _ids: list) -> None:
        if kind != NetworkChange.MOVED and self.model_source.run_dir is None:
            self.stale.emit()

    @property
    def busy(self) -> bool:
        """Whether jobs are queued or running (a new one waits for them)."""
        return self.ml_thread.busy

    # ------------------------------------------------------------------ jobs
    def run(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None] | None = None,
            on_error: Callable[[str], None] | None = None, on_event: Callable[[str, Any], None] | None = None,
            key: str | None = None, **kwargs: Any) -> Job:
        """Run ``fn(workspace, *args, **kwargs)`` on the ML thread; the result goes to ``on_result``.

        With ``pass_job=True`` the job is passed too (``job=``), for progress events
        (``job.event``) and cancellation (``job.cancelled``)."""
        pass_job = kwargs.pop("pass_job", False)

        def job_fn(job: Job, *a: Any, **kw: Any) -> Any:
            workspace = self._ml_workspace()
            if pass_job:
                kw["job"] = job
            return fn(workspace, *a, **kw)

        return self._submit(job_fn, args, kwargs, on_result, on_error, on_event, key)

    def with_model(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None] | None = None,
                   on_error: Callable[[str], None] | None = None, on_event: Callable[[str, Any], None] | None = None,
                   key: str | None = None, **kwargs: Any) -> Job:
        """Like `run`, after loading the current model (see the module docstring)."""
        project, run_dir = self.document.project.copy(), self.model_source.run_dir
        pass_job = kwargs.pop("pass_job", False)

        def job_fn(job: Job, *a: Any, **kw: Any) -> Any:
            workspace = self._ml_workspace()
            before = workspace.facts
            facts = workspace.use_model(project, run_dir)
            if facts is not before:
                job.event("model", facts)
            if pass_job:
                kw["job"] = job
            return fn(workspace, *a, **kw)

        def events(kind: str, payload: Any) -> None:
            if kind == "model":
                self.facts = payload
                self.modelReady.emit(payload)
            elif on_event is not None:
                on_event(kind, payload)

        return self._submit(job_fn, args, kwargs, on_result, on_error, events, key)

    def load_model(self, on_result: Callable[[Any], None] | None = None) -> Job:
        """Load the current model now; ``on_result`` gets its ModelFacts."""
        return self.with_model(lambda ws: ws.facts, on_result=on_result, key="load-model")

    def _ml_workspace(self):
        """This window's Workspace (only ever touched on the ML thread)."""
        if self._workspace is None:
            from cnnstudio.ml.workspace import Workspace

            self._workspace = Workspace()
        return self._workspace

    def _submit(self, fn, args, kwargs, on_result, on_error, on_event, key) -> Job:
        if key is not None and key in self._keyed:
            self._keyed[key].cancel()  # skipped by the ML thread if it has not started

        def errored(exc: BaseException, details: str) -> None:
            if isinstance(exc, CancelledError):
                return
            message = str(exc) if isinstance(exc, UserError) else internal_error_message(exc)
            if on_error is not None:
                on_error(message)
            else:
                self.failed.emit(message)

        def finished() -> None:
            if key is not None and self._keyed.get(key) is job:
                del self._keyed[key]

        job = self.ml_thread.submit(fn, *args, on_result=on_result, on_error=errored, on_event=on_event,
                                    on_finished=finished, name=key or getattr(fn, "__name__", ""), **kwargs)
        if key is not None:
            self._keyed[key] = job
        return job
