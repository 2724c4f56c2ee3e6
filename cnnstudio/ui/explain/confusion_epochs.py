"""The confusion matrix over the epochs of a run: a slider under the Evaluation page's summary.

A run keeps each epoch's validation predictions (`core.confusion_time.ConfusionTimeline`), so the
matrix of any epoch is there without evaluating again. While an epoch is shown, clicking a cell
lists the images that entered it or left it since the epoch before, and clicking one of those
explains it (with the run's final model). "Show the evaluation" goes back to the page's own result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget
from superqt.utils import signals_blocked

from cnnstudio.core.classification import class_scores
from cnnstudio.core.confusion_time import CellChange, ConfusionTimeline
from cnnstudio.core.errors import UserError
from cnnstudio.core.runs import read_run_info
from cnnstudio.ml.jobs.requests import RunImagesRequest
from cnnstudio.ml.jobs.results import InputImage, RunImages

from .confusion_plot import ConfusionPlot
from .imaging import display_image
from .metrics_table import MetricsTable
from .thumbnails import Thumbnail, ThumbnailGrid

if TYPE_CHECKING:
    from ..context import AppContext

MAX_LISTED = 240  # images listed for a cell or for the misclassified, the most confident first
PLAY_STEP_MS = 700


def class_names_of_run(run_dir: Path, count: int) -> tuple[str, ...]:
    """The class names the run recorded, when they fit; else 0..count-1."""
    info = read_run_info(run_dir) or {}
    data = info.get("dataset") if isinstance(info.get("dataset"), dict) else {}
    names = data.get("class_names")
    if isinstance(names, list) and len(names) >= count:
        return tuple(str(n) for n in names)
    return tuple(str(i) for i in range(count))


@dataclass(frozen=True)
class PageViews:
    """The Evaluation page's views an epoch is drawn into."""

    plot: ConfusionPlot
    summary: QLabel
    table: MetricsTable
    cell_title: QLabel
    thumbnails: ThumbnailGrid


class ConfusionOverEpochs(QWidget):
    """"Over the epochs: [slider] after epoch 3 of 5 [Play] [Show the evaluation]" (``confusionOverEpochs``).

    While `active` it draws into the page's views; the page says whether it has an evaluation of its own to go back to (`evaluation_available`).
    """

    activeChanged = Signal(bool)
    evaluationWanted = Signal()  # "Show the evaluation": the page shows its own result again

    def __init__(self, context: AppContext, views: PageViews, open_image: Callable[[InputImage], None]) -> None:
        super().__init__()
        self.setObjectName("confusionOverEpochs")
        self.context = context
        self.plot, self.summary, self.cell_title, self.thumbnails = (views.plot, views.summary, views.cell_title,
                                                                     views.thumbnails)
        self.table = views.table
        self.open_image = open_image
        self.run_dir: Path | None = None
        self.timeline: ConfusionTimeline | None = None
        self.class_names: tuple[str, ...] = ()
        self.active = False
        self.evaluation_available = False
        self.cell: tuple[int, int] | None = None
        self.change: CellChange | None = None
        self.listed: np.ndarray = np.zeros(0, np.int64)
        self.images: RunImages | None = None
        self._captions: dict[int, tuple[str, str]] = {}

        self.title = QLabel()
        self.title.setObjectName("epochRunLabel")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("epochSlider")
        self.slider.setAccessibleName("Epoch of the confusion matrix")
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Drag to see the confusion matrix after each epoch, from the validation "
                               "predictions the run kept while it trained")
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("epochLabel")
        self.epoch_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("after epoch 000 of 000") + 8)
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playEpochs")
        self.play_button.setToolTip("Step through the epochs from the first")
        self.back_button = QPushButton("Show the evaluation")
        self.back_button.setObjectName("showEvaluation")
        self.back_button.setToolTip("Back to the matrix of the evaluation above")
        self.hint = QLabel()
        self.hint.setObjectName("epochHint")
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.title, 0), (self.slider, 1), (self.epoch_label, 0), (self.play_button, 0),
                                (self.back_button, 0), (self.hint, 1)):
            layout.addWidget(widget, stretch)
        self._timer = QTimer(self, interval=PLAY_STEP_MS)
        self._timer.timeout.connect(self._step)
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderPressed.connect(lambda: self.show_epoch(self.epoch))
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button.clicked.connect(self.evaluationWanted)
        context.model_source.changed.connect(lambda _run: self.load())

    # ------------------------------------------------------------------ the run
    @property
    def epoch(self) -> int | None:
        if self.timeline is None or not self.timeline.epochs:
            return None
        return self.timeline.epochs[min(max(self.slider.value(), 0), len(self.timeline.epochs) - 1)]

    def load(self) -> bool:
        """Read the kept predictions of the inspected run (none: the untrained network, or a run without)."""
        run = self.context.model_source.run_dir
        self.stop()
        self.deactivate()
        self.run_dir, self.timeline = run, None
        if run is not None:
            try:
                self.timeline = ConfusionTimeline.of_run(run)
            except UserError:
                self.timeline = None
        epochs = self.timeline.epochs if self.timeline is not None else []
        shown = bool(epochs)
        for widget in (self.slider, self.epoch_label, self.play_button):
            widget.setVisible(shown)
        self.back_button.hide()
        self.title.setText(f"Over the epochs of {run.name}:" if shown else "")
        self.title.setVisible(shown)
        self.hint.setText("" if shown or run is None else
                          f"{run.name} kept no validation predictions per epoch, so its matrix cannot be "
                          "followed over the epochs")
        self.hint.setVisible(bool(self.hint.text()))
        self.setVisible(run is not None)
        if shown:
            self.class_names = class_names_of_run(run, self.timeline.num_classes)
            with signals_blocked(self.slider):
                self.slider.setRange(0, len(epochs) - 1)
                self.slider.setValue(len(epochs) - 1)
            self._show_epoch_label()
            self.show_epoch(self.epoch)  # the run's last matrix at once, without evaluating again
        return shown

    def _show_epoch_label(self) -> None:
        epochs = self.timeline.epochs
        self.epoch_label.setText(f"after epoch {self.epoch} of {epochs[-1]}")

    # ------------------------------------------------------------------ showing an epoch
    def _slid(self, _value: int) -> None:
        self._show_epoch_label()
        self.show_epoch(self.epoch)

    def go_to(self, epoch: int) -> None:
        """Move the slider to an epoch (and show it)."""
        position = self.timeline.epochs.index(epoch)
        if position == self.slider.value():
            self.show_epoch(epoch)
        else:
            self.slider.setValue(position)

    def show_epoch(self, epoch: int | None) -> None:
        """Draw the matrix kept after `epoch`, keeping the chosen cell's list up to date."""
        if epoch is None or self.timeline is None:
            return
        self._set_active(True)
        matrix = self.timeline.matrix(epoch)
        self.plot.set_matrix(matrix, self.class_names)
        self.table.show_scores(self.class_names, class_scores(matrix))
        total = int(matrix.sum())
        right = int(np.trace(matrix))
        self.summary.setText(
            f"<b>Accuracy {right / max(total, 1):.1%}</b> on {total:,} validation images after epoch {epoch} of "
            f"{self.timeline.epochs[-1]} ({total - right:,} misclassified) · from the predictions "
            f"{self.run_dir.name} kept while it trained")
        if self.cell is not None:
            self.show_cell(*self.cell)
        elif self.change is None and len(self.listed):
            self.show_misclassified()

    def show_cell(self, true: int, predicted: int) -> CellChange:
        """List the images that entered or left a cell since the epoch before (most confident first)."""
        epoch = self.epoch
        change = self.timeline.cell(epoch, true, predicted)
        self.cell, self.change = (true, predicted), change
        self.plot.select(self.cell)
        names = self.class_names
        verdict = "correctly classified" if true == predicted else f"predicted {names[predicted]}"
        count = len(change.images)
        earlier = [e for e in self.timeline.epochs if e < epoch]
        if earlier:
            moved = (f"since epoch {earlier[-1]}, {len(change.entered):,} entered and {len(change.left):,} "
                     f"left{_destinations(change, names)}")
        else:
            moved = "all entered in the first epoch"
        self.cell_title.setText(f"True {names[true]}, {verdict} after epoch {epoch}: {count:,} "
                                f"image{'s' * (count != 1)}; {moved}.")
        entered, left = change.entered[:MAX_LISTED], change.left[:MAX_LISTED]
        self._captions = {int(i): ("entered", "") for i in entered}
        self._captions.update({int(i): ("left", names[int(to)]) for i, to in zip(change.left, change.left_to)
                               if int(i) in set(left.tolist())})
        self._request(np.concatenate([entered, left]))
        return change

    def show_misclassified(self) -> None:
        """Every image the run got wrong after the shown epoch, the most confident mistakes first."""
        epoch = self.epoch
        kept = self.timeline.predictions
        predicted, confidence = kept.at(epoch), kept.confidence[epoch]
        wrong = np.flatnonzero(predicted != kept.labels)
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
        self.cell, self.change = None, None
        self.plot.select(None)
        self.cell_title.setText(f"Misclassified after epoch {epoch}: {len(wrong):,} image{'s' * (len(wrong) != 1)}"
                                + (", the most confident first." if len(wrong) > 1 else "."))
        self._captions = {int(i): ("wrong", "") for i in wrong[:MAX_LISTED]}
        self._request(wrong[:MAX_LISTED])

    def _request(self, indices: np.ndarray) -> None:
        self.listed = np.asarray(indices, dtype=np.int64)
        self.thumbnails.clear()
        if not len(self.listed):
            return
        self.context.ml.run(RunImagesRequest(self.run_dir, tuple(int(i) for i in self.listed)),
                            key="epoch-cell-images", on_result=self._show_images, on_error=self._failed)

    def _show_images(self, found: RunImages) -> None:
        if not self.active or found.run_dir != self.run_dir or not np.array_equal(found.indices, self.listed):
            return  # an answer to an earlier question
        self.images = found
        kept, epoch = self.timeline.predictions, self.epoch
        names = self.class_names
        thumbnails = []
        for position, index in enumerate(found.indices.tolist()):
            how, to = self._captions.get(index, ("", ""))
            label, guess = names[int(kept.labels[index])], names[int(kept.at(epoch)[index])]
            sure = float(kept.confidence[epoch][index])
            caption = {"entered": f"+ #{index} {sure:.0%}", "left": f"− #{index} → {to}"}.get(
                how, f"{label}→{guess} {sure:.0%}")
            where = {"entered": "entered this cell", "left": f"left this cell (now predicted {to})"}.get(how, "")
            thumbnails.append(Thumbnail(display_image(found.images[position]), caption, index,
                                        f"validation image {index}: a {label}, predicted {guess} with probability "
                                        f"{sure:.1%} after epoch {epoch}" + (f"; {where}" if where else "")))
        self.thumbnails.set_thumbnails(thumbnails)

    def _failed(self, message: str) -> None:
        self.cell_title.setText(f"{self.cell_title.text()} The pictures could not be loaded: {message}")

    def open_index(self, index: int) -> None:
        """Explain one listed image with the run's model."""
        found = self.images
        if found is None or index not in found.indices:
            return
        position = int(np.flatnonzero(found.indices == index)[0])
        kept, epoch = self.timeline.predictions, self.epoch
        label = int(kept.labels[index])
        self.open_image(InputImage(
            np.array(found.images[position]),
            f"validation image {index} (a {self.class_names[label]}, predicted "
            f"{self.class_names[int(kept.at(epoch)[index])]} after epoch {epoch})",
            label=label, origin="dataset", split="validation", index=int(index)))

    # ------------------------------------------------------------------ state
    def _set_active(self, active: bool) -> None:
        if active != self.active:
            self.active = active
            self.back_button.setVisible(active and self.evaluation_available)
            if not active:
                self.cell, self.change, self.images = None, None, None
                self.listed = np.zeros(0, np.int64)
            self.activeChanged.emit(active)

    def deactivate(self) -> None:
        """The page shows its own evaluation again."""
        self.stop()
        self._set_active(False)

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self.stop()
            return
        if self.slider.value() >= self.slider.maximum():
            self.slider.setValue(0)
        self.show_epoch(self.epoch)
        self.play_button.setText("Pause")
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.play_button.setText("Play")

    def _step(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.stop()
        else:
            self.slider.setValue(self.slider.value() + 1)


def _destinations(change: CellChange, names: tuple[str, ...]) -> str:
    """" (now predicted 7 and 4)": where the images that left went."""
    if not len(change.left):
        return ""
    went = [names[int(c)] for c in dict.fromkeys(change.left_to.tolist())]
    shown = ", ".join(went[:-1]) + f" and {went[-1]}" if len(went) > 1 else went[0]
    return f" (now predicted {shown})"
