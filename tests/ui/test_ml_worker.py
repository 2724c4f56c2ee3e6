"""The ML worker process: jobs go there and answer on the GUI thread; pause, resume, stop and cancel reach a
running job; a worker killed mid-job is reported in words and replaced; the backend can be switched; large
arrays come back whole and writable; nothing that would load TensorFlow reaches the window."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from cnnstudio.core.templates import load_template
from cnnstudio.ml.jobs.protocol import JobCall, ModelChoice, WorkerLost
from cnnstudio.ml.jobs.requests import LoadModelRequest, PingRequest
from cnnstudio.ui.ml_worker import READY, WorkerProcess, WorkerTransport, why_it_ended

from .jobs_for_tests import Arrays, Broken, CountUntilCancelled, Echo, KerasLayer, NeedsModel, Steps, WhereAmI

WAIT = 120_000


@pytest.fixture
def transport(ml_worker):
    """A session of its own in the test session's worker."""
    transport = WorkerTransport(ml_worker)
    yield transport
    assert transport.shutdown()


@pytest.fixture
def own_worker(qapp):
    """A worker of its own (to kill or switch without disturbing the other tests' worker)."""
    worker = WorkerProcess("tensorflow", warm=False)
    yield worker
    worker.stop()


def answer(qtbot, transport, request, model=None, **callbacks):
    """Run `request` and wait for its result (or failure, returned)."""
    out: list = []
    transport.submit(JobCall(request, model), on_result=out.append,
                     on_error=lambda exc, details: out.append((exc, details)), **callbacks)
    qtbot.waitUntil(lambda: bool(out), timeout=WAIT)
    return out[0]


def test_jobs_run_in_order_in_the_worker_process_and_answer_on_the_gui_thread(transport, qtbot):
    results, events = [], []
    gui = threading.get_ident()
    for value in range(3):
        transport.submit(JobCall(Echo(value)), on_result=results.append,
                         on_event=lambda kind, v: events.append((kind, v, threading.get_ident())))
    qtbot.waitUntil(lambda: len(results) == 3, timeout=WAIT)
    assert [r[0] for r in results] == [0, 1, 2]
    assert {r[2] for r in results} == {transport.worker.pid} and transport.worker.pid != os.getpid()
    assert [(kind, v) for kind, v, _ in events] == [("progress", 0), ("progress", 1), ("progress", 2)]
    assert all(ident == gui for _, _, ident in events)
    qtbot.waitUntil(lambda: not transport.busy, timeout=2000)


def test_errors_come_back_as_themselves_with_the_workers_traceback_and_words(transport, qtbot):
    exc, details = answer(qtbot, transport, Broken("bad value"))
    assert isinstance(exc, ValueError) and str(exc) == "bad value"
    assert "bad value" in details and "jobs_for_tests.py" in details  # the worker's own traceback
    assert exc.said.startswith("something went wrong (ValueError: bad value); details were written to ")


def test_a_result_that_would_load_keras_in_the_window_is_refused_in_words(transport, qtbot):
    exc, _details = answer(qtbot, transport, KerasLayer())
    assert isinstance(exc, TypeError) and "cannot be sent to the window" in str(exc)


def test_each_window_has_its_own_model_in_the_worker(ml_worker, transport, qtbot):
    other = WorkerTransport(ml_worker)
    try:
        facts = answer(qtbot, transport, LoadModelRequest(), ModelChoice(load_template("lenet5")))
        assert facts.source == "untrained network"
        assert isinstance(answer(qtbot, transport, NeedsModel()), str)  # its model's name
        exc, _ = answer(qtbot, other, NeedsModel())
        assert "no model is loaded" in str(exc)
    finally:
        assert other.shutdown()


def test_cancel_reaches_a_running_job(transport, qtbot):
    results, events = [], []
    job = transport.submit(JobCall(CountUntilCancelled()), on_result=results.append,
                           on_event=lambda kind, _payload: events.append(kind))
    qtbot.waitUntil(lambda: events == ["started"], timeout=WAIT)
    job.cancel()
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)
    assert results[0] < 10_000


def test_pause_resume_and_stop_reach_a_running_job_between_its_steps(transport, qtbot):
    events, results = [], []
    job = transport.submit(JobCall(Steps(every=5)), on_result=results.append,
                           on_event=lambda kind, value: events.append((kind, value)))
    qtbot.waitUntil(lambda: any(kind == "step" for kind, _ in events), timeout=WAIT)
    job.pause()
    qtbot.waitUntil(lambda: any(kind == "paused" for kind, _ in events), timeout=WAIT)
    job.resume()
    qtbot.waitUntil(lambda: any(kind == "resumed" for kind, _ in events), timeout=WAIT)
    paused = next(value for kind, value in events if kind == "paused")
    resumed = next(value for kind, value in events if kind == "resumed")
    assert paused == resumed  # not a step while paused
    qtbot.waitUntil(lambda: events[-1][0] == "step" and events[-1][1] > resumed, timeout=WAIT)
    job.cancel()
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)
    assert results[0] >= events[-1][1] and not transport.busy


def test_a_job_stopped_while_paused_ends(transport, qtbot):
    events, results = [], []
    job = transport.submit(JobCall(Steps(every=5)), on_result=results.append,
                           on_event=lambda kind, value: events.append(kind))
    qtbot.waitUntil(lambda: "step" in events, timeout=WAIT)
    job.pause()
    qtbot.waitUntil(lambda: "paused" in events, timeout=WAIT)
    job.cancel()
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)


def test_large_arrays_come_back_whole_and_writable(transport, qtbot):
    arrays = answer(qtbot, transport, Arrays((16, 256, 256), 3))
    assert [a.shape for a in arrays] == [(16, 256, 256)] * 3
    assert all(float(a[5, 7, 9]) == i for i, a in enumerate(arrays))
    arrays[0][0, 0, 0] = 42.0  # the views may draw into them
    assert all(a.flags.writeable for a in arrays)


def test_a_worker_killed_mid_job_is_reported_in_words_and_replaced(own_worker, qtbot):
    transport = WorkerTransport(own_worker)
    events, errors = [], []
    transport.submit(JobCall(Steps(every=5)), on_event=lambda kind, value: events.append(kind),
                     on_error=lambda exc, _details: errors.append(exc))
    qtbot.waitUntil(lambda: "step" in events, timeout=WAIT)
    first = own_worker.pid
    with qtbot.waitSignal(own_worker.lost, timeout=WAIT) as lost, \
            qtbot.waitSignal(own_worker.started, timeout=WAIT) as started:
        os.kill(first, signal.SIGKILL)
    assert lost.args == ["killed by signal 9"]
    assert len(errors) == 1 and isinstance(errors[0], WorkerLost)
    assert str(errors[0]) == "the ML worker process stopped unexpectedly (killed by signal 9)"
    assert not transport.busy
    assert started.args[0] != first and own_worker.state == READY
    assert answer(qtbot, transport, Echo("again"))[0] == "again"  # the new worker answers
    assert transport.shutdown()


def test_the_worker_switches_backend_when_its_job_is_done(own_worker, qtbot):
    transport = WorkerTransport(own_worker)
    assert answer(qtbot, transport, WhereAmI())["backend"] == "tensorflow"
    events, results = [], []
    job = transport.submit(JobCall(Steps(every=5)), on_result=results.append,
                           on_event=lambda kind, value: events.append(kind))
    qtbot.waitUntil(lambda: "step" in events, timeout=WAIT)
    with qtbot.assertNotEmitted(own_worker.restarted, wait=0):
        own_worker.use_backend("jax")  # a job runs: the switch waits for it
    assert own_worker.backend == "tensorflow" and own_worker.switching_to == "jax"
    with qtbot.waitSignal(own_worker.restarted, timeout=WAIT) as restarted:
        job.cancel()
    assert restarted.args == ["jax"] and results  # the job ended normally first
    where = answer(qtbot, transport, WhereAmI())
    assert where["backend"] == "jax" and where["pid"] == own_worker.pid
    assert transport.shutdown()


def test_a_job_queued_before_the_worker_is_up_waits_for_it(own_worker, qtbot):
    transport = WorkerTransport(own_worker)
    assert own_worker.pid is None
    assert answer(qtbot, transport, PingRequest("first")) == "first"
    assert own_worker.pid is not None
    assert transport.shutdown()


@pytest.mark.parametrize(("exitcode", "words"), [(-9, "killed by signal 9"), (-11, "killed by signal 11"),
                                                 (1, "it exited with status 1"), (None, "it stopped answering")])
def test_how_a_worker_ended_is_said_in_words(exitcode, words):
    assert why_it_ended(exitcode) == words


def test_arrays_travel_out_of_band_without_a_copy_into_the_pickle():
    from cnnstudio.ml.jobs.wire import OUT_OF_BAND, channel_pair

    ours, theirs = channel_pair()
    big = np.arange(OUT_OF_BAND, dtype=np.float32)  # 4 x the threshold
    receiver = threading.Thread(target=lambda: received.append(theirs.receive()))
    received: list = []
    receiver.start()
    sent = ours.send({"maps": big, "label": "x"})
    receiver.join(10)
    assert np.array_equal(received[0]["maps"], big) and received[0]["label"] == "x"
    assert big.nbytes <= sent < big.nbytes + 1024  # the data once, plus a small pickle
    ours.close()
    theirs.close()
