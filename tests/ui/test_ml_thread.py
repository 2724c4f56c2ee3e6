"""The ML thread runs jobs in order off the GUI thread and reports back on the GUI thread."""

import threading

import pytest

from cnnstudio.ml.jobs.protocol import JobCall
from cnnstudio.ui.ml_thread import MLThread

from .jobs_for_tests import Broken, CountUntilCancelled, Echo


@pytest.fixture
def ml(qapp):
    thread = MLThread()
    yield thread
    assert thread.shutdown()


def test_jobs_run_in_order_on_one_other_thread(ml, qtbot):
    seen = []
    gui = threading.get_ident()
    results = []
    for value in range(3):
        ml.submit(JobCall(Echo(value)), on_result=results.append,
                  on_event=lambda kind, v: seen.append((kind, v, threading.get_ident())))
    qtbot.waitUntil(lambda: len(results) == 3, timeout=60000)
    assert [r[0] for r in results] == [0, 1, 2]
    assert len({r[1] for r in results}) == 1 and results[0][1] != gui
    assert [(kind, v) for kind, v, _ in seen] == [("progress", 0), ("progress", 1), ("progress", 2)]
    assert all(ident == gui for _, _, ident in seen)
    qtbot.waitUntil(lambda: not ml.busy, timeout=2000)


def test_errors_come_back_with_their_traceback(ml, qtbot):
    errors = []
    ml.submit(JobCall(Broken("bad value")), on_error=lambda exc, tb: errors.append((exc, tb)))
    qtbot.waitUntil(lambda: bool(errors), timeout=60000)
    assert isinstance(errors[0][0], ValueError) and "bad value" in errors[0][1]


def test_cancel_is_seen_by_a_running_job(ml, qtbot):
    results, events = [], []
    job = ml.submit(JobCall(CountUntilCancelled()), on_result=results.append,
                    on_event=lambda kind, _payload: events.append(kind))
    qtbot.waitUntil(lambda: events == ["started"], timeout=60000)
    job.cancel()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0] < 10_000


def test_a_result_handler_that_fails_still_ends_its_job(ml, qtbot):
    def broken_handler(value):
        raise RuntimeError("the view could not show it")

    with qtbot.captureExceptions() as exceptions:
        ml.submit(JobCall(Echo(42)), on_result=broken_handler)
        qtbot.waitUntil(lambda: bool(exceptions), timeout=60000)
    assert "could not show it" in str(exceptions[0][1])
    assert not ml.busy
