"""Uncaught exceptions in the window: log them, keep the user's work, explain, carry on.

An exception that escapes a slot would otherwise only reach the terminal (or abort
Qt). Here it is written to a log file in the user's data folder, the recovery copy
of the project is refreshed, and a dialog says what happened with a "Copy details"
button. The program keeps running: Qt's event loop survives a failed slot.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cnnstudio.crashlog import write_crash_log


class CrashHandler(QObject):
    """Installed as ``sys.excepthook`` (and ``threading.excepthook``) while the window is open."""

    _show = Signal(str, str)  # summary, details — queued to the GUI thread

    def __init__(self, window: QWidget, keep_work: Callable[[], object] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.keep_work = keep_work
        self.last_log: Path | None = None
        self._handling = False
        self._previous = (sys.excepthook, threading.excepthook)
        self._show.connect(self._show_dialog)

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        if self._handling:  # a fault while reporting a fault: the log is all we can do
            write_crash_log(exc_type, exc, tb)
            return
        self._handling = True
        try:
            self.last_log = write_crash_log(exc_type, exc, tb)
            if self.keep_work is not None:
                try:
                    self.keep_work()
                except Exception:  # keeping the copy must never hide the original fault
                    pass
            details = "".join(traceback.format_exception(exc_type, exc, tb))
            summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
            self._show.emit(summary, details)
        finally:
            self._handling = False

    @Slot(str, str)
    def _show_dialog(self, summary: str, details: str) -> None:
        box = QMessageBox(self.window)
        box.setObjectName("crashDialog")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("CNN Studio hit a problem")
        box.setText("Something went wrong inside CNN Studio. Your project is kept in a recovery copy, "
                    "and you can go on working.")
        box.setInformativeText(f"{summary}\n\nThe details were written to:\n{self.last_log}")
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Ok)
        copy.clicked.disconnect()  # keep the box open after copying
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(f"{details}\nLog: {self.last_log}"))
        box.open()
        self.dialog = box
