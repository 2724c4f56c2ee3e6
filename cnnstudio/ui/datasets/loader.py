"""Loading a dataset's preview (the job `cnnstudio.ml.jobs.datasets.preview`), with download progress and Cancel.

Only the latest request counts: answers to older ones are dropped, and a newer request
(or Cancel) stops a download still going on at its next chunk.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget
from shiboken6 import isValid

from cnnstudio.core.project import Project
from cnnstudio.ml.jobs.requests import PreviewRequest

from ..jobs import Job
from ..ml_client import MLClient

BUSY_AFTER_MS = 300  # loads quicker than this never flash a progress bar


class PreviewLoader(QObject):
    """``loaded(preview)``, ``failed(message)``, ``downloading(fraction)`` for the latest request only."""

    loaded = Signal(object)
    failed = Signal(str)
    downloading = Signal(float)

    def __init__(self, ml: MLClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ml = ml
        self._request = 0
        self._job: Job | None = None

    @property
    def loading(self) -> bool:
        return self._job is not None

    def load(self, project: Project, count: int, seed: int) -> None:
        """Ask for ``count`` training samples (drawn with ``seed``), counts and shapes of the project's dataset."""
        self._request += 1
        request = self._request
        self._job = self.ml.run(
            PreviewRequest(project, count, seed), key="dataset-preview",
            on_result=lambda preview: self._answer(request, self.loaded, preview),
            on_error=lambda message: self._answer(request, self.failed, message),
            on_event=lambda kind, value: self._event(request, kind, value))

    def cancel(self) -> None:
        """Drop the request; a download in progress stops at its next chunk."""
        if self._job is not None:
            self._job.cancel()
        self._job = None
        self._request += 1

    def _answer(self, request: int, signal: Signal, value: Any) -> None:
        if not isValid(self):
            return  # the panel was closed while the worker read the data
        if request == self._request:
            self._job = None
            signal.emit(value)

    def _event(self, request: int, kind: str, value: Any) -> None:
        if isValid(self) and request == self._request and kind == "download":
            self.downloading.emit(float(value))


class LoadProgress(QWidget):
    """A progress bar (busy while loading, in percent while downloading) and a Cancel button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setObjectName("datasetProgress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("datasetCancel")
        self.cancel_button.setToolTip("Stop the download; what was downloaded so far is thrown away")
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self._reveal = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._reveal.timeout.connect(self.show)
        self.hide()

    def busy(self, text: str) -> None:
        """Loading: an endless bar, shown only if it takes a moment."""
        self.bar.setRange(0, 0)
        self.bar.setFormat(text)
        self.cancel_button.hide()
        self._reveal.start()

    def download(self, fraction: float, title: str) -> None:
        self._reveal.stop()
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(round(fraction * 1000)))
        self.bar.setFormat(f"Downloading {title}… %p%")
        self.cancel_button.show()
        self.show()

    def done(self) -> None:
        self._reveal.stop()
        self.hide()
