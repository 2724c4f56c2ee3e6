"""The Training dock: Train / Pause / Stop, progress of the epoch and the run, speed and time,
what is happening, and the settings of the next run."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.ml.jobs.requests import RunRequest
from cnnstudio.ml.training.reporting import BatchReport, EpochReport, TrainingResult

from ..context import AppContext
from ..theme import ERROR_COLOR
from .controller import IDLE, PAUSED, PREPARING, STOPPING, TRAINING, TrainingController
from .form import TrainingForm
from .progress import RunProgress, format_duration, format_rate

CLOCK_MS = 250  # progress, elapsed and remaining time: four updates a second are plenty to read
STATUS_EVERY = 2  # the status bar line changes every other tick


class TrainingPanel(QWidget):
    """Buttons, progress and settings; everything it does goes through the TrainingController."""

    def __init__(self, context: AppContext, controller: TrainingController) -> None:
        super().__init__(context.parent)
        self.setObjectName("trainingPanel")
        self.context = context
        self.controller = controller
        self.progress: RunProgress | None = None
        self._progress_changed = False
        self._ticks = 0
        style = self.style()
        self.train_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Train the network with these settings (F5)")
        self.pause_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setToolTip("Hold training after the current batch; Resume carries on")
        self.stop_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("End training after the current batch; the weights trained so far are kept")
        self.train_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(controller.stop)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)

        self.epoch_bar = QProgressBar()
        self.epoch_bar.setObjectName("epochProgress")
        self.epoch_bar.setFormat("epoch –")
        self.run_bar = QProgressBar()
        self.run_bar.setObjectName("runProgress")
        self.run_bar.setFormat("run –")
        for bar in (self.epoch_bar, self.run_bar):
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setTextVisible(True)
        self.speed_label = QLabel("– images/s")
        self.speed_label.setObjectName("speedLabel")
        self.speed_label.setToolTip("Training images processed per second (pauses left out)")
        self.elapsed_label = QLabel("–")
        self.elapsed_label.setObjectName("elapsedLabel")
        self.remaining_label = QLabel("–")
        self.remaining_label.setObjectName("remainingLabel")
        self.remaining_label.setToolTip("Projected from the pace so far, validation included")
        figures = QFormLayout()
        figures.addRow("Epoch", self.epoch_bar)
        figures.addRow("Run", self.run_bar)
        figures.addRow("Speed", self.speed_label)
        figures.addRow("Elapsed", self.elapsed_label)
        figures.addRow("Remaining", self.remaining_label)

        self.status_label = QLabel("Ready to train.")
        self.status_label.setObjectName("trainingStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("trainingProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.problem_label.hide()

        self.form = TrainingForm(context.document)
        self.from_weights = QCheckBox()
        self.from_weights.setObjectName("startFromWeights")
        self.from_weights.setAccessibleName("Start from the trained weights of this run")
        self.from_weights.setToolTip("Begin with the trained weights of that run (layers whose names and shapes "
                                     "match) instead of random ones: fine-tuning")
        self.locked_note = QLabel("The settings apply to the next run; they cannot change while training runs.")
        self.locked_note.setWordWrap(True)
        self.locked_note.hide()
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Settings")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        settings_layout.addWidget(heading)
        settings_layout.addWidget(self.locked_note)
        settings_layout.addWidget(self.form)
        settings_layout.addWidget(self.from_weights)
        settings_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(settings)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(figures)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(scroll, 1)

        self.clock = QTimer(self, interval=CLOCK_MS)
        self.clock.timeout.connect(self._tick)
        controller.stateChanged.connect(self._on_state)
        controller.runStarting.connect(self._on_run_starting)
        controller.batch.connect(self._on_batch)
        controller.epoch.connect(self._on_epoch)
        controller.status.connect(self._set_status)
        controller.message.connect(self._on_message)
        controller.failed.connect(self._show_problem)
        controller.resultReady.connect(self._on_result)
        controller.queueChanged.connect(lambda _n: self._on_state(controller.state))
        context.model_source.changed.connect(lambda _run: self._update_from_weights())
        self._update_from_weights()
        self._on_state(controller.state)

    # ------------------------------------------------------------------ actions
    def start(self) -> bool:
        source = self.context.model_source.run_dir
        weights = source if source is not None and self.from_weights.isChecked() else None
        self.problem_label.hide()
        return self.controller.start(initial_weights=weights)

    def toggle_pause(self) -> None:
        if self.controller.is_paused:
            self.controller.resume()
        else:
            self.controller.pause()

    # ------------------------------------------------------------------ controller -> view
    def _on_state(self, state: str) -> None:
        running = state != IDLE
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(state in (PREPARING, TRAINING, PAUSED))
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        icon = QStyle.StandardPixmap.SP_MediaPlay if state == PAUSED else QStyle.StandardPixmap.SP_MediaPause
        self.pause_button.setIcon(self.style().standardIcon(icon))
        self.stop_button.setEnabled(state in (PREPARING, TRAINING, PAUSED))
        self.form.setEnabled(not running)
        self.from_weights.setEnabled(not running)
        self.locked_note.setVisible(running)
        progress, now = self.progress, time.monotonic()
        if progress is not None:
            if state == PAUSED:
                progress.pause(now)
            else:
                progress.resume(now)
        if state == PAUSED:
            self._set_status("Paused — press Resume to carry on, or Stop to end the run and keep its weights")
        if running:
            self.clock.start()
        else:
            self.clock.stop()
            self._tick()

    def _on_run_starting(self, request: RunRequest) -> None:
        settings_epochs = request.project.training.get("epochs", 1)
        self.progress = RunProgress(int(settings_epochs) if isinstance(settings_epochs, int) else 1,
                                    time.monotonic())
        self.problem_label.hide()
        for bar, what in ((self.epoch_bar, "epoch"), (self.run_bar, "run")):
            bar.setValue(0)
            bar.setFormat(f"{what} –")
        self.speed_label.setText("– images/s")
        self._tick()

    def _on_batch(self, report: BatchReport) -> None:
        if self.progress is None:
            return
        self.progress.batch_report(report.epoch, report.epochs, report.batch, report.batches,
                                   report.images_per_second, time.monotonic())
        self._progress_changed = True  # shown at the next tick: a progress bar repaints at once when set

    def _on_epoch(self, report: EpochReport) -> None:
        if self.progress is None:
            return
        self.progress.epoch_report(report.epoch, report.epochs, report.images_per_second)
        self._show_progress()

    def _show_progress(self) -> None:
        p = self.progress
        self.epoch_bar.setValue(round(p.epoch_fraction * 1000))
        batches = f" — batch {p.batch} of {p.batches}" if p.batches else f" — batch {p.batch}"
        self.epoch_bar.setFormat(f"epoch {p.epoch} of {p.epochs}{batches}")
        self.run_bar.setValue(round(p.run_fraction * 1000))
        self.run_bar.setFormat(f"{p.run_fraction:.0%}")
        self.speed_label.setText(format_rate(p.images_per_second))

    def _tick(self) -> None:
        p, now = self.progress, time.monotonic()
        if p is None:
            return
        if self._progress_changed:
            self._progress_changed = False
            self._show_progress()
        self._ticks += 1
        if self._ticks % STATUS_EVERY and self.controller.is_running:
            return
        self.elapsed_label.setText(format_duration(p.active(now)))
        running = self.controller.state in (TRAINING, PREPARING)
        self.remaining_label.setText(format_duration(p.remaining(now)) if running else "–")
        if self.controller.state == TRAINING:
            self.context.messages.status(self._status_line())

    def _status_line(self) -> str:
        p = self.progress
        request = self.controller.request
        name = request.project.name if request is not None else "the network"
        queued = self.controller.queued
        waiting = f" · {queued} more run{'s' * (queued != 1)} waiting" if queued else ""
        return (f"Training {name}: epoch {p.epoch} of {p.epochs}, batch {p.batch}"
                f"{f' of {p.batches}' if p.batches else ''} · {format_rate(p.images_per_second)} · "
                f"{format_duration(p.remaining(time.monotonic()))} left{waiting}")

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)
        if self.controller.state != TRAINING:
            self.context.messages.status(text)

    def _on_message(self, text: str) -> None:
        if text == "paused":
            self._set_status("Paused — press Resume to carry on, or Stop to end the run and keep its weights")
        elif text == "resumed":
            self._set_status("Training again")

    def _show_problem(self, text: str) -> None:
        """The problem stays in the panel; the window's status bar and Messages already carry it."""
        self.problem_label.setText(text)
        self.problem_label.show()
        self.status_label.setText("Not training.")

    def _on_result(self, result: TrainingResult) -> None:
        if self.progress is not None and self.controller.state != STOPPING and result.stopped_reason == "finished":
            self.run_bar.setValue(1000)
            self.run_bar.setFormat("100%")
        if result.stopped_reason == "diverged":
            self._show_problem(result.message[:1].upper() + result.message[1:])
            return
        test = f"; test accuracy {result.test_accuracy:.1%}" if result.test_accuracy is not None else ""
        ends = {"finished": "Finished", "stopped": "Stopped", "early_stopping": "Stopped early"}
        self._set_status(f"{ends.get(result.stopped_reason, 'Ended')} after {result.epochs} epoch(s) "
                         f"in {format_duration(result.seconds)}{test}. The inspection views now show this run's "
                         "model.")

    def _update_from_weights(self) -> None:
        run = self.context.model_source.run_dir
        self.from_weights.setVisible(run is not None)
        if run is None:
            self.from_weights.setChecked(False)
        else:
            self.from_weights.setText(f"Start from the weights of {run.name}")
