"""The one long-lived thread on which all TensorFlow work runs (build, train, inspect, export).

The GUI thread never imports TensorFlow: it submits plain functions here, in order,
and gets their results, progress and errors back as queued Qt signals, so no widget
is ever touched from the ML thread.

    job = ml_thread.submit(train_fn, project, on_result=show, on_error=report,
                           on_event=update_curves)

``train_fn(job, project)`` runs on the ML thread; it may call ``job.event(kind, payload)``
any number of times (delivered to ``on_event`` on the GUI thread) and should check
``job.cancelled`` between steps.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


@dataclass
class Job:
    """One unit of work for the ML thread, with its GUI-thread callbacks."""

    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException, str], None] | None = None
    on_event: Callable[[str, Any], None] | None = None
    on_finished: Callable[[], None] | None = None
    name: str = ""
    _cancel: threading.Event = field(default_factory=threading.Event)
    _bridge: _Bridge | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the job to stop at its next check (cooperative)."""
        self._cancel.set()

    def event(self, kind: str, payload: Any = None) -> None:
        """Send a progress event to the GUI thread (call from the ML thread)."""
        if self._bridge is not None:
            self._bridge.delivered.emit(self, "event", (kind, payload))


class _Bridge(QObject):
    """Lives on the GUI thread; signals emitted on the ML thread arrive queued."""

    delivered = Signal(object, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.delivered.connect(self._deliver)

    @Slot(object, str, object)
    def _deliver(self, job: Job, what: str, value: Any) -> None:
        try:
            if what == "event" and job.on_event is not None:
                job.on_event(*value)
            elif what == "result" and job.on_result is not None:
                job.on_result(value)
            elif what == "error" and job.on_error is not None:
                job.on_error(*value)
        finally:  # a handler that fails still ends its job (else the thread would seem busy for good)
            if what in ("result", "error") and job.on_finished is not None:
                job.on_finished()


class _Runner(QThread):
    def __init__(self, jobs: queue.Queue, bridge: _Bridge) -> None:
        super().__init__()
        self.setObjectName("cnnstudio-ml")
        self._jobs = jobs
        self._bridge = bridge

    def run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled:
                self._bridge.delivered.emit(job, "error", (CancelledError("cancelled"), ""))
                continue
            try:
                result = job.fn(job, *job.args, **job.kwargs)
            except BaseException as exc:  # reported to the GUI thread, never lost
                self._bridge.delivered.emit(job, "error", (exc, traceback.format_exc()))
            else:
                self._bridge.delivered.emit(job, "result", result)


class CancelledError(Exception):
    """A job was cancelled before it ran."""


class MLThread(QObject):
    """Owns the ML thread: submit jobs, see whether one is running, shut it down."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: queue.Queue = queue.Queue()
        self._bridge = _Bridge()
        self._runner = _Runner(self._jobs, self._bridge)
        self._pending = 0
        self._runner.start()

    def submit(self, fn: Callable[..., Any], *args: Any, on_result=None, on_error=None, on_event=None,
               on_finished=None, name: str = "", **kwargs: Any) -> Job:
        """Queue ``fn(job, *args, **kwargs)`` to run on the ML thread after earlier jobs."""
        job = Job(fn, args, kwargs, on_result, on_error, on_event, self._wrap_finished(on_finished), name)
        job._bridge = self._bridge
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self._jobs.put(job)
        return job

    def _wrap_finished(self, on_finished: Callable[[], None] | None) -> Callable[[], None]:
        def finished() -> None:
            self._pending -= 1
            if self._pending == 0:
                self.busy_changed.emit(False)
            if on_finished is not None:
                on_finished()

        return finished

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Let queued jobs finish (cancel them first if needed) and end the thread."""
        if not self._runner.isRunning():
            return True
        self._jobs.put(None)
        return self._runner.wait(timeout_ms)
