"""The ML worker process, seen from the window: started in the background, watched, restarted.

All TensorFlow/Keras work the window asks for runs in ONE long-lived child process
(`cnnstudio.ml.jobs.worker`, started with multiprocessing's spawn), under the Keras backend
chosen in Preferences. The window's process never imports TensorFlow, Keras, JAX or
PyTorch, and a fault in them cannot take the window (or unsaved edits) with it.

    worker = shared_worker()                    # the program's one worker (started on first use)
    transport = WorkerTransport(worker, window) # a window's jobs, with its own JobHost in the worker
    transport.submit(call, on_result=..., on_event=...)

Two background threads per worker process do the talking: one starts the process, then
sends the queued messages in order; the other reads what comes back and hands it to the
GUI thread as a queued signal, so the GUI thread never waits on the child, never copies a
large array, and no widget is touched off the GUI thread. When the child dies, `lost`
says why in words, every job it had fails with `WorkerLost`, and a new child is started.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import queue
import socket
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

from cnnstudio.ml.backend import default_backend
from cnnstudio.ml.jobs.protocol import (
    WORKER_MAIN,
    EndSession,
    Event,
    Failure,
    Hello,
    JobCall,
    JobCancelled,
    Quit,
    Result,
    SessionEnded,
    Steer,
    Submit,
    Warmed,
    WorkerLost,
    start_by_name,
)
from cnnstudio.ml.jobs.wire import Channel

from .jobs import ERROR, EVENT, RESULT, Job, deliver

STOP_SECONDS = 10.0  # how long a worker asked to quit gets before it is killed
NOT_STARTED, STARTING, READY, STOPPED = "not started", "starting", "ready", "stopped"


def why_it_ended(exitcode: int | None) -> str:
    """A worker's end in words: "killed by signal 9", "it exited with status 1"."""
    if exitcode is None:
        return "it stopped answering"
    if exitcode < 0:
        return f"killed by signal {-exitcode}"
    return f"it exited with status {exitcode}"


class _Ended:
    """From the reading thread: the child has gone (its exit code, None when unknown)."""

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode


class _NotStarted:
    """From the sending thread: no child process could be started (why, in words)."""

    def __init__(self, why: str) -> None:
        self.why = why


class _Link:
    """One child process and the two threads that talk to it (see the module docstring)."""

    def __init__(self, generation: int, backend: str, warm: bool,
                 arrived: Callable[[int, Any], None], session_ended: Callable[[int], None]) -> None:
        self.generation = generation
        self.backend = backend
        self.warm = warm
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.process: Any = None
        self.channel: Channel | None = None
        self.quitting = False
        self._arrived = arrived
        self._session_ended = session_ended
        self._sender = threading.Thread(target=self._start_and_send, name="cnnstudio-worker-send", daemon=True)
        self._reader: threading.Thread | None = None
        self._sender.start()

    def send(self, message: Any) -> None:
        self.outbox.put(message)

    def _start_and_send(self) -> None:
        try:
            ours, theirs = socket.socketpair()
            context = multiprocessing.get_context("spawn")
            self.process = context.Process(target=start_by_name, args=(WORKER_MAIN, theirs, self.backend, self.warm),
                                           name="cnnstudio-ml-worker", daemon=True)
            self.process.start()
            theirs.close()
        except Exception as exc:  # no process at all (out of memory, a broken install): said in words
            self._arrived(self.generation, _NotStarted(f"{type(exc).__name__}: {exc}"))
            return
        self.channel = Channel(ours)
        self._reader = threading.Thread(target=self._read, name="cnnstudio-worker-read", daemon=True)
        self._reader.start()
        while True:
            message = self.outbox.get()
            if message is None:
                break
            try:
                self.channel.send(message)
            except OSError:
                break  # the child is gone; the reading thread says so

    def _read(self) -> None:
        channel = self.channel
        while True:
            try:
                message = channel.receive()
            except (EOFError, OSError):
                break
            except Exception:  # a message that cannot be read here (a fault of the worker's): skipped
                traceback.print_exc()
                continue
            if isinstance(message, SessionEnded):
                self._session_ended(message.session)  # at once: a closing window may be waiting for it
            self._arrived(self.generation, message)
        self.process.join(STOP_SECONDS if self.quitting else 5.0)  # also reaps it: its run locks read as free
        self._arrived(self.generation, _Ended(self.process.exitcode))

    def quit(self, wait: float) -> None:
        """Ask the child to stop its jobs and end; kill it if it has not within `wait` seconds."""
        self.quitting = True
        self.outbox.put(Quit())
        self.outbox.put(None)
        self._sender.join(wait)
        process = self.process
        if process is None:
            return
        process.join(wait)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        if self.channel is not None:
            self.channel.close()
        if self._reader is not None:
            self._reader.join(2.0)


class WorkerProcess(QObject):
    """The program's ML worker: one child process at a time, shared by the windows' transports."""

    started = Signal(int, str)  # process id, backend: a (new) worker is up
    lost = Signal(str)  # the worker ended unexpectedly; why, in words ("killed by signal 9")
    restarted = Signal(str)  # a new worker replaced the old one (backend); what it knew is gone
    warmed = Signal(str, float)  # Keras is imported on the backend; seconds it took
    idle = Signal()  # no job is queued or running any more
    _arrived = Signal(int, object)  # (generation, message), from the reading thread

    def __init__(self, backend: str | None = None, *, warm: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend = backend or default_backend()
        self.warm = warm
        self.pid: int | None = None
        self.state = NOT_STARTED
        self._link: _Link | None = None
        self._generations = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._jobs: dict[int, tuple[int, Job]] = {}  # job id -> (session, job)
        self._sessions: dict[int, threading.Event] = {}  # open session -> set once it has ended
        self._wanted_backend: str | None = None
        self._arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ the process
    def start(self) -> None:
        """Start the child in the background (nothing here waits for it); a no-op when it is up."""
        if self._link is None:
            self.state = STARTING
            self._link = _Link(next(self._generations), self.backend, self.warm, self._arrived.emit,
                               self._session_ended)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def use_backend(self, backend: str) -> None:
        """Run future jobs under `backend`: the worker restarts now when idle, else when its jobs are done."""
        if backend == self.backend and self._wanted_backend is None:
            return
        self._wanted_backend = backend
        if not self.busy:
            self._switch()

    def stop_jobs(self) -> None:
        """Ask every queued or running job to stop (cooperative: a training run saves what it has)."""
        for _session, job in list(self._jobs.values()):
            job.cancel()

    @property
    def switching_to(self) -> str | None:
        """The backend the worker restarts on once its jobs are done, if a switch waits."""
        return self._wanted_backend

    def restart(self) -> None:
        """A new child in place of this one (its jobs fail with WorkerLost)."""
        self._replace(WorkerLost("the ML worker was restarted"))

    def _switch(self) -> None:
        backend, self._wanted_backend = self._wanted_backend, None
        if backend is not None and backend != self.backend:
            self.backend = backend
            self._replace(WorkerLost(f"the ML worker was restarted on {backend}"))

    def _replace(self, why: WorkerLost) -> None:
        link, self._link = self._link, None
        if link is not None:
            threading.Thread(target=link.quit, args=(STOP_SECONDS,), daemon=True).start()
        self._fail_all(why)
        self.pid = None
        self.state = NOT_STARTED
        self.start()
        self.restarted.emit(self.backend)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """End the child (its jobs are stopped; a training run saves what it has); waits up to `timeout` s."""
        link, self._link = self._link, None
        self.state = STOPPED
        if link is not None:
            link.quit(timeout)
        for event in self._sessions.values():
            event.set()

    # ------------------------------------------------------------------ jobs
    def open_session(self) -> int:
        session = next(self._job_ids)
        self._sessions[session] = threading.Event()
        return session

    def submit(self, session: int, job: Job) -> None:
        job_id = next(self._job_ids)
        self._jobs[job_id] = (session, job)
        job.steer = lambda action: self._send(Steer(job_id, action))
        self._send(Submit(job_id, session, job.call))

    def end_session(self, session: int, timeout_ms: int) -> bool:
        """Close a window's session once its jobs are done; True when that happened within the timeout.
        Nothing of it is delivered any more."""
        ended = self._sessions.get(session)
        if ended is None:
            return True
        for owner, job in list(self._jobs.values()):
            if owner == session:
                job.on_result = job.on_event = job.on_error = None
        if self._link is None or self.state == STOPPED:
            ended.set()
        else:
            self._send(EndSession(session))
        return ended.wait(max(0, timeout_ms) / 1000)

    def _session_ended(self, session: int) -> None:  # on the reading thread
        ended = self._sessions.get(session)
        if ended is not None:
            ended.set()

    def _send(self, message: Any) -> None:
        if self.state == STOPPED:
            raise RuntimeError("the ML worker has been stopped")
        self.start()
        self._link.send(message)

    # ------------------------------------------------------------------ what comes back
    @Slot(int, object)
    def _on_arrived(self, generation: int, message: Any) -> None:
        link = self._link
        if link is None or generation != link.generation:
            return  # from a worker that was replaced or stopped
        if isinstance(message, Event):
            entry = self._jobs.get(message.job)
            if entry is not None:
                deliver(entry[1], EVENT, (message.kind, message.payload))
        elif isinstance(message, Result):
            self._finish(message.job, RESULT, message.value)
        elif isinstance(message, Failure):
            self._finish(message.job, ERROR, (_rebuilt(message), message.details))
        elif isinstance(message, Hello):
            self.pid, self.state = message.pid, READY
            self.started.emit(message.pid, message.backend)
        elif isinstance(message, Warmed):
            self.warmed.emit(message.backend, message.seconds)
        elif isinstance(message, SessionEnded):
            self._sessions.pop(message.session, None)
        elif isinstance(message, _Ended):
            self._on_ended(link, message.exitcode)
        elif isinstance(message, _NotStarted):
            self._link, self.state = None, NOT_STARTED  # the next job tries again
            self.lost.emit(f"it could not be started: {message.why}")
            self._fail_all(WorkerLost(f"the ML worker process could not be started ({message.why})"))

    def _finish(self, job_id: int, what: str, value: Any) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        try:
            deliver(entry[1], what, value)
        finally:
            if not self._jobs:
                self.idle.emit()
                if self._wanted_backend is not None:
                    QTimer.singleShot(0, self._switch_if_idle)

    def _switch_if_idle(self) -> None:
        if not self.busy and self._wanted_backend is not None:
            self._switch()

    def _on_ended(self, link: _Link, exitcode: int | None) -> None:
        if link.quitting:
            return
        why = why_it_ended(exitcode)
        self._link = None
        self.pid = None
        self.state = NOT_STARTED
        self.lost.emit(why)
        self._fail_all(WorkerLost(f"the ML worker process stopped unexpectedly ({why})"))
        self.start()
        self.restarted.emit(self.backend)

    def _fail_all(self, why: WorkerLost) -> None:
        jobs, self._jobs = self._jobs, {}
        for _session, job in jobs.values():
            try:
                deliver(job, ERROR, (why, ""))
            except Exception:  # one view's failing handler must not keep the others from hearing
                traceback.print_exc()
        if jobs:
            self.idle.emit()


def _rebuilt(failure: Failure) -> BaseException:
    """The exception a Failure stands for, with the worker's words for it (`said`)."""
    error = failure.error
    if error is None:
        error = JobCancelled(failure.text) if failure.type_name == "JobCancelled" else RuntimeError(failure.text)
    error.said = failure.message  # type: ignore[attr-defined]
    return error


class WorkerTransport(QObject):
    """A window's way to the worker: its jobs run in its own session (JobHost) there.

    The same face as the in-process `MLThread`: `submit`, `busy`, `busy_changed`, `shutdown`.
    """

    busy_changed = Signal(bool)

    def __init__(self, worker: WorkerProcess, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.session = worker.open_session()
        self._pending = 0
        self._closed = False

    def submit(self, call: JobCall, *, on_result=None, on_error=None, on_event=None, on_finished=None,
               name: str = "") -> Job:
        """Queue ``call`` to run in the worker after earlier jobs."""
        job = Job(call, on_result, on_error, on_event, self._wrap_finished(on_finished), name or call.name)
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        self.worker.submit(self.session, job)
        return job

    def _wrap_finished(self, on_finished: Callable[[], None] | None) -> Callable[[], None]:
        def finished() -> None:
            self._pending -= 1
            if self._pending == 0 and not self._closed:
                self.busy_changed.emit(False)
            if on_finished is not None:
                on_finished()

        return finished

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Let this window's queued jobs finish (cancel them first if needed), then end its session."""
        self._closed = True
        return self.worker.end_session(self.session, timeout_ms)


_shared: WorkerProcess | None = None


def shared_worker() -> WorkerProcess:
    """The program's one worker, made on first use (started when the first job or window needs it)."""
    global _shared
    if _shared is None or _shared.state == STOPPED:
        _shared = WorkerProcess(warm=True)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(_shared.stop)
        atexit.register(_shared.stop)
    return _shared


def use_shared_worker(worker: WorkerProcess | None) -> None:
    """Make `worker` the one new windows attach to (None: make a fresh one when next asked)."""
    global _shared
    _shared = worker

