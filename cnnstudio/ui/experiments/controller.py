"""The experiment controller: create experiments, train their runs one after another, pause, stop, resume.

    folder = experiments.create(project, spec)             # checked, written, nothing trained yet
    experiments.start(folder, Budget(runs=4))              # queued after an experiment already going
    experiments.stop()                                     # the run in progress ends now (trained again on resume)
    experiments.sessionEnded.connect(lambda folder, text: ...)

Each run is one ML job (`ExperimentRunRequest`, driving `ExperimentRunner`): between two runs
the window's other jobs (feature maps, evaluation, a training run) get their turn. The
experiment trains copies of the project, so the network stays editable meanwhile. Budgets
count for one session (from Start or Resume to the end).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_spec import ExperimentSpec
from cnnstudio.core.experiments import Experiment, default_experiment_dir, is_experiment_dir
from cnnstudio.core.project import Project
from cnnstudio.ml.experiment_checks import check_spec
from cnnstudio.ml.jobs.requests import ExperimentRunRequest
from cnnstudio.ml.jobs.results import ExperimentRunStarted, ExperimentStep

from ..context import AppContext
from ..controller_base import WorkController
from ..jobs import Job

IDLE, RUNNING, PAUSED, STOPPING = "idle", "running", "paused", "stopping"


@dataclass(frozen=True)
class Budget:
    """How much one session trains: at most `runs` runs, for at most `minutes` minutes (None: no limit)."""

    runs: int | None = None
    minutes: float | None = None

    def words(self) -> str:
        parts = []
        if self.runs is not None:
            parts.append(f"{self.runs} run{'s' * (self.runs != 1)}")
        if self.minutes is not None:
            parts.append(f"{self.minutes:g} minute{'s' * (self.minutes != 1)}")
        return " or ".join(parts)


@dataclass
class Session:
    """One go at an experiment: from Start or Resume until its runs, its budget or the user's patience end."""

    folder: Path
    budget: Budget
    started: float = 0.0
    trained: int = 0
    stop_after_run: bool = False

    def runs_left_in_budget(self) -> int | None:
        return None if self.budget.runs is None else self.budget.runs - self.trained

    def minutes_left(self) -> float | None:
        if self.budget.minutes is None:
            return None
        return self.budget.minutes - (time.monotonic() - self.started) / 60.0


def experiment_folders(runs_folder: Path) -> list[Path]:
    """The experiments in a runs folder, newest first."""
    try:
        found = [p for p in Path(runs_folder).iterdir() if is_experiment_dir(p)]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name, reverse=True)


class ExperimentController(WorkController):
    """One experiment session at a time, others queued; signals carry which run trains and how it goes."""

    runStarted = Signal(object, object)  # folder, ExperimentRunStarted
    batch = Signal(object, int, object)  # folder, run index, BatchReport
    epoch = Signal(object, int, object)  # folder, run index, EpochReport
    runEnded = Signal(object, object)  # folder, PlannedRun (its status and figures)
    sessionEnded = Signal(object, str)  # folder, how the session ended, in words
    changed = Signal(object)  # folder: created, runs added, a run trained (lists and views re-read it)
    status = Signal(str)  # what is happening

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)  # states: IDLE, RUNNING, PAUSED, STOPPING
        self.session: Session | None = None
        self.evaluate_test = True  # the held-out test split, evaluated at the end of every run
        self._queue: deque[Session] = deque()
        self._job: Job | None = None
        self._closing = False

    # ------------------------------------------------------------------ defining
    def create(self, project: Project, spec: ExperimentSpec, folder: Path | None = None) -> Path:
        """Check `spec` on `project` and write the experiment folder (nothing trained yet); UserError if it cannot."""
        project = project.copy()
        check_spec(project, spec)
        if folder is None:
            stem = project.path.stem if project.path else None
            folder = default_experiment_dir(project, stem, runs_folder=self.context.runs.folder)
        experiment = Experiment.create(folder, project, spec)
        settings = len(spec.settings())
        self._say("info", f"Experiment {folder.name}: {settings} setting{'s' * (settings != 1)} × {spec.seeds} "
                          f"seed{'s' * (spec.seeds != 1)} = {len(experiment.runs)} runs planned in {folder}")
        self.changed.emit(folder)
        return folder

    def extend(self, folder: Path, more: ExperimentSpec) -> int:
        """Plan more runs in an experiment (new values, settings or seeds); how many; UserError if they cannot train."""
        experiment = Experiment.open(folder)
        if more.vary or more.combinations:
            check_spec(experiment.base, more)
        added = experiment.extend(more)
        self._say("info", f"{len(added)} run{'s' * (len(added) != 1)} added to experiment {Path(folder).name} "
                          f"({len(experiment.to_train())} to train)")
        self.changed.emit(Path(folder))
        return len(added)

    # ------------------------------------------------------------------ running
    @property
    def is_running(self) -> bool:
        return self.state != IDLE

    @property
    def folder(self) -> Path | None:
        """The experiment training now."""
        return None if self.session is None else self.session.folder

    def is_queued(self, folder: Path) -> bool:
        return any(s.folder == Path(folder) for s in self._queue)

    def start(self, folder: Path, budget: Budget | None = None) -> bool:
        """Train the runs of the experiment in `folder` still to train (queued after a session going on)."""
        folder = Path(folder)
        if self.folder == folder or self.is_queued(folder):
            self._say("info", f"Experiment {folder.name} is already {'training' if self.folder == folder else 'queued'}")
            return False
        try:
            left = len(Experiment.open(folder).to_train())
        except UserError as exc:
            self._fail(str(exc))
            return False
        if left == 0:
            self._say("info", f"Every run of experiment {folder.name} is trained; add runs to train more")
            return False
        session = Session(folder, budget or Budget())
        if self.session is not None:
            self._queue.append(session)
            self._say("info", f"Experiment {folder.name} will start when {self.session.folder.name} ends")
            return True
        self._begin(session)
        return True

    def pause(self) -> None:
        """Hold the run in progress after its current batch."""
        if self.state == RUNNING and self._job is not None:
            self._job.pause()
            self._set_state(PAUSED)
            self.status.emit("Experiment paused")

    def resume(self) -> None:
        if self.state == PAUSED and self._job is not None:
            self._job.resume()
            self._set_state(RUNNING)

    def stop(self, *, after_run: bool = False) -> None:
        """End the session: now (the run in progress keeps its record, marked stopped, and is trained again on
        resume) or, with `after_run`, once the run in progress has finished. Queued experiments are dropped."""
        session = self.session
        if session is None:
            return
        dropped = len(self._queue)
        self._queue.clear()
        if after_run:
            session.stop_after_run = True
            if self.state == PAUSED and self._job is not None:
                self._job.resume()
                self._set_state(RUNNING)
            self.status.emit("The experiment stops when this run has finished")
            return
        session.stop_after_run = True
        if self._job is not None:
            self._job.cancel()
        self._set_state(STOPPING)
        more = f"; {dropped} queued experiment{'s' * (dropped != 1)} dropped" if dropped else ""
        self.status.emit(f"Stopping the experiment after this batch{more}")

    def close_guard(self) -> bool:
        """Before the window closes: ask, stop, and close once the run in progress has saved its record."""
        if not self.is_running:
            return True
        if self._closing:
            self.context.messages.status("Still stopping the experiment — the window closes when it has saved")
            return False
        box = QMessageBox(QMessageBox.Icon.Question, "An experiment is training",
                          "An experiment is training. Stop it and close?", parent=self.context.parent)
        box.setInformativeText("Finished runs are kept; the run in progress is trained again when you resume "
                               "the experiment.")
        stop = box.addButton("Stop and close", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(stop)
        box.exec()
        if box.clickedButton() is not stop:
            return False
        self._closing = True
        self.stop()
        return False

    # ------------------------------------------------------------------ one run after another
    def _begin(self, session: Session) -> None:
        self.session = session
        session.started = time.monotonic()
        self._set_state(RUNNING)
        budget = f" (budget: {session.budget.words()})" if session.budget.words() else ""
        self._say("info", f"Experiment {session.folder.name} is training{budget}")
        self._next_run()

    def _next_run(self) -> None:
        session = self.session
        if session is None:
            return
        runs_left, minutes_left = session.runs_left_in_budget(), session.minutes_left()
        if runs_left is not None and runs_left <= 0:
            self._end(f"the budget of {session.budget.runs} run{'s' * (session.budget.runs != 1)} is spent")
            return
        if minutes_left is not None and minutes_left <= 0:
            self._end(f"the budget of {session.budget.minutes:g} minutes is spent")
            return
        request = ExperimentRunRequest(session.folder, 1, minutes_left, self.evaluate_test)
        self._job = self.context.ml.run(request, on_result=self._on_step, on_error=self._on_error,
                                        on_event=self._on_event, on_cancelled=lambda: self._end("stopped by request"))
        if self.state == PAUSED:
            self._job.pause()

    def _on_event(self, kind: str, payload: Any) -> None:
        folder = self.folder
        if folder is None:
            return
        if kind == "run_started":
            started: ExperimentRunStarted = payload
            run = started.run
            self.status.emit(f"Experiment {folder.name}: run {run.index} of {started.total} — {run.label}, "
                             f"seed {run.seed}")
            self.runStarted.emit(folder, started)
        elif kind == "batch":
            self.batch.emit(folder, *payload)
        elif kind == "epoch":
            self.epoch.emit(folder, *payload)
        elif kind == "run_ended":
            self.runEnded.emit(folder, payload)
            self.changed.emit(folder)
        elif kind == "loading":
            self.status.emit(f"Loading the dataset… {float(payload):.0%}")
        elif kind == "message" and str(payload).startswith("warning:"):
            self._say("warning", f"Experiment {folder.name}: {str(payload).removeprefix('warning:').strip()}")

    def _on_step(self, step: ExperimentStep) -> None:
        self._job = None
        session = self.session
        if session is None:
            return
        session.trained += len(step.trained)
        if step.stopped or self.state == STOPPING:
            self._end("stopped by request", step.left)
        elif step.time_spent:
            self._end(f"the budget of {session.budget.minutes:g} minutes is spent", step.left)
        elif step.left == 0:
            self._end("every run is trained", 0)
        elif session.stop_after_run:
            self._end("stopped after the run in progress, as asked", step.left)
        else:
            self._next_run()

    def _on_error(self, text: str) -> None:
        self._job = None
        folder = self.folder
        self._fail(f"Experiment {folder.name if folder else ''} stopped: {text}")
        self._end("a run could not train")

    def _end(self, why: str, left: int | None = None) -> None:
        session, self.session, self._job = self.session, None, None
        if session is None:
            return
        if left is None:
            try:
                left = len(Experiment.open(session.folder).to_train())
            except UserError:
                left = 0
        text = f"{session.trained} run{'s' * (session.trained != 1)} trained; {why}"
        if left:
            text += f"; {left} to train (Resume goes on)"
        self._say("info", f"Experiment {session.folder.name}: {text}")
        self.status.emit(f"Experiment {session.folder.name}: {text}")
        self._set_state(IDLE)
        self.changed.emit(session.folder)
        self.sessionEnded.emit(session.folder, text)
        if self._closing:
            self._queue.clear()
            QTimer.singleShot(0, self.context.shell.close)
            return
        if self._queue:
            self._begin(self._queue.popleft())

