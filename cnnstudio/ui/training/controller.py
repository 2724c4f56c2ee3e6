"""The training controller: start, pause, resume and stop training runs; other features queue runs here.

    training.start()                       # the open project
    training.start(project, "plain MLP")   # another one; queued if a run is going on
    training.resume_run(run_dir)           # an interrupted run, from its last checkpoint
    training.runFinished.connect(...)      # run dir, after its record is complete

Runs go one at a time through the ML client (the job `cnnstudio.ml.jobs.training.train`).
While one runs the network is locked; when it ends, the inspection views switch to its model.
Should the worker process die mid-run, the run is marked interrupted in its run.json and
stays resumable from its last checkpoint.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from cnnstudio.core import analysis
from cnnstudio.core.catalog import CATALOG
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import Project, load_project
from cnnstudio.core.runs import can_resume, mark_interrupted, read_run_info
from cnnstudio.ml.jobs.requests import RunRequest, WeightsRequest
from cnnstudio.ml.training.reporting import DIVERGED, EARLY_STOPPING, STOPPED, TrainingResult
from cnnstudio.ml.training.settings import TrainingSettings

from ..context import AppContext
from ..controller_base import WorkController
from ..jobs import Job
from .responsiveness import favour_the_window

LOCK_REASON = "training is running — stop it to edit the network"
IDLE, PREPARING, TRAINING, PAUSED, STOPPING = "idle", "preparing", "training", "paused", "stopping"
QUIET_MESSAGES = ("downloading", "training stopped", "early stopping")


def ask_stop_and_close(parent: QWidget) -> bool:
    """"Training is running. Stop it and close?" — True for Stop and close."""
    box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                      "Training is running. Stop it and close?", parent=parent)
    box.setInformativeText("The weights trained so far are saved with the run.")
    stop = box.addButton("Stop and close", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(stop)
    box.exec()
    return box.clickedButton() is stop


def first_convolution(project: Project) -> str | None:
    """The id of the first convolution layer in the network's order (the one watched live)."""
    return analysis.first_convolution(project.network)


class TrainingController(WorkController):
    """One training run at a time, the next ones queued; signals carry the trainer's reports."""

    started = Signal(object)  # run dir (Path): its folder exists, training is about to begin
    batch = Signal(object)  # BatchReport
    epoch = Signal(object)  # EpochReport
    snapshot = Signal(object)  # Snapshot: weights and activations of the watched layer
    message = Signal(str)  # what the trainer says (paused, resumed, warnings, how it ended)
    runFinished = Signal(object)  # run dir (Path), after its record is complete
    # for the training views
    runStarting = Signal(object)  # the RunRequest about to run (views reset)
    probe = Signal(object)  # ProbeImage: the image whose feature maps are shown
    status = Signal(str)  # what is happening, in words (loading the data, ...)
    resultReady = Signal(object)  # TrainingResult of the run that just ended
    queueChanged = Signal(int)  # runs waiting

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)  # states: IDLE, PREPARING, TRAINING, PAUSED, STOPPING
        self.request: RunRequest | None = None  # the run going on
        self.run_dir: Path | None = None
        self.last_result = None
        self.evaluate_test = True  # the held-out test split, evaluated once at the end of a run
        self._queue: deque[RunRequest] = deque()
        self._job: Job | None = None
        self._closing = False
        self._lost: str | None = None  # why the worker died during the current run
        context.ml.workerLost.connect(self._on_worker_lost)

    # ------------------------------------------------------------------ the API
    @property
    def is_running(self) -> bool:
        return self.state != IDLE

    @property
    def is_paused(self) -> bool:
        return self.state == PAUSED

    @property
    def queued(self) -> int:
        return len(self._queue)

    def start(self, project: Project | None = None, label: str | None = None, *,
              initial_weights: str | Path | None = None) -> bool:
        """Train `project` (None: the open one); queued after the current run. False when it cannot start."""
        document = self.context.document
        own = project is None or project is document.project
        project = (document.project if project is None else project).copy()
        try:
            TrainingSettings.from_project(project)
            _check_network(project, document.analysis() if own else None)
        except UserError as exc:
            self._fail(f"Cannot train {project.name}: {exc}")
            return False
        request = RunRequest(project, self.context.runs.folder, label, first_convolution(project),
                             None if initial_weights is None else Path(initial_weights), self.evaluate_test)
        if self.is_running:
            self._queue.append(request)
            self.queueChanged.emit(len(self._queue))
            self._say("info", f"{_title(request)} will start when the current run ends "
                              f"({len(self._queue)} waiting)")
            return True
        self._launch(request)
        return True

    def resume_run(self, run_dir: str | Path) -> bool:
        """Carry on an interrupted run from its last checkpoint, with the settings it was started with
        (queued after the current run). False when it cannot."""
        run_dir = Path(run_dir)
        info = read_run_info(run_dir) or {}
        if not can_resume(str(info.get("status") or ""), run_dir):
            self._fail(f"Cannot resume {run_dir.name}: it is {info.get('status') or 'not a training run'} and has "
                       "no checkpoint to go on from" if info.get("status") not in ("running", "interrupted")
                       else f"Cannot resume {run_dir.name}: no epoch had finished, so there is no checkpoint")
            return False
        try:
            project = load_project(run_dir / "project.cnnproj")
        except UserError as exc:
            self._fail(f"Cannot resume {run_dir.name}: {exc}")
            return False
        original = info.get("project_file")
        project.path = Path(original) if isinstance(original, str) and original else None  # the run's own project
        request = RunRequest(project, run_dir.parent, run_dir.name, first_convolution(project), None,
                             self.evaluate_test, resume=run_dir)
        if self.is_running:
            self._queue.append(request)
            self.queueChanged.emit(len(self._queue))
            self._say("info", f"{run_dir.name} will go on when the current run ends ({len(self._queue)} waiting)")
            return True
        self._launch(request)
        return True

    def pause(self) -> None:
        """Hold training after the current batch (nothing is lost)."""
        if self.state in (TRAINING, PREPARING) and self._job is not None:
            self._job.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.state == PAUSED and self._job is not None:
            self._job.resume()
            self._set_state(TRAINING if self.run_dir is not None else PREPARING)

    def stop(self) -> None:
        """End the run after the current batch; the weights so far are saved. Queued runs are dropped."""
        if not self.is_running or self._job is None:
            return
        dropped = len(self._queue)
        self._queue.clear()
        self.queueChanged.emit(0)
        self._job.cancel()
        self._set_state(STOPPING)
        more = f"; {dropped} queued run{'s' * (dropped != 1)} dropped" if dropped else ""
        self.status.emit(f"Stopping after this batch — the weights so far are saved{more}")

    def close_guard(self) -> bool:
        """Before the window closes: ask, stop, and close once the trainer has saved its work."""
        if not self.is_running:
            return True
        messages = self.context.messages
        if self._closing:
            messages.status("Still stopping training — the window closes when it has saved")
            return False
        if not ask_stop_and_close(self.context.parent):
            return False
        self._closing = True
        self.stop()
        messages.status("Stopping training and saving the weights, then closing…")
        return False

    # ------------------------------------------------------------------ running
    def _launch(self, request: RunRequest) -> None:
        self.request, self.run_dir, self.last_result = request, None, None
        self.context.document.set_locked(True, LOCK_REASON)
        favour_the_window()
        self.runStarting.emit(request)
        self._set_state(PREPARING)
        self.status.emit(f"Preparing {_title(request)}…")
        families = imagenet_backbones(request.project)
        if not families:
            self._train(request)
            return
        # the ImageNet weights first, as a job of their own: progress, and Stop cancels the download
        self.status.emit(f"Looking for the ImageNet weights of {', '.join(families)} in Keras's cache…")
        self._job = self.context.ml.run(WeightsRequest(request.project), on_result=lambda _ids: self._train(request),
                                        on_error=self._on_error, on_event=self._on_weights_event,
                                        on_cancelled=self._weights_cancelled)

    def _train(self, request: RunRequest) -> None:
        if self.state == STOPPING:  # Stop came as the weights arrived
            self._weights_cancelled()
            return
        self._job = self.context.ml.run(request, on_result=self._on_result, on_error=self._on_error,
                                        on_event=self._on_event, on_cancelled=lambda: self._on_result(None))

    def _on_weights_event(self, kind: str, payload: Any) -> None:
        if kind != "weights":
            return
        name, done, total = payload
        amount = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB ({done / total:.0%})" if total else f"{done / 1e6:.1f} MB"
        self.status.emit(f"Downloading the ImageNet weights {name} into Keras's cache: {amount} — Stop cancels")

    def _weights_cancelled(self) -> None:
        self._say("info", f"{_title(self.request)}: the download of the ImageNet weights was cancelled; nothing "
                          "was kept, and training did not start")
        self._finish()

    def _on_event(self, kind: str, payload: Any) -> None:
        if kind == "batch":
            if self.state == PREPARING:
                favour_the_window()  # TensorFlow's data and compute threads exist by now
                self._set_state(TRAINING)
            self.batch.emit(payload)
        elif kind == "epoch":
            self.epoch.emit(payload)
        elif kind == "snapshot":
            self.snapshot.emit(payload)
        elif kind == "message":
            self._on_trainer_message(str(payload))
        elif kind == "started":
            self.run_dir = Path(payload)
            self.status.emit(f"Training {_title(self.request)}")
            self.started.emit(self.run_dir)
        elif kind == "probe":
            self.probe.emit(payload)
        elif kind == "status":
            self.status.emit(str(payload))
        elif kind == "loading":
            self.status.emit(f"Loading the dataset… {float(payload):.0%}")

    def _on_trainer_message(self, text: str) -> None:
        self.message.emit(text)
        sentence = text[:1].upper() + text[1:]
        if text.startswith("warning:"):
            self._say("warning", sentence.removeprefix("Warning:").strip().capitalize())
        elif text in ("paused", "resumed"):
            return
        elif text.startswith(QUIET_MESSAGES):  # progress, or how the run ended (said once, with the result)
            self.status.emit(sentence)
        else:  # weights taken from another run, a lowered learning rate, a resumed run: worth keeping
            self.status.emit(sentence)
            self._say("info", f"{_title(self.request)}: {text}")

    def _on_result(self, result: TrainingResult | None) -> None:
        request = self.request
        self.last_result = result
        if result is None:  # stopped before the first batch: nothing was written
            self._say("info", f"{_title(request)} stopped before it began")
            self._finish()
            return
        run_dir = Path(result.run_dir) if result.run_dir else self.run_dir
        self._say(*_ending(request, result, run_dir))
        if run_dir is not None and (run_dir / "model.keras").is_file() and not self._closing:
            self.context.model_source.set_run_dir(run_dir)
        self.resultReady.emit(result)
        self._finish()
        if run_dir is not None:
            self.runFinished.emit(run_dir)

    def _on_worker_lost(self, why: str) -> None:
        if self.request is not None:
            self._lost = why  # the run's job fails next, with the other jobs the worker had

    def _on_error(self, text: str) -> None:
        if self._lost is not None:
            self._on_run_lost(self._lost)
            return
        if self.request is not None:  # the trainer names the project too; once is enough
            text = text.removeprefix(f"{self.request.project.name}: ")
        self._fail(f"Training {_title(self.request)} stopped: {text}" if self.run_dir
                   else f"Cannot train {_title(self.request)}: {text}")
        self._finish()

    def _on_run_lost(self, why: str) -> None:
        """The worker died mid-run: say so, mark the run interrupted, keep what it saved resumable."""
        self._lost = None
        text = f"The training process stopped unexpectedly ({why})."
        run_dir = self.run_dir
        kept = None
        if run_dir is not None:
            try:
                kept = mark_interrupted(run_dir, text)
            except OSError as exc:
                text += f" Its run record could not be updated ({exc.strerror or exc})."
        if run_dir is None or kept is None:
            text += f" {_title(self.request)} had not begun; nothing was written."
        elif kept.resumable:
            text += (f" The run '{run_dir.name}' was marked as interrupted; its checkpoint after epoch {kept.epochs} "
                     "is kept and can be resumed (Runs panel: Resume Training).")
        else:
            text += (f" The run '{run_dir.name}' was marked as interrupted; no epoch had finished, so there is no "
                     "checkpoint to resume from.")
        self._fail(text)
        self._finish()

    def _finish(self) -> None:
        self._job = None
        self.request = None
        if self._closing:
            self._queue.clear()
        if self._queue:
            request = self._queue.popleft()
            self.queueChanged.emit(len(self._queue))
            self._set_state(IDLE)
            self._launch(request)
            return
        self.context.document.set_locked(False)
        self._set_state(IDLE)
        if self._closing:
            QTimer.singleShot(0, self.context.shell.close)


def imagenet_backbones(project: Project) -> list[str]:
    """The families of the network's pretrained backbones that ask for ImageNet weights (MobileNetV2, ...)."""
    found = []
    for node in project.network:
        spec = CATALOG.get(node.type)
        if spec is None or spec.category != "Pretrained":
            continue
        try:
            wanted = spec.resolve(node.params).get("weights")
        except Exception:  # noqa: BLE001 - a bad parameter: the trainer names it
            continue
        if wanted:
            found.append(node.type)
    return list(dict.fromkeys(found))


def _check_network(project: Project, analysis) -> None:
    """The quick checks that need no TensorFlow: a network with layers and without errors."""
    if len(project.network) == 0:
        raise UserError("the network is empty; add an Input and some layers first")
    if analysis is not None and analysis.errors:
        problem = analysis.errors[0]
        where = f"layer '{problem.node}': " if problem.node else ""
        raise UserError(f"{where}{problem.message} (see Messages)")


def _title(request: RunRequest | None) -> str:
    if request is None:
        return "the run"
    name, label = request.project.name, request.label
    if not label or label == name:
        return name
    return label if label.startswith(name) else f"{name} ({label})"


def _ending(request: RunRequest | None, result: TrainingResult, run_dir: Path | None) -> tuple[str, str]:
    """How a run ended, in one sentence, and how serious that is."""
    where = f" — saved in {run_dir}" if run_dir else ""
    test = ""
    if result.test_accuracy is not None:
        test = f": test accuracy {result.test_accuracy:.1%}"
    elif result.test_loss is not None:
        test = f": test loss {result.test_loss:.4g}"
    title = _title(request)
    if result.stopped_reason == DIVERGED:
        return "error", f"{title}: {result.message}{where}"
    if result.stopped_reason == STOPPED:
        return "info", f"{title} stopped after {result.epochs} finished epoch(s){test}; the weights so far " \
                       f"are kept{where}"
    if result.stopped_reason == EARLY_STOPPING:
        return "info", f"{title}: {result.message}{test}{where}"
    return "info", f"{title} finished {result.epochs} epochs{test}{where}"
