"""Preferences' Keras backend: the chooser (TensorFlow, JAX, PyTorch) and the devices each one sees.

A backend that is not installed is shown, disabled, with the command that installs it.
Each installed backend is asked which devices it sees in a short-lived process of its own
(``python -m cnnstudio.ml.devices NAME``), so the window never imports any of them; the
answers are kept for the rest of the program's run. The choice itself is stored where
``cnnstudio train`` reads it too (`core.user_settings`).
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QObject, QProcess, QTimer, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QMessageBox, QWidget

from cnnstudio.ml.backend import BACKENDS, DEFAULT, install_hint, installed
from cnnstudio.ml.jobs.results import Device

NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
PROBE_TIMEOUT_MS = 180_000


class BackendBox(QComboBox):
    """The backends by name; those not installed are disabled and say how to install them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backendBox")
        model = self.model()
        for name in BACKENDS:
            here = installed(name)
            self.addItem(NAMES[name] if here else f"{NAMES[name]} (not installed: {install_hint(name)})", name)
            if not here and isinstance(model, QStandardItemModel):
                model.item(self.count() - 1).setEnabled(False)
        self.setToolTip("The Keras backend training and inspection run on. Changing it restarts the process that "
                        "runs them (after the job going on, or at once if you say so).")

    def value(self) -> str:
        return str(self.currentData())

    def set_value(self, name: str) -> None:
        index = self.findData(name if installed(name) else DEFAULT)
        self.setCurrentIndex(max(0, index))


class DeviceProbe(QObject):
    """Asks each backend which devices it sees, each in a process of its own; `answered(backend, text)`."""

    answered = Signal(str, str)
    _known: dict[str, str] = {}  # backend -> its answer, for the rest of the program's run

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[str, QProcess] = {}

    def ask(self, backend: str) -> None:
        if backend in self._known:
            QTimer.singleShot(0, lambda: self.answered.emit(backend, self._known[backend]))
            return
        if not installed(backend):
            self.answered.emit(backend, f"not installed ({install_hint(backend)})")
            return
        process = QProcess(self)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "cnnstudio.ml.devices", backend])
        process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        process.finished.connect(lambda *_: self._finished(backend, process))
        process.errorOccurred.connect(lambda _error: self._failed(backend, process))
        self._running[backend] = process
        QTimer.singleShot(PROBE_TIMEOUT_MS, process.kill)
        process.start()

    def _finished(self, backend: str, process: QProcess) -> None:
        if self._running.pop(backend, None) is None:
            return
        text = _describe(bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace"))
        if text is None:
            text = "could not tell (the probe gave no answer)"
        else:
            self._known[backend] = text
        self.answered.emit(backend, text)
        process.deleteLater()

    def _failed(self, backend: str, process: QProcess) -> None:
        if process.error() == QProcess.ProcessError.FailedToStart and self._running.pop(backend, None) is not None:
            self.answered.emit(backend, f"could not be asked ({process.errorString()})")
            process.deleteLater()

    def stop(self) -> None:
        """End the probes still running (their answers are not needed any more)."""
        running, self._running = self._running, {}
        for process in running.values():
            process.kill()
            process.waitForFinished(2000)
            process.deleteLater()


def _describe(output: str) -> str | None:
    """The probe's JSON line in words: "CPU", "CPU, GPU: NVIDIA H200 (140 GB)", or what went wrong."""
    for line in reversed(output.strip().splitlines()):
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if answer.get("error"):
            return f"cannot be used: {answer['error']}"
        found = [Device(d.get("kind", "?"), d.get("name") or "", d.get("memory")) for d in answer.get("devices", [])]
        return ", ".join(d.describe() for d in found) or "no devices"
    return None


def environment_override() -> str | None:
    """The backend KERAS_BACKEND names in the environment (it wins when CNN Studio starts), if any."""
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    return chosen if chosen in BACKENDS else None


def ask_switch_now(parent: QWidget, backend: str) -> bool:
    """A job is running: switch at once (stopping it; a training run keeps what it trained) — True —
    or when it is done."""
    box = QMessageBox(QMessageBox.Icon.Question, "A job is running",
                      f"Training or another job is running. Switch to {NAMES.get(backend, backend)} now?",
                      parent=parent)
    box.setInformativeText("Switching now stops it (a training run keeps the weights trained so far). "
                           "Otherwise the switch happens when it is done.")
    now = box.addButton("Stop It and Switch Now", QMessageBox.ButtonRole.AcceptRole)
    later = box.addButton("Switch When Done", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(later)
    box.exec()
    return box.clickedButton() is now
