"""The experiment job: train the next runs of an experiment with `ExperimentRunner`, reporting live.

Events sent while it runs: ("run_started", ExperimentRunStarted), ("batch", (run index, BatchReport)),
("epoch", (run index, EpochReport)), ("run_ended", PlannedRun), ("message", text),
("loading", fraction). Pause, resume and stop reach the runner through ``progress.control``;
loaded datasets are the workspace's, so the runs after the first (and the inspection views)
reuse them.
"""

from __future__ import annotations

from cnnstudio.core.experiments import Experiment, PlannedRun

from ..experiments import BUDGET_MINUTES, STOPPED, Budget, ExperimentCallbacks, ExperimentRunner
from ..workspace import Workspace
from .protocol import Progress
from .requests import ExperimentRunRequest
from .results import ExperimentRunStarted, ExperimentStep
from .training import REPORT_EVERY


def train_next(workspace: Workspace, request: ExperimentRunRequest, progress: Progress) -> ExperimentStep:
    """Train the runs the request asks for (see `ExperimentRunRequest`); the experiment file is kept up to date."""
    experiment = Experiment.open(request.folder)
    experiment.refresh()

    def started(run: PlannedRun, _position: int, _count: int) -> None:
        done = sum(1 for r in experiment.runs if r.done)
        progress.event("run_started", ExperimentRunStarted(_copy(run), len(experiment.runs), done))

    callbacks = ExperimentCallbacks(
        on_run_started=started,
        on_run_ended=lambda run: progress.event("run_ended", _copy(run)),
        on_batch=lambda run, report: progress.event("batch", (run.index, report)),
        on_epoch=lambda run, report: progress.event("epoch", (run.index, report)),
        on_message=lambda text: progress.event("message", text))
    runner = ExperimentRunner(
        experiment, callbacks=callbacks, budget=Budget(request.runs, request.minutes), control=progress.control,
        trainer_options={"report_every": REPORT_EVERY, "evaluate_test": request.evaluate_test},
        datasets=lambda project: workspace.dataset(
            project, progress=lambda fraction: progress.event("loading", fraction)))
    outcome = runner.run()
    return ExperimentStep(request.folder, tuple(_copy(r) for r in outcome.trained), outcome.left, outcome.seconds,
                          stopped=outcome.reason == STOPPED, time_spent=outcome.reason == BUDGET_MINUTES)


def _copy(run: PlannedRun) -> PlannedRun:
    """A copy for the window: the runner keeps changing its own."""
    return PlannedRun.from_json(run.to_json())
