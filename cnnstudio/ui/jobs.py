"""The window's handle on one ML job, whichever transport carries it (the worker process, or a thread).

    job = client.run(RunRequest(...), on_result=show, on_error=report, on_event=update_curves)
    job.pause(); job.resume(); job.cancel()

Pause, resume and cancel act on the job's `RunControl` here and are passed on to the side
that runs it (`steer`). The callbacks are called on the GUI thread by `deliver`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnnstudio.ml.jobs.protocol import PAUSE, RESUME, STOP, JobCall
from cnnstudio.ml.training.reporting import RunControl

RESULT, ERROR, EVENT = "result", "error", "event"


@dataclass(eq=False)
class Job:
    """One queued call with its GUI-thread callbacks; in-process, also the running job's `Progress`."""

    call: JobCall
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException, str], None] | None = None
    on_event: Callable[[str, Any], None] | None = None
    on_finished: Callable[[], None] | None = None
    name: str = ""
    control: RunControl = field(default_factory=RunControl)
    steer: Callable[[str], None] | None = None  # tells the side that runs the job (set by the transport)
    emit: Callable[[Job, str, Any], None] | None = None  # in-process: hands an event to the GUI thread
    ended: bool = False

    @property
    def cancelled(self) -> bool:
        return self.control.stopping

    def cancel(self) -> None:
        """Ask the job to stop at its next check (cooperative); one not started yet never runs."""
        self.control.stop()
        self._tell(STOP)

    def pause(self) -> None:
        self.control.pause()
        self._tell(PAUSE)

    def resume(self) -> None:
        self.control.resume()
        self._tell(RESUME)

    def _tell(self, action: str) -> None:
        if self.steer is not None and not self.ended:
            self.steer(action)

    def event(self, kind: str, payload: Any = None) -> None:
        """Send a progress event to the GUI thread (called by the job, when it runs in this process)."""
        if self.emit is not None:
            self.emit(self, EVENT, (kind, payload))


def deliver(job: Job, what: str, value: Any) -> None:
    """On the GUI thread: hand an event, result or error (exception, details) to the job's callbacks."""
    if job.ended:
        return
    try:
        if what == EVENT and job.on_event is not None:
            job.on_event(*value)
        elif what == RESULT and job.on_result is not None:
            job.on_result(value)
        elif what == ERROR and job.on_error is not None:
            job.on_error(*value)
    finally:  # a handler that fails still ends its job (else the transport would seem busy for good)
        if what in (RESULT, ERROR):
            job.ended = True
            if job.on_finished is not None:
                job.on_finished()
