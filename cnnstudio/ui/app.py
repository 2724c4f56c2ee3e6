"""Starting the desktop program: ``cnnstudio [PROJECT]`` ends up in ``main``.

Only Qt and the pure core load here; TensorFlow is imported later, off the GUI
thread, by the panels that train or inspect. Qt itself is imported only once the
system check has found what it needs (a missing library would abort the import).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cnnstudio.core.errors import UserError

from .system_check import window_problem

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

APP_NAME = "CNN Studio"


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, named for QSettings, in the user's (or the system's) appearance."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    from . import preferences, settings, theme
    from .icons import app_icon

    preferences.apply_environment()

    from .editor.clipboard import hand_over_clipboard

    app.aboutToQuit.connect(hand_over_clipboard)
    app.setWindowIcon(app_icon())
    if sys.platform.startswith("linux") and app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    theme.apply_appearance(settings.appearance())
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: theme.apply_appearance(settings.appearance()))
    return app  # type: ignore[return-value]


def load_start_project(argument: str | Path | None):
    """The project named on the command line (a file or a template name), or the default."""
    from cnnstudio.core.templates import default_project, resolve_project

    if argument is None:
        return default_project()
    return resolve_project(str(argument))


def main(project_path: str | Path | None = None) -> int:
    """Open the main window on ``project_path`` (or LeNet-5) and run until it closes."""
    problem = window_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    with _plain_words_if_qt_cannot_start():
        app = create_application()
    from PySide6.QtCore import QTimer

    from . import dialogs
    from .autosave import pending_recoveries
    from .main_window import MainWindow

    error = None
    try:
        project = load_start_project(project_path)
    except UserError as exc:
        project, error = load_start_project(None), str(exc)
    window = MainWindow(project)
    window.crash_handler.install()
    window.show()
    if error:
        window.show_message("error", error)
        QTimer.singleShot(0, lambda: dialogs.show_error(window, "Cannot open project", error))
    QTimer.singleShot(0, lambda: offer_recovery(window, pending_recoveries))
    worker = getattr(window.ml_transport, "worker", None)
    if worker is not None:  # once the window is up, in the background: the first job finds Keras loaded
        QTimer.singleShot(0, worker.start)
    QTimer.singleShot(0, settle_after_start)
    _quit_after_start_if_asked(app, window)
    return app.exec()


def settle_after_start() -> None:
    """Once the window is up: what starting made (modules, Qt wrappers, the window's widgets) is set out
    of the garbage collector's sight. Its full collections walked all of it on the GUI thread, about
    60 ms every so often, a visible stutter while training; now they look only at what came later."""
    gc.collect()
    gc.freeze()


@contextmanager
def _plain_words_if_qt_cannot_start():
    """While the QApplication is made: if Qt still cannot start its platform plugin (a case the
    system check did not foresee), say so in one line and exit with status 2 instead of aborting."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    said: list[str] = []

    def handler(kind, _context, message: str) -> None:
        if kind != QtMsgType.QtFatalMsg:
            said.append(message)
            print(message, file=sys.stderr)
            return
        reason = next((m for m in reversed(said) if "plugin" in m), message.splitlines()[0])
        print(
            f"error: CNN Studio cannot open its window: Qt could not start its display plugin ({reason.strip()}); "
            "on Linux, install the system libraries the README's Install section lists",
            file=sys.stderr,
        )
        sys.stderr.flush()
        os._exit(2)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def _quit_after_start_if_asked(app: QApplication, window) -> None:
    """CNNSTUDIO_QUIT_AFTER_MS=N: report the start-up time, then close after N ms (launch checks)."""
    delay = os.environ.get("CNNSTUDIO_QUIT_AFTER_MS")
    if not delay:
        return
    from PySide6.QtCore import QTimer

    def report_and_close() -> None:
        started = float(os.environ.get("CNNSTUDIO_LAUNCHED_AT", "0") or 0)
        if started:
            print(f"window shown {time.time() - started:.2f} s after launch: {window.windowTitle()}", file=sys.stderr)
        window.close()
        app.quit()

    QTimer.singleShot(int(delay), report_and_close)


def offer_recovery(window, find) -> None:
    """After a crash, offer the newest recovery copy; either way, old copies are cleared."""
    from . import dialogs

    recoveries = find()
    if not recoveries:
        return
    newest = recoveries[0]
    if dialogs.ask_recover(window, newest) and window.confirm_discard():
        try:
            project = newest.load()
        except UserError as exc:
            window.show_message("error", f"The recovery copy cannot be read: {exc}")
        else:
            window.show_project(project)
            window.document.mark_modified()
            window.show_message("info", f"Recovered unsaved work on {newest.name}")
    for recovery in recoveries:
        recovery.discard()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
