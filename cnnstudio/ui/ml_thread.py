"""The one long-lived thread on which all TensorFlow work runs (build, train, inspect, export).

The GUI thread never imports TensorFlow: it queues `JobCall`s here, in order, and gets
their results, progress events and errors back as queued Qt signals, so no widget is
ever touched from the ML thread. The jobs run in a `JobHost`, made on the ML thread by
name (`HOST`) the first time one runs: the window's code never imports the ML side's.

    job = ml_thread.submit(JobCall(RunRequest(...)), on_result=show, on_error=report,
                           on_event=update_curves)
    job.pause(); job.resume(); job.cancel()

This is one transport for jobs; a worker process can take its place, since calls,
events and results are plain, picklable data.
"""

from __future__ import annotations

import importlib
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from cnnstudio.ml.jobs.protocol import JobCall, JobCancelled
from cnnstudio.ml.training.reporting import RunControl

HOST = "cnnstudio.ml.jobs.host:JobHost"  # made on the ML thread, by name


@dataclass
class Job:
    """One queued call with its GUI-thread callbacks; also the running job's `Progress`."""

    call: JobCall
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException, str], None] | None = None
    on_event: Callable[[str, Any], None] | None = None
    on_finished: Callable[[], None] | None = None
    name: str = ""
    control: RunControl = field(default_factory=RunControl)
    _bridge: _Bridge | None = None

    @property
    def cancelled(self) -> bool:
        return self.control.stopping

    def cancel(self) -> None:
        """Ask the job to stop at its next check (cooperative); one not started yet never runs."""
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def event(self, kind: str, payload: Any = None) -> None:
        """Send a progress event to the GUI thread (called by the job, on the ML thread)."""
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
        self._host: Any = None

    def run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if job.cancelled:
                self._bridge.delivered.emit(job, "error", (JobCancelled("cancelled"), ""))
                continue
            try:
                result = self._job_host().run(job.call, job)
            except BaseException as exc:  # reported to the GUI thread, never lost
                self._bridge.delivered.emit(job, "error", (exc, traceback.format_exc()))
            else:
                self._bridge.delivered.emit(job, "result", result)

    def _job_host(self) -> Any:
        if self._host is None:
            module, _, name = HOST.partition(":")
            self._host = getattr(importlib.import_module(module), name)()
        return self._host


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

    def submit(self, call: JobCall, *, on_result=None, on_error=None, on_event=None, on_finished=None,
               name: str = "") -> Job:
        """Queue ``call`` to run on the ML thread after earlier jobs."""
        job = Job(call, on_result, on_error, on_event, self._wrap_finished(on_finished), name or call.name)
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
