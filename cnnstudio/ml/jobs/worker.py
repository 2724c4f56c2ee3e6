"""The ML worker process: runs the window's jobs, one at a time, under the Keras backend it was started with.

The window starts it (spawn) with one end of a socket pair and talks to it in the messages
of `protocol` (Submit, Steer, EndSession, Warm, Quit in; Hello, Event, Result, Failure,
SessionEnded, Warmed out) over `wire.Channel`. A listening thread takes messages in at
once — so pause, resume and stop reach a running job between its batches — and queues
the work; the main thread runs it, each window's jobs in its own `JobHost`. TensorFlow,
Keras, JAX or PyTorch are imported here only, when a job (or Warm) needs them. When the
window goes away the worker stops its jobs (a training run saves what it has) and ends.
"""

from __future__ import annotations

import os
import pickle
import queue
import sys
import threading
import time
import traceback
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.crashlog import internal_error_message

from ..training.reporting import RunControl
from .protocol import (
    PAUSE,
    RESUME,
    STOP,
    EndSession,
    Event,
    Failure,
    Hello,
    JobCancelled,
    Quit,
    Result,
    SessionEnded,
    Steer,
    Submit,
    Warm,
    Warmed,
    WorkerJobError,
)
from .wire import Channel

WORKER_NICE = 5  # a little below normal: the window wins a core when it needs one, training gets the rest
# What must never travel to the window: unpickling it there would import these packages.
STAYS_HERE = frozenset({"tensorflow", "keras", "jax", "jaxlib", "torch", "tf_keras", "tf2onnx", "onnxruntime"})
# Exceptions that travel as themselves (the window can rebuild them without importing the ML side).
PLAIN_ERRORS = ("builtins", "cnnstudio.core.", "cnnstudio.ml.jobs.protocol")


def serve(sock: Any, backend: str, warm: bool) -> None:
    """The worker process's main function (the target the window spawns)."""
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's native start-up chatter
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICE)
        except OSError:
            pass
    worker = Worker(Channel(sock), backend)
    if warm:
        worker.work.put(Warm())
    worker.run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # every file is written and closed; skip the slow teardown of TensorFlow's threads


class Worker:
    """Takes messages in on a thread, runs the work on the main thread (see the module docstring)."""

    def __init__(self, channel: Channel, backend: str) -> None:
        self.channel = channel
        self.backend = backend
        self.work: queue.SimpleQueue = queue.SimpleQueue()  # Submit, EndSession, Warm, or None: end
        self.controls: dict[int, RunControl] = {}  # job id -> its control, from Submit until it ends
        self.sessions: dict[int, set[int]] = {}  # session -> its jobs not ended yet
        self.hosts: dict[int, Any] = {}  # session -> JobHost
        self._lock = threading.Lock()

    # -- the listening thread ---------------------------------------------------------------------
    def listen(self) -> None:
        while True:
            try:
                message = self.channel.receive()
            except (EOFError, OSError):  # the window is gone: stop, saving what can be saved
                self._stop_all()
                return
            if isinstance(message, Submit):
                with self._lock:
                    self.controls[message.job] = RunControl()
                    self.sessions.setdefault(message.session, set()).add(message.job)
                self.work.put(message)
            elif isinstance(message, Steer):
                self._steer(message)
            elif isinstance(message, Quit):
                self._stop_all()
                return
            else:
                if isinstance(message, EndSession):
                    self._end_session_if_idle(message.session)
                self.work.put(message)

    def _end_session_if_idle(self, session: int) -> None:
        """A window closing with no job of its own left is told so at once, not after the work queued
        before (another window's job, Keras warming up); its JobHost is dropped in turn."""
        with self._lock:
            idle = not self.sessions.get(session)
            if idle:
                self.sessions.pop(session, None)
        if idle:
            self._send(SessionEnded(session))

    def _steer(self, message: Steer) -> None:
        with self._lock:
            control = self.controls.get(message.job)
        if control is None:
            return  # ended meanwhile
        if message.action == PAUSE:
            control.pause()
        elif message.action == RESUME:
            control.resume()
        elif message.action == STOP:
            control.stop()

    def _stop_all(self) -> None:
        with self._lock:
            controls = list(self.controls.values())
        for control in controls:
            control.stop()
        self.work.put(None)

    # -- the main thread --------------------------------------------------------------------------
    def run(self) -> None:
        threading.Thread(target=self.listen, name="cnnstudio-worker-listen", daemon=True).start()
        if not self._send(Hello(os.getpid(), self.backend)):
            return
        while True:
            item = self.work.get()
            if item is None:
                break
            if isinstance(item, Submit):
                self._run_job(item)
            elif isinstance(item, EndSession):
                self.hosts.pop(item.session, None)
                with self._lock:
                    waited = self.sessions.pop(item.session, None) is not None
                if waited:  # else it was said at once (`_end_session_if_idle`)
                    self._send(SessionEnded(item.session))
            elif isinstance(item, Warm):
                self._warm()
        self.channel.close()

    def _run_job(self, item: Submit) -> None:
        with self._lock:
            control = self.controls[item.job]
        progress = _Progress(self, item.job, control)
        try:
            if control.stopping:
                raise JobCancelled("cancelled before it started")
            if getattr(item.call.request, "KERAS", True) and "keras" not in sys.modules:
                self._warm()  # quietly: TensorFlow's start-up chatter stays off the terminal
            host = self.hosts.get(item.session)
            if host is None:
                from .host import JobHost

                host = self.hosts[item.session] = JobHost()
            value = host.run(item.call, progress)
        except Exception as exc:  # every failure goes back to the window, in words
            self._send(failure(item.job, exc))
        else:
            self._send(Result(item.job, value), item.job)
        finally:
            with self._lock:
                self.controls.pop(item.job, None)
                jobs = self.sessions.get(item.session)
                if jobs is not None:
                    jobs.discard(item.job)

    def _warm(self) -> None:
        if "keras" in sys.modules:
            return
        started = time.monotonic()
        try:
            from ..quiet import quiet_keras

            quiet_keras()
        except Exception:  # a broken install shows up, in words, with the first job that needs Keras
            return
        self._send(Warmed(self.backend, time.monotonic() - started))

    def _send(self, message: Any, job: int | None = None) -> bool:
        """Send a message; a result that cannot travel becomes the job's failure. False: the window is gone."""
        try:
            self.channel.send(message, refuse=STAYS_HERE)
        except OSError:
            self._stop_all()
            return False
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            if job is None:
                raise
            self._send(failure(job, exc))
        return True


class _Progress:
    """A running job's `Progress`: events go to the window, its control is steered from there."""

    def __init__(self, worker: Worker, job: int, control: RunControl) -> None:
        self._worker = worker
        self.job = job
        self.control = control

    def event(self, kind: str, payload: Any = None) -> None:
        try:
            self._worker.channel.send(Event(self.job, kind, payload), refuse=STAYS_HERE)
        except OSError:  # the window is gone: end the job (a training run saves what it has)
            self.control.stop()

    @property
    def cancelled(self) -> bool:
        return self.control.stopping


def failure(job: int, exc: BaseException) -> Failure:
    """A Failure message for `exc`; a fault (not a UserError, not a cancellation) is logged here first."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, (UserError, JobCancelled)):
        message = str(exc)
    else:
        message = internal_error_message(exc)
    module = type(exc).__module__
    plain = module == PLAIN_ERRORS[0] or module.startswith(PLAIN_ERRORS[1]) or module == PLAIN_ERRORS[2]
    carried: BaseException | None = exc if plain else WorkerJobError(type(exc).__name__, str(exc))
    try:
        pickle.loads(pickle.dumps(carried, protocol=5))
    except Exception:
        carried = WorkerJobError(type(exc).__name__, str(exc))
    if carried is not None:
        carried.__traceback__ = None
        carried.__context__ = carried.__cause__ = None
    return Failure(job, carried, type(exc).__name__, str(exc), details, message)
