"""Run / Cancel buttons with a progress bar and a one-line status, for a long job on the ML thread."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

from ..jobs import Job


class JobBar(QWidget):
    """``run_button`` starts the work (the page connects it); ``cancel_button`` cancels the job given
    to `started`; the bar shows (done, total) progress and the label says what happened."""

    def __init__(self, run_text: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_button = QPushButton(run_text)
        self.run_button.setObjectName(f"{name}Button")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName(f"{name}CancelButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName(f"{name}Progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFixedWidth(180)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName(f"{name}Status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.run_button)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status, 1)
        self.job: Job | None = None

    @property
    def running(self) -> bool:
        return self.job is not None

    def started(self, job: Job, text: str) -> None:
        self.job = job
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.show()
        self.status.setText(text)

    def set_stage(self, text: str) -> None:
        if self.running:
            self.status.setText(text[:1].upper() + text[1:] + "…")

    def set_progress(self, done: int, total: int, unit: str = "") -> None:
        if not self.running:
            return
        self.progress.setValue(int(1000 * done / max(total, 1)))
        self.progress.setFormat(f"{done:,} / {total:,} {unit}".strip())

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def finished(self, text: str) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.hide()
        self.status.setText(text)
