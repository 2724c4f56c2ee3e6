"""Runs a lesson: opens its project, trains what it needs through the training controller, then brings
the right views to the front and hands the panel what to show.

Other features are used through the public faces the runner is given: training, the run
history (to compare runs), the inspection views, the playground and experiments (the
shuffled-pixels lesson trains each network as an experiment with several seeds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_results import load_results
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.playground import KERNEL_PRESETS
from cnnstudio.core.playground_inputs import x_or_o_picture
from cnnstudio.core.project import Project, load_project
from cnnstudio.ml.jobs.requests import LayerKernelsRequest
from cnnstudio.ml.jobs.results import LayerKernels

from ..context import AppContext
from ..inspect_area import InputImage
from . import facts, projects
from .catalog import PARAMETERS, RECEPTIVE, SHUFFLED, STRIPES, X_VS_O, lesson
from .results import ActionsResult, FieldResult, KernelPair, ParameterResult, ShuffledResult

if TYPE_CHECKING:
    from ..experiments import Experiments
    from ..inspect import InspectViews
    from ..playground import PlaygroundView
    from ..runs import RunHistory
    from ..training import TrainingController

WALK_INTERVAL_MS = 900


def _edge_kernel(found: LayerKernels) -> np.ndarray:
    """The trained edge detector's one 5×5 kernel."""
    return np.asarray(found.kernels[0, :, :, 0], np.float64)


class LessonRunner(QObject):
    progress = Signal(str, str)  # lesson key, what is happening
    resultReady = Signal(str, object)  # lesson key, the QWidget to show in the panel
    finished = Signal(str, bool)  # lesson key, whether it got to the end

    def __init__(self, context: AppContext, training: TrainingController, history: RunHistory,
                 views: InspectViews, playground: PlaygroundView, experiments: Experiments) -> None:
        super().__init__(context.parent)
        self.context = context
        self.training = training
        self.history = history
        self.views = views
        self.playground = playground
        self.experiments = experiments
        self._lesson_experiments: dict[Path, str] = {}  # folder -> network, while the lesson trains them
        self._ended: set[Path] = set()
        self._experiments_started = 0.0
        experiments.controller.sessionEnded.connect(self._experiment_ended)
        experiments.controller.runStarted.connect(self._experiment_run_started)
        self.training_overrides: dict[str, Any] = {}  # e.g. tiny epochs in tests
        self.active: str | None = None
        self._waiting: dict[str, Path | None] = {}  # project name -> its finished run
        self._after_training: Callable[[list[Path]], None] | None = None
        training.runFinished.connect(self._run_finished)
        training.failed.connect(self._run_failed)
        training.stateChanged.connect(lambda state: state == "idle" and QTimer.singleShot(0, self._check_idle))
        self._walk = QTimer(self)
        self._walk.setInterval(WALK_INTERVAL_MS)
        self._walk.timeout.connect(self._walk_step)
        self._walk_layers: list[str] = []
        self._walk_index = 0
        self._field_result: FieldResult | None = None

    # ------------------------------------------------------------------ starting
    def start(self, key: str) -> bool:
        """Set the lesson up (asking to save unsaved changes first); False when it did not start."""
        info = lesson(key)
        if self.active is not None:
            self._say(key, f"The lesson '{lesson(self.active).title}' is still running; wait for it to finish.")
            return False
        if self.context.document.locked:
            self._say(key, "Training is running — stop it (Train > Stop) before starting a lesson.")
            return False
        if self.experiments.controller.is_running:
            self._say(key, "An experiment is training — stop it (Experiment tab, Stop) before starting a lesson.")
            return False
        if not self.context.shell.confirm_discard():
            self._say(key, "Not started: your project was kept as it is.")
            return False
        self._walk.stop()
        self.active = key
        self._say(key, f"Setting up '{info.title}'…")
        try:
            {PARAMETERS: self._parameters, SHUFFLED: self._shuffled, X_VS_O: self._x_vs_o,
             STRIPES: self._stripes, RECEPTIVE: self._receptive}[key]()
        except UserError as exc:
            self._fail(str(exc))
            return False
        return True

    def _open(self, project: Project) -> None:
        """Show ``project`` in the editor as a new, unsaved project."""
        self.context.shell.show_project(project)

    def _say(self, key: str, text: str) -> None:
        self.progress.emit(key, text)

    def _done(self, result: QWidget | None, text: str) -> None:
        key, self.active = self.active, None
        if key is None:
            return
        if result is not None:
            self.resultReady.emit(key, result)
        self._say(key, text)
        self.finished.emit(key, True)

    def _fail(self, text: str) -> None:
        key, self.active = self.active, None
        self._waiting, self._after_training = {}, None
        self._lesson_experiments, self._ended = {}, set()
        if key is not None:
            self._say(key, text)
            self.finished.emit(key, False)

    # ------------------------------------------------------------------ training
    def _train(self, runs: list[tuple[str | None, Project | None]], then: Callable[[list[Path]], None]) -> None:
        """Queue the runs (None: the open project) and call ``then`` with their folders once all finished."""
        training = self.training
        names = [(project or self.context.document.project).name for _label, project in runs]
        self._waiting = {name: None for name in names}
        self._after_training = then
        for label, project in runs:
            if not training.start(project, label):
                self._fail("Training could not start (see Messages for why).")
                return
        total = len(runs)
        self._say(self.active, f"Training {total} run{'s' * (total != 1)}… the Training tab shows the curves; "
                               "Train > Stop ends it.")

    def _run_finished(self, run_dir: Path) -> None:
        if not self._waiting or self._after_training is None:
            return
        path = Path(run_dir)
        try:
            name = load_project(path / "project.cnnproj").name
        except UserError:
            return
        if name not in self._waiting or self._waiting[name] is not None:
            return
        self._waiting[name] = path
        done = sum(p is not None for p in self._waiting.values())
        if done < len(self._waiting):
            self._say(self.active, f"{done} of {len(self._waiting)} runs finished; training the next…")
            return
        paths = [p for p in self._waiting.values() if p is not None]
        then, self._waiting, self._after_training = self._after_training, {}, None
        then(paths)

    def _run_failed(self, text: str) -> None:
        if self._waiting:
            self._fail(f"The lesson stopped: {text}")

    def _check_idle(self) -> None:
        if self._waiting and not self.training.is_running:
            self._fail("Training ended before the lesson's runs were done; press Start to try again.")

    # ------------------------------------------------------------------ lesson 1
    def _parameters(self) -> None:
        mlp, cnn = projects.parameter_pair()
        self._open(cnn)
        self._show_network()
        comparison = facts.compare_parameters(mlp, cnn)
        self._done(ParameterResult(comparison),
                   f"{cnn.name} is open in the editor; its summary is below it. The table compares it with the MLP.")

    # ------------------------------------------------------------------ lesson 2
    def _shuffled(self) -> None:
        """Two experiments, the MLP's and LeNet-5's, each on original and shuffled pixels with several seeds."""
        self._open(projects.parameter_pair()[1])
        controller = self.experiments.controller
        planned = []
        for network, project, spec in projects.shuffled_experiments(self.training_overrides):
            folder = controller.create(project, spec)
            planned.append((folder, network))
        self._lesson_experiments = dict(planned)
        self._ended = set()
        self._experiments_started = time.monotonic()
        for folder, _network in planned:
            if not controller.start(folder):
                self._fail("The lesson's experiments could not start (see Messages for why).")
                return
        self.experiments.open(planned[0][0])
        runs = len(planned) * 2 * projects.SHUFFLED_SEEDS
        self._say(self.active, f"Training {runs} runs: the MLP and LeNet-5, each on original and on shuffled pixels, "
                               f"{projects.SHUFFLED_SEEDS} seeds each. The Experiment tab shows them as they train; "
                               "its Stop ends the lesson.")

    def _experiment_run_started(self, folder: Path, started) -> None:
        folder = Path(folder)
        if folder not in self._lesson_experiments:
            return
        if self.experiments.view.folder != folder:
            self.experiments.open(folder)
        done = sum(len(Experiment.open(f).runs) for f in self._ended) + started.done
        total = len(self._lesson_experiments) * 2 * projects.SHUFFLED_SEEDS
        self._say(self.active, f"Training run {done + 1} of {total}: {self._lesson_experiments[folder]}, "
                               f"{started.run.label.replace('permute_pixels=none', 'original pixels')}, "
                               f"seed {started.run.seed}…")

    def _experiment_ended(self, folder: Path, text: str) -> None:
        folder = Path(folder)
        if folder not in self._lesson_experiments or self.active != SHUFFLED:
            return
        self._ended.add(folder)
        try:
            left = len(Experiment.open(folder).to_train())
        except UserError as exc:
            self._fail(f"The lesson stopped: {exc}")
            return
        if left:
            self._fail(f"The lesson stopped: {self._lesson_experiments[folder]}'s experiment {text}. Resume it from "
                       "the Experiments panel, then compare in the Experiment tab.")
            return
        if self._ended != set(self._lesson_experiments):
            return
        self._shuffled_done(dict(self._lesson_experiments), time.monotonic() - self._experiments_started)

    def _shuffled_done(self, experiments: dict[Path, str], seconds: float) -> None:
        try:
            results = [(network, load_results(Experiment.open(folder))) for folder, network in experiments.items()]
            findings = facts.shuffled_findings(results)
        except (UserError, ValueError) as exc:
            self._fail(f"The lesson's results cannot be read: {exc}")
            return
        folders = {network: folder for folder, network in experiments.items()}
        self._lesson_experiments, self._ended = {}, set()
        result = ShuffledResult(findings, seconds)
        result.showExperiment.connect(lambda network: self._show_experiment(folders[network]))
        self._show_experiment(folders[findings.findings[-1].network])
        self._done(result, "Both experiments are trained: the verdicts are below; the Experiment tab shows "
                           "LeNet-5's runs and curves over the seeds.")

    def _show_experiment(self, folder: Path) -> None:
        view = self.experiments.open(folder)
        view.select_settings([s.label for s in view.results.settings] if view.results else [])

    # ------------------------------------------------------------------ lesson 3
    def _x_vs_o(self) -> None:
        self._open(projects.x_vs_o_project(self.training_overrides))
        self._train([("X or O lesson", None)], self._x_vs_o_done)

    def _x_vs_o_done(self, paths: list[Path]) -> None:
        outcome = facts.run_outcome("X or O", paths[0])
        accuracy = "" if outcome.accuracy is None else f" It tells X from O in {outcome.accuracy:.1%} of the validation pictures."
        views = self.views
        area = views.area
        result = ActionsResult(
            f"Trained for {outcome.epochs} epochs.{accuracy} The Filters page shows the eight 5×5 kernels of "
            "'strokes' (red weights answer to ink, blue ones to empty paper) — look for diagonal and curved "
            "strokes. The Feature Maps page shows where in an X each filter fires.",
            [("Show the filters", "lessonShowFilters", lambda: area.show_page(views.filters)),
             ("Feature maps of an X", "lessonShowX", lambda: self._show_letter(views, "X")),
             ("Feature maps of an O", "lessonShowO", lambda: self._show_letter(views, "O"))])
        self._show_letter(views, "X")
        area.show_page(views.filters)
        self._done(result, "Trained: the filters are shown; the buttons below switch views.")

    def _show_letter(self, views: InspectViews, letter: str) -> None:
        picture = x_or_o_picture(letter, seed=7).astype(np.float32)[:, :, None]
        self.context.current_input.set(InputImage(picture, f"a drawn {letter}", label=int(letter == "X"),
                                                  origin="drawing"))
        self.views.area.show_page(views.feature_maps)

    # ------------------------------------------------------------------ lesson 4
    def _stripes(self) -> None:
        self._open(projects.edge_detector_project(self.training_overrides))
        self._train([("stripes lesson", None)], self._stripes_trained)

    def _stripes_trained(self, _paths: list[Path]) -> None:
        key = self.active
        self._say(key, "Trained; reading the learned filter…")
        self.context.ml.with_model(LayerKernelsRequest(projects.EDGE_FILTER),
                                   on_result=lambda found: self._stripes_done(_edge_kernel(found)),
                                   on_error=lambda text: self._fail(f"The learned filter cannot be read: {text}"),
                                   key="lesson-edge-kernel")

    def _stripes_done(self, kernel: np.ndarray) -> None:
        found = facts.orientation(kernel)
        kind = "vertical" if found.vertical >= found.horizontal else "horizontal"
        reference = f"sobel {kind}"
        pair = KernelPair(kernel, np.asarray(KERNEL_PRESETS[reference]), f"Sobel {kind} (hand-made)",
                          found.sentence())
        pair.tryInPlayground.connect(lambda: self._slide_learned(kernel, kind))
        playground = self.playground
        playground.set_mode(2)
        playground.image_source.choose("stripes")
        playground.image_source.orientation.setCurrentIndex(0 if kind == "vertical" else 1)
        playground.kernel_editor.choose_preset(reference)
        self.views.area.show_page(self.views.filters)
        self._done(pair, "The learned filter is beside the Sobel kernel below; the Filters page shows it with "
                   "its weights.")

    def _slide_learned(self, kernel: np.ndarray, kind: str) -> None:
        playground = self.playground
        playground.set_mode(2)
        playground.image_source.choose("stripes")
        playground.image_source.orientation.setCurrentIndex(0 if kind == "vertical" else 1)
        playground.kernel_editor.set_kernel(kernel)
        self.context.shell.show_tab(playground)

    # ------------------------------------------------------------------ lesson 5
    def _receptive(self) -> None:
        project = projects.deep_stack_project()
        self._open(project)
        self._show_network()
        rows = facts.receptive_fields(project.network)
        result = FieldResult(rows)
        result.layerChosen.connect(lambda layer: self.context.shell.editor.select([layer], center=True))
        result.walkRequested.connect(self.walk)
        self._field_result = result
        self._walk_layers = [row.layer for row in rows]
        self._done(result, "The deep stack is open; its receptive fields are below and in the Summary's last "
                           "column. Walk through the layers to see each one on the canvas.")
        self.walk()

    def walk(self) -> None:
        """Select each layer of the deep stack in turn on the canvas, from the input up."""
        self._walk_index = 0
        self._walk.start()
        self._walk_step()

    def _walk_step(self) -> None:
        present = [layer for layer in self._walk_layers if layer in self.context.document.network]
        if self._walk_index >= len(present):
            self._walk.stop()
            return
        layer = present[self._walk_index]
        self._walk_index += 1
        self.context.shell.editor.select([layer], center=True)
        if self._field_result is not None:
            try:
                self._field_result.select_row(layer)
            except RuntimeError:  # the panel replaced that result meanwhile
                self._field_result = None

    # ------------------------------------------------------------------ views
    def _show_network(self) -> None:
        shell = self.context.shell
        shell.show_tab(shell.editor)
        summary = shell.dock("summary")
        summary.show()
        summary.raise_()
