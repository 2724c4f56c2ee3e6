"""The Training tab: what the run is, a plain-words hint, the live curves and the live look inside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from cnnstudio.core.datasets import FIXED_NAMES, dataset_info
from cnnstudio.ml.jobs.requests import FinalLookRequest, RunRequest
from cnnstudio.ml.training.reporting import EpochReport, Snapshot, TrainingResult

from ..context import AppContext
from ..reflow import SteadyLabel
from ..theme import ERROR_COLOR, WARNING_COLOR
from .controller import TrainingController
from .curves import TrainingCurves
from .hints import Hint, fitting_hint
from .live import LiveLookInside

WELCOME = ("Press Train (F5) to train the network. The loss and accuracy curves appear here as it learns, and on "
           "the right its first layer's filters and feature maps.")
HINT_EVERY_MS = 2000  # the per-batch evidence for a hint is looked at every 2 s


class TrainingView(QWidget):
    """Curves on the left, filters and feature maps on the right, a hint or a problem above them."""

    def __init__(self, controller: TrainingController, context: AppContext) -> None:
        super().__init__(context.parent)
        self.setObjectName("trainingView")
        self.controller = controller
        self.context = context
        self._run = 0  # counts runs, so a late answer about an old run is dropped
        self.hint: Hint | None = None
        self._num_classes: int | None = None
        self.caption = SteadyLabel(WELCOME)  # changes at Start: it must not resize the plots as it does
        self.caption.setObjectName("trainingRunCaption")
        self.caption.setMinimumHeight(2 * self.caption.fontMetrics().lineSpacing() + 2)
        self.banner = QLabel()
        self.banner.setObjectName("trainingHint")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.curves = TrainingCurves()
        self.curves.saved.connect(context.messages.show)
        self.live = LiveLookInside()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self.curves)
        split.addWidget(self.live)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([700, 460])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.caption)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        self._hint_timer = QTimer(self, interval=HINT_EVERY_MS)
        self._hint_timer.timeout.connect(self.update_hint)
        controller.runStarting.connect(self._on_run_starting)
        controller.started.connect(self._on_started)
        controller.batch.connect(self.curves.add_batch)
        controller.epoch.connect(self._on_epoch)
        controller.snapshot.connect(self.live.show_snapshot)
        controller.probe.connect(self.live.set_probe)
        controller.resultReady.connect(self._on_result)
        controller.failed.connect(lambda text: self.show_banner(text, ERROR_COLOR))
        controller.stateChanged.connect(self._on_state)
        context.document.projectReplaced.connect(self._on_project_replaced)

    def _on_run_starting(self, request: RunRequest) -> None:
        self._run += 1
        epochs = request.project.training.get("epochs")
        self.curves.start_run(epochs if isinstance(epochs, int) else None)
        self.live.start_run(request.watch_layer)
        self.hint = None
        self.banner.hide()
        self._num_classes = _num_classes(request.project.dataset.get("name"))
        label = f" ({request.label})" if request.label else ""
        self.caption.setText(f"{request.project.name}{label} on {request.project.dataset.get('name')}: preparing…")

    def _on_project_replaced(self) -> None:
        """Another project: the last run's curves belong to the old one (they stay in its run folder)."""
        if self.controller.is_running:
            return
        self._run += 1
        self.curves.start_run(None)
        self.live.reset()
        self.hint = None
        self.banner.hide()
        self.caption.setText(WELCOME)

    def _on_started(self, run_dir: Path) -> None:
        request = self.controller.request
        if request is not None:
            label = f" ({request.label})" if request.label else ""
            self.caption.setText(f"{request.project.name}{label} on {request.project.dataset.get('name')} — "
                                 f"run {run_dir.name}, saved in {run_dir.parent}")

    def _on_epoch(self, report: EpochReport) -> None:
        self.curves.add_epoch(report)
        self.update_hint()

    def _on_state(self, state: str) -> None:
        if state == "idle":
            self._hint_timer.stop()
        elif not self._hint_timer.isActive():
            self._hint_timer.start()

    def update_hint(self) -> Hint | None:
        """Read the curves for over- or under-fitting and say so above them."""
        hint = fitting_hint(self.curves.epochs.rows, self.curves.batches.loss.values.tolist(), self._num_classes)
        if hint != self.hint:
            self.hint = hint
            self.curves.mark_hint(hint)
            if hint is None:
                self.banner.hide()
            else:
                self.show_banner(hint.text, WARNING_COLOR)
        return hint

    def _on_result(self, result: TrainingResult) -> None:
        self.curves.redraw_now()
        if result.stopped_reason == "diverged":
            self.curves.mark_stop("loss became NaN or infinite here")
            self.show_banner(result.message[:1].upper() + result.message[1:], ERROR_COLOR)
        else:
            self.update_hint()
        self._final_look(result)

    def _final_look(self, result: TrainingResult) -> None:
        """Snapshots come every 2 s; the filters as training left them come from the saved model."""
        live, source = self.live, self.context.model_source.run_dir
        if live.layer is None or live.probe is None or result.run_dir is None \
                or source is None or source != result.run_dir:
            return
        run = self._run

        def show(snapshot: Snapshot) -> None:
            if run == self._run:
                live.show_snapshot(snapshot)

        self.context.ml.with_model(FinalLookRequest(live.layer, live.probe.image, result.epochs), on_result=show,
                                   on_error=lambda _text: None, key="training-final-look")

    def show_banner(self, text: str, color: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel {{ border: 1px solid {color}; border-left: 4px solid {color}; "
                                  "padding: 4px 6px; border-radius: 3px; }")
        self.banner.show()


def _num_classes(name: Any) -> int | None:
    try:
        return dataset_info(name).num_classes if name in FIXED_NAMES else None
    except Exception:  # the dataset panel reports an unusable name
        return None
