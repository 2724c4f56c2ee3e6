"""Training an experiment's runs one after another in this process, each a normal run record.

    check_spec(project, spec)                       # every key and setting, before TensorFlow loads
    experiment = Experiment.create(folder, project, spec)
    runner = ExperimentRunner(experiment, callbacks=ExperimentCallbacks(on_run_ended=print),
                              budget=Budget(runs=10))
    outcome = runner.run()      # blocks; stop(), stop_after_current(), pause(), resume() from any thread

A caller with its own pause/resume/stop (the window's job) hands it in as `control`; a caller
that keeps loaded datasets (the window's workspace) hands in `datasets`.

TensorFlow is imported once for all runs (a run costs its training, not a start-up), and a
loaded dataset is reused while the next run asks for the same data (same name, split seed
and preparation). Between runs the Keras session is cleared. experiment.json is updated
before and after every run, so an interrupted experiment resumes where it was: a run killed
mid-training continues from its last checkpoint, a stopped one is trained again in a new
folder (the stopped record is kept). The checks (`experiment_checks`, re-exported here) import no
TensorFlow, so the window makes them too; training imports it lazily.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import UserError
from ..core.experiments import FAILED, Experiment, PlannedRun
from ..core.project import Project
from ..core.runs import RUNNING, read_run_info
from .experiment_checks import TRAINING_KEYS, check_runs, check_setting, check_spec
from .training.preparation import dataset_options
from .training.reporting import RunControl
from .training.settings import TrainingSettings

__all__ = ["ALL_DONE", "BUDGET_MINUTES", "BUDGET_RUNS", "STOPPED", "TRAINING_KEYS", "Budget", "ExperimentCallbacks",
           "ExperimentOutcome", "ExperimentRunner", "check_runs", "check_setting", "check_spec"]

# why a session of the runner ended
ALL_DONE, STOPPED, BUDGET_RUNS, BUDGET_MINUTES = "finished", "stopped", "budget_runs", "budget_minutes"
DATASETS_KEPT = 2  # loaded datasets kept for the next runs (one per split seed, usually)


# -- steering and reporting ------------------------------------------------------------------

@dataclass
class ExperimentCallbacks:
    """Plain functions the runner calls on its thread; leave any of them None.

    `on_run_started(run, position, count)`: position 1..count among the runs of this session.
    `on_batch` / `on_epoch` / `on_snapshot` pass on the trainer's BatchReport / EpochReport /
    Snapshot with the run (snapshots need `snapshot_layers` in the runner's `trainer_options`).
    """

    on_run_started: Callable[[PlannedRun, int, int], None] | None = None
    on_run_ended: Callable[[PlannedRun], None] | None = None
    on_batch: Callable[[PlannedRun, Any], None] | None = None
    on_epoch: Callable[[PlannedRun, Any], None] | None = None
    on_snapshot: Callable[[PlannedRun, Any], None] | None = None
    on_message: Callable[[str], None] | None = None

    def message(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)


@dataclass(frozen=True)
class Budget:
    """How much to train in one session: at most `runs` runs, at most `minutes` minutes.

    No run starts that would end after the time budget, judged by the runs trained so far;
    a run still going when the time is up is stopped (and trained again on resume).
    """

    runs: int | None = None
    minutes: float | None = None

    def check(self) -> None:
        if self.runs is not None and (isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1):
            raise UserError(f"--budget-runs is {self.runs!r}; it must be a whole number from 1")
        if self.minutes is not None and not (isinstance(self.minutes, (int, float)) and self.minutes > 0):
            raise UserError(f"--budget-minutes is {self.minutes!r}; it must be a number above 0, e.g. 30")


@dataclass
class ExperimentOutcome:
    """How a session of the runner ended."""

    trained: list[PlannedRun] = field(default_factory=list)  # runs trained in this session, in order
    reason: str = ALL_DONE  # finished | stopped | budget_runs | budget_minutes
    message: str = ""
    seconds: float = 0.0
    left: int = 0  # runs still to train


class _SessionLinked(RunControl):
    """One run's control that also follows the session's: paused or stopped when either is.

    The runner stops a single run on its own (the time budget) without ending the session.
    """

    def __init__(self, session: RunControl) -> None:
        super().__init__()
        self.session = session
        self._tick = threading.Event()  # never set: waits between looks at both controls

    @property
    def paused(self) -> bool:
        return super().paused or self.session.paused

    @property
    def stopping(self) -> bool:
        return super().stopping or self.session.stopping

    def wait_while_paused(self) -> float:
        start = time.monotonic()
        while self.paused and not self.stopping:
            self._tick.wait(0.1)
        return time.monotonic() - start


class ExperimentRunner:
    """Trains the runs an experiment still has to train (see the module docstring)."""

    def __init__(self, experiment: Experiment, *, callbacks: ExperimentCallbacks | None = None,
                 budget: Budget | None = None, trainer_options: dict[str, Any] | None = None,
                 clock: Callable[[], float] = time.monotonic, control: RunControl | None = None,
                 datasets: Callable[[Project], Any] | None = None) -> None:
        self.experiment = experiment
        self.callbacks = callbacks or ExperimentCallbacks()
        self.budget = budget or Budget()
        self.budget.check()
        self.trainer_options = dict(trainer_options or {})  # e.g. report_every, snapshot_layers
        self._clock = clock  # for the time budget (tests pass their own)
        self.control = control or RunControl()  # the session's pause, resume and stop
        self._load_data = datasets  # project -> its loaded dataset (None: the runner keeps its own)
        self._lock = threading.Lock()
        self._after_current = threading.Event()
        self._trainer = None
        self._datasets: OrderedDict[str, Any] = OrderedDict()

    # -- control (thread-safe) ------------------------------------------------------------
    def stop(self) -> None:
        """Stop the run in progress now (its record is kept, marked stopped) and start no other."""
        self.control.stop()

    def stop_after_current(self) -> None:
        """Let the run in progress finish, then start no other."""
        self._after_current.set()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def _stopping(self) -> bool:
        return self.control.stopping

    # -- the session ----------------------------------------------------------------------
    def run(self) -> ExperimentOutcome:
        """Train the runs still to train, in order, within the budget. Blocks."""
        experiment = self.experiment
        experiment.refresh()
        queue = experiment.to_train()
        if self.budget.runs is not None:
            queue = queue[: self.budget.runs]
        check_runs(experiment, queue)
        started = self._clock()
        deadline = None if self.budget.minutes is None else started + 60.0 * self.budget.minutes
        outcome = ExperimentOutcome()
        for position, run in enumerate(queue, start=1):
            if self._stopping or self._after_current.is_set():
                outcome.reason = STOPPED
                break
            if deadline is not None and not self._fits(deadline, outcome.trained):
                outcome.reason = BUDGET_MINUTES
                break
            if self.callbacks.on_run_started:
                self.callbacks.on_run_started(run, position, len(queue))
            self._train(run, deadline)
            outcome.trained.append(run)
            if self.callbacks.on_run_ended:
                self.callbacks.on_run_ended(run)
            if self._stopping:
                outcome.reason = STOPPED
                break
        else:
            if self.budget.runs is not None and len(experiment.to_train()) > 0:
                outcome.reason = BUDGET_RUNS
        if deadline is not None and outcome.trained and outcome.trained[-1].status == "stopped" \
                and not self._stopping:
            outcome.reason = BUDGET_MINUTES
        outcome.seconds = self._clock() - started
        outcome.left = len(experiment.to_train())
        outcome.message = self._describe(outcome)
        self._datasets.clear()
        return outcome

    def _fits(self, deadline: float, trained: list[PlannedRun]) -> bool:
        """Would the next run end before the deadline? Judged by the mean time of the runs so far."""
        now = self._clock()
        durations = [r.seconds for r in trained if r.seconds] or \
            [r.seconds for r in self.experiment.runs if r.done and r.seconds]
        expected = sum(durations) / len(durations) if durations else 0.0
        return now + expected <= deadline

    def _train(self, run: PlannedRun, deadline: float | None) -> None:
        experiment = self.experiment
        path = experiment.run_path(run)
        if path.exists() and not experiment.resumable(run):
            experiment.prepare_retry(run)
            path = experiment.run_path(run)
        project = experiment.project_for(run)
        settings = TrainingSettings.from_project(project)
        run.status, run.message = RUNNING, ""
        experiment.save()
        try:
            result = self._trainer_for(run, project, settings, path, deadline).run()
        except UserError as exc:
            run.status, run.message = FAILED, str(exc)
            experiment.save()
            raise
        except BaseException:
            experiment.save()  # interrupted: the run stays "running" and resumes from its checkpoint
            raise
        finally:
            with self._lock:
                self._trainer = None
            self._forget_session()
        info = read_run_info(path)
        if info is not None:
            run.take_results(info)
        else:
            run.status, run.message = result.stopped_reason, result.message
            run.test_accuracy, run.test_loss = result.test_accuracy, result.test_loss
            run.seconds, run.epochs = result.seconds, result.epochs
        experiment.save()

    def _trainer_for(self, run: PlannedRun, project: Project, settings: TrainingSettings, path, deadline):
        from .trainer import Trainer, TrainingCallbacks

        def on_batch(report) -> None:
            if deadline is not None and self._clock() > deadline:
                self._stop_for_time()
            if self.callbacks.on_batch:
                self.callbacks.on_batch(run, report)

        def on_epoch(report) -> None:
            # the caller hears of the epoch first, then the clock is read: an epoch's end is where
            # a run is stopped for time (batches are grouped, so a batch check may come only once an epoch)
            if self.callbacks.on_epoch:
                self.callbacks.on_epoch(run, report)
            if deadline is not None and self._clock() > deadline:
                self._stop_for_time()

        snapshot = self.callbacks.on_snapshot
        callbacks = TrainingCallbacks(on_batch=on_batch, on_epoch=on_epoch, on_message=self.callbacks.on_message,
                                      on_snapshot=None if snapshot is None else lambda report: snapshot(run, report))
        trainer = Trainer(project, settings=settings, dataset=self._dataset(project, settings), run_dir=path,
                          callbacks=callbacks, control=_SessionLinked(self.control), **self.trainer_options)
        with self._lock:
            self._trainer = trainer
        return trainer

    def _stop_for_time(self) -> None:
        with self._lock:
            if self._trainer is not None:
                self._trainer.stop()

    def _dataset(self, project: Project, settings: TrainingSettings):
        """The loaded dataset for this run, reused from an earlier run when it asks for the same data."""
        if self._load_data is not None:
            return self._load_data(project)
        name = str(project.dataset.get("name"))
        options = dataset_options(project, settings)
        key = json.dumps({"name": name, **options}, sort_keys=True, default=str)
        if key in self._datasets:
            self._datasets.move_to_end(key)
            return self._datasets[key]
        from .data import load_dataset

        data = load_dataset(name, **options)
        self._datasets[key] = data
        while len(self._datasets) > DATASETS_KEPT:
            self._datasets.popitem(last=False)
        return data

    @staticmethod
    def _forget_session() -> None:
        """Free what Keras holds from the finished run's model before the next is built."""
        import keras

        keras.backend.clear_session()

    def _describe(self, outcome: ExperimentOutcome) -> str:
        folder = self.experiment.folder
        if outcome.left == 0:
            return f"all {len(self.experiment.runs)} runs of the experiment are trained"
        resume = f"resume with: cnnstudio experiment {folder}"
        why = ""
        if outcome.reason == STOPPED:
            why = "stopped by request"
        elif outcome.reason == BUDGET_RUNS:
            why = f"the budget of {self.budget.runs} runs is spent"
        elif outcome.reason == BUDGET_MINUTES:
            why = f"the budget of {self.budget.minutes:g} minutes is spent"
        return f"{why}; {outcome.left} runs are left; {resume}".lstrip("; ")
