"""What the inspection views share: the model they look at, the analysis of the current input,
the dataset's index and misclassified lists, and a word on what the ML thread is doing.

Jobs go through `submit`, which remembers what is pending, so a view can say "waiting for
training to finish…" when its answer is held up, instead of seeming frozen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from cnnstudio.ml.jobs.protocol import Request
from cnnstudio.ml.jobs.requests import (
    AnalyseRequest,
    DatasetImageRequest,
    DatasetIndexRequest,
    MisclassifiedRequest,
    PictureRequest,
)
from cnnstudio.ml.jobs.results import Analysis, DatasetIndex, Misclassified, ModelFacts

from ..context import AppContext
from ..inspect_area import InputImage

if TYPE_CHECKING:
    from ..training import TrainingController

WAIT_NOTICE_MS = 300  # say "waiting…" only when an answer takes longer than this

INPUT_SOURCES = ("browse", "picture", "drawing")  # the keys of the jobs that load a new input

class InspectController(QObject):
    modelChanged = Signal(object)  # ModelFacts of the model now inspected
    stale = Signal()  # the model changed (edit, other run): views should ask again when shown
    analysisReady = Signal(object)  # Analysis of the current input
    analysisFailed = Signal(str)
    indexReady = Signal(object)  # DatasetIndex
    indexFailed = Signal(str)  # the dataset could not be loaded
    misclassifiedReady = Signal(object)  # Misclassified
    statusChanged = Signal(str)  # "" when idle
    runsChanged = Signal()  # the list of runs offered for inspection changed

    def __init__(self, context: AppContext, training: TrainingController) -> None:
        super().__init__(context.parent)
        self.context = context
        self.training = training  # its snapshots show live filters; its runs hold answers up
        self.ml = context.ml
        self.current = context.current_input
        self.facts = self.ml.facts
        self.analysis: Analysis | None = None
        self.index: DatasetIndex | None = None
        self.misclassified: dict[str, Misclassified] = {}
        self.want_maps = False  # the feature-maps view is showing: analyses include every layer
        self.runs: list[Path] = []  # runs inspected in this session, newest first
        self._pending: dict[str, Any] = {}
        self._status = ""
        self._wait_timer = QTimer(self, singleShot=True, interval=WAIT_NOTICE_MS)
        self._wait_timer.timeout.connect(self._update_status)
        self.ml.modelReady.connect(self._on_model_ready)
        self.ml.stale.connect(self._on_stale)
        self.current.changed.connect(self._on_input)
        context.document.lockedChanged.connect(lambda _locked: self._update_status())
        context.model_source.changed.connect(self._remember_run)
        self._remember_run(context.model_source.run_dir)

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, key: str, request: Request, *, on_result: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None) -> None:
        """Run the job of ``request`` on the current model; latest wins per `key`."""
        holder: list = []

        def done() -> bool:
            if holder and self._pending.get(key) is holder[0]:
                del self._pending[key]
                self._update_status()
                return True
            return False

        def result(value: Any) -> None:
            if done():
                on_result(value)

        def error(message: str) -> None:
            if done():
                (on_error or self._report)(message)

        holder.append(self.ml.with_model(request, on_result=result, on_error=error, key=f"inspect-{key}"))
        self._pending[key] = holder[0]
        self._wait_timer.start()

    def is_pending(self, key: str) -> bool:
        return key in self._pending

    def _report(self, message: str) -> None:
        self.context.messages.show("error", message)

    @property
    def status(self) -> str:
        return self._status

    def _update_status(self) -> None:
        if not self._pending:
            text = ""
        elif self.training.is_running:
            text = "waiting for training to finish…"
        elif self._wait_timer.isActive():
            return  # not long enough to mention
        else:
            text = "working…"
        if text != self._status:
            self._status = text
            self.statusChanged.emit(text)

    # -- the model --------------------------------------------------------------------------------
    def _on_model_ready(self, facts: ModelFacts) -> None:
        self.facts = facts
        self.modelChanged.emit(facts)

    def _on_stale(self) -> None:
        self.analysis = None
        self.index = None
        self.misclassified.clear()
        self.stale.emit()

    @property
    def source_name(self) -> str:
        run = self.context.model_source.run_dir
        return run.name if run is not None else "untrained network"

    def _remember_run(self, run: Path | None) -> None:
        if run is not None:
            run = Path(run)
            self.runs = [run] + [r for r in self.runs if r != run][:9]
            self.runsChanged.emit()

    def open_run(self, parent: QWidget) -> bool:
        """Ask for a training run's folder and inspect its model."""
        from .model_bar import ask_run_folder, has_model

        folder = ask_run_folder(parent, str(self.runs[0].parent) if self.runs else "")
        if folder is None:
            return False
        if not has_model(folder):
            self.context.messages.show("error", f"{folder} holds no trained model (model.keras); "
                                                "choose the folder of a finished training run")
            return False
        self.context.model_source.set_run_dir(folder)
        return True

    # -- the current input ------------------------------------------------------------------------
    def _on_input(self, value: InputImage | None) -> None:
        if value is None:
            self.analysis = None
            return
        if not self.want_maps:
            return  # nothing of ours is showing: the feature-maps view asks when it is shown
        if self.analysis is not None and self.analysis.input is value and self._complete(self.analysis):
            self.analysisReady.emit(self.analysis)
            return
        self.analyse()

    def _complete(self, analysis: Analysis) -> bool:
        return analysis.activations is not None or not self.want_maps

    def analyse(self) -> None:
        """Ask for the analysis of the current input (probabilities, and maps if they are shown)."""
        value = self.current.value
        if value is None:
            return
        if self.analysis is not None and self.analysis.input is value and self._complete(self.analysis):
            self.analysisReady.emit(self.analysis)
            return
        self.submit("input", AnalyseRequest(value, self.want_maps),
                    on_result=lambda analysis: self._analysed(value, analysis), on_error=self.analysisFailed.emit)

    def show_analysis(self, analysis: Analysis) -> None:
        """Make an input analysed together with its loading (a drawing, a dataset image) current."""
        self.analysis = analysis
        self.current.set(analysis.input)

    def _analysed(self, value: InputImage, analysis: Analysis) -> None:
        if value is not self.current.value:
            return  # the input changed meanwhile; its own analysis follows
        self.analysis = dataclasses.replace(analysis, input=value)  # the very input shown, not a copy
        self.analysisReady.emit(self.analysis)

    def drop_pending_inputs(self, but: str = "") -> None:
        """Inputs still loading (from sources other than ``but``) will not become current."""
        for key in INPUT_SOURCES:
            if key != but and self._pending.pop(key, None) is not None:
                self._update_status()

    def load_input(self, key: str, request: PictureRequest | DatasetImageRequest,
                   on_error: Callable[[str], None] | None = None) -> None:
        """Run a job making a new input and its `Analysis` (with maps when they are shown), then make
        that input current. The newest input wins whatever its source: a dataset image still loading
        when the user starts drawing does not replace the drawing when it arrives."""
        self.drop_pending_inputs(but=key)
        self.submit(key, dataclasses.replace(request, with_maps=self.want_maps), on_result=self.show_analysis,
                    on_error=on_error or self.analysisFailed.emit)

    # -- the dataset ------------------------------------------------------------------------------
    def request_index(self) -> None:
        if self.index is not None:
            self.indexReady.emit(self.index)
        elif not self.is_pending("index"):
            self.submit("index", DatasetIndexRequest(), on_result=self._indexed, on_error=self.indexFailed.emit)

    def _indexed(self, index: DatasetIndex) -> None:
        self.index = index
        self.indexReady.emit(index)

    def request_misclassified(self, split: str) -> None:
        if split in self.misclassified:
            self.misclassifiedReady.emit(self.misclassified[split])
        else:
            self.submit(f"misclassified-{split}", MisclassifiedRequest(split), on_result=self._found_misclassified,
                        on_error=self.analysisFailed.emit)

    def _found_misclassified(self, found: Misclassified) -> None:
        self.misclassified[found.split] = found
        self.misclassifiedReady.emit(found)
