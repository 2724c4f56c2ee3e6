"""Shared test set-up.

Qt runs offscreen by default. The Qt fixtures load PySide6 only for tests that
use them, so core and ml tests never need Qt. Every Qt test fails if it leaves
a top-level window open or a QThread running (after napari's
``_dangling_qthreads``), and settings and recovery copies go to a temporary
folder, never to the user's own.

The windows of a test session share ONE ML worker process (`ml_worker`), as the
windows of one program do: each window has its own session (JobHost) there, and
the worker imports TensorFlow once, in the background, while the first tests run.
A test that fakes something on the ML side does it in that process (`in_worker`).
"""

from __future__ import annotations

import gc
import itertools
import os
import traceback

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Top-level widgets Qt keeps for itself between tests (the shared tooltip label).
QT_OWN_WINDOWS = {"QTipLabel"}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Set aside what collection imported (TensorFlow, Keras, Qt: millions of objects) from the garbage
    collector, so that each full collection (Keras's clear_session after every ML test) walks only what
    the tests made, not every module again."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _own_config_folder(tmp_path_factory: pytest.TempPathFactory):
    """The settings both the window and the command line read (the Keras backend) go to a temporary folder."""
    os.environ["CNNSTUDIO_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))


def _uses_qt(request: pytest.FixtureRequest) -> bool:
    return bool({"qtbot", "qapp", "main_window", "make_window"} & set(request.fixturenames))


@pytest.fixture(scope="session")
def qapp(tmp_path_factory: pytest.TempPathFactory):
    """The QApplication, with its settings and recovery copies in a temporary folder."""
    from PySide6.QtCore import QCoreApplication, QSettings
    from PySide6.QtWidgets import QApplication

    user = tmp_path_factory.mktemp("user")
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = str(user / "recovery")
    os.environ["CNNSTUDIO_RUNS_DIR"] = str(user / "runs")
    os.environ["CNNSTUDIO_LOG_DIR"] = str(user / "logs")
    QCoreApplication.setOrganizationName("CNN Studio Tests")
    QCoreApplication.setApplicationName("CNN Studio Tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(user / "settings"))
    app = QApplication.instance() or QApplication(["cnnstudio-tests"])
    yield app
    from cnnstudio.ui.editor.clipboard import hand_over_clipboard

    hand_over_clipboard()  # as the program does when it quits


@pytest.fixture(autouse=True)
def _no_dangling_qt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Fail a Qt test that leaks a top-level window or leaves a QThread or pool task running."""
    if not _uses_qt(request):
        yield
        return
    from PySide6.QtCore import QCoreApplication, QEvent, QThread, QThreadPool
    from PySide6.QtWidgets import QApplication

    request.getfixturevalue("qapp")
    existing = QApplication.topLevelWidgets()  # held: a new widget's wrapper cannot take an old id
    before = {id(w) for w in existing}
    started: list[tuple[QThread, str]] = []
    original_start = QThread.start

    def recording_start(self, *args, **kwargs):
        started.append((self, "".join(traceback.format_stack(limit=12)[:-1])))
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    problems = []
    for thread, where in started:
        try:
            running = thread.isRunning() and not thread.wait(1000)
        except RuntimeError:  # already deleted on the C++ side: not running
            running = False
        if running:
            problems.append(f"a QThread is still running; it was started at:\n{where}")
    if not QThreadPool.globalInstance().waitForDone(1000):
        problems.append("QThreadPool tasks are still running")
    leaked = [
        w
        for w in QApplication.topLevelWidgets()
        if id(w) not in before
        and type(w).__name__ not in QT_OWN_WINDOWS
        and (w.isVisible() or w.parent() is None)
    ]
    for widget in leaked:
        problems.append(
            f"the test left a top-level window open: {type(widget).__name__} "
            f"{widget.objectName()!r} {widget.windowTitle()!r}"
        )
        widget.close()
        widget.deleteLater()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def _error_dialog_log() -> dict:
    return {"shown": [], "expected": False}


@pytest.fixture
def error_dialogs(_error_dialog_log: dict) -> list[tuple[str, str]]:
    """For a test that expects the window to show error dialogs: their (title, text), in order.
    In any other window test, an error dialog fails the test."""
    _error_dialog_log["expected"] = True
    return _error_dialog_log["shown"]


@pytest.fixture(scope="session")
def ml_worker(qapp):
    """The session's one ML worker process, which every test window attaches to (TensorFlow is imported
    in it once, in the background)."""
    from cnnstudio.ui.ml_worker import WorkerProcess, use_shared_worker

    worker = WorkerProcess("tensorflow", warm=True)
    worker.start()
    use_shared_worker(worker)
    yield worker
    use_shared_worker(None)
    worker.stop()


_patches = itertools.count(1)


@pytest.fixture
def in_worker(qtbot, ml_worker):
    """Fake things on the ML side where the window's jobs run (the worker process), undone after the test:

        in_worker(attributes=[("cnnstudio.ml.export:predict_file", jobs_for_tests.zero_predictions)],
                  environ=[("KERAS_HOME", str(folder))], items=[("module:mapping", key, value)])
    """
    from cnnstudio.ml.jobs.protocol import JobCall
    from cnnstudio.ui.ml_worker import WorkerTransport
    from tests.ui.jobs_for_tests import Patch, Unpatch

    transport = WorkerTransport(ml_worker)
    tokens: list[str] = []

    def run(request) -> None:
        answers: list = []
        transport.submit(JobCall(request), on_result=answers.append, on_error=lambda exc, _details: answers.append(exc))
        qtbot.waitUntil(lambda: bool(answers), timeout=60_000)
        if isinstance(answers[0], BaseException):
            raise answers[0]

    def apply(attributes=(), environ=(), items=()) -> None:
        token = f"patch-{next(_patches)}"
        run(Patch(token, tuple(attributes), tuple(environ), tuple(items)))
        tokens.append(token)

    yield apply
    for token in reversed(tokens):
        run(Unpatch(token))
    transport.shutdown()


@pytest.fixture
def make_window(qtbot, monkeypatch: pytest.MonkeyPatch, _error_dialog_log: dict, ml_worker):
    """Open main windows (on a Project, default LeNet-5), attached to the session's ML worker (or the
    `worker` given); closed and deleted after the test.

    Closing never blocks on the save question: it answers 'discard' unless a test
    replaces ``cnnstudio.ui.dialogs.ask_save_changes``. Error dialogs are recorded instead
    of shown; one the test did not ask for (``error_dialogs``) fails it.
    """
    from PySide6.QtCore import QSettings

    from cnnstudio.ui import dialogs
    from cnnstudio.ui.main_window import MainWindow

    QSettings().clear()  # every test starts from a first-run layout
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: dialogs.DISCARD)
    shown = _error_dialog_log["shown"]
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: shown.append((title, text)))

    def make(project=None, worker=None):
        window = MainWindow(project, worker=worker)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    if shown and not _error_dialog_log["expected"]:
        pytest.fail("the window showed an error dialog the test did not expect: "
                    + "; ".join(f"{title}: {text}" for title, text in shown), pytrace=False)


@pytest.fixture
def main_window(make_window):
    """The main window on the default project (LeNet-5 on mnist-sample)."""
    return make_window()
