"""ML jobs on a thread of the window's own process: the transport for `CNNSTUDIO_ML_IN_PROCESS=1`.

The window normally runs its ML jobs in a worker process (`ml_worker`). Run in-process,
the same `JobCall`s go to one long-lived thread here, in order, and their results,
progress events and errors come back as queued Qt signals, so no widget is ever touched
from the ML thread. This keeps a debugger or profiler on one process, and is the
"before" of `benchmarks/app_training.py --in-process`. The jobs run in a `JobHost`, made
on the ML thread by name (`HOST`) the first time one runs: the window's code never
imports the ML side's.

    job = ml_thread.submit(JobCall(RunRequest(...)), on_result=show, on_error=report,
                           on_event=update_curves)
    job.pause(); job.resume(); job.cancel()
"""

from __future__ import annotations

import importlib
import queue
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from cnnstudio.ml.jobs.protocol import JobCall, JobCancelled

from .jobs import ERROR, RESULT, Job, deliver

HOST = "cnnstudio.ml.jobs.host:JobHost"  # made on the ML thread, by name


class _Bridge(QObject):
    """Lives on the GUI thread; signals emitted on the ML thread arrive queued."""

    delivered = Signal(object, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.delivered.connect(self._deliver)

    @Slot(object, str, object)
    def _deliver(self, job: Job, what: str, value: Any) -> None:
        deliver(job, what, value)


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
                self._bridge.delivered.emit(job, ERROR, (JobCancelled("cancelled"), ""))
                continue
            try:
                result = self._job_host().run(job.call, job)
            except BaseException as exc:  # reported to the GUI thread, never lost
                self._bridge.delivered.emit(job, ERROR, (exc, traceback.format_exc()))
            else:
                self._bridge.delivered.emit(job, RESULT, result)

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
        job.emit = self._bridge.delivered.emit
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
