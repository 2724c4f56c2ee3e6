"""The "What a filter responds to" page (objectName ``maximizeView``): activation maximization.

For a chosen layer's filters, or for the output classes, an image is grown from faint
noise by gradient ascent (with jitter and total-variation smoothing, as tf-keras-vis and
Lucid do) until the target responds strongly. Each result shows how strong the response
became, against the starting noise. Runs on the ML thread with progress and Cancel.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.errors import UserError
from cnnstudio.ml.jobs.requests import MaximizeRequest
from cnnstudio.ml.jobs.results import MaximizeOutcome, ModelFacts

from ..saving import PNG_FILTER, ask_and_save, save_widget_png
from .imaging import display_image
from .job_bar import JobBar
from .thumbnails import Thumbnail, ThumbnailGrid

if TYPE_CHECKING:
    from ..context import AppContext

# The defaults of cnnstudio.ml.inspection.Ascent (the GUI thread does not import the ml package).
DEFAULT_STEPS, DEFAULT_STEP_SIZE, DEFAULT_JITTER, DEFAULT_TV = 128, 0.05, 2, 0.02


def parse_indices(text: str, count: int | None = None) -> list[int] | None:
    """'0, 3, 8-11' -> [0, 3, 8, 9, 10, 11]; '' or 'all' -> None. UserError in plain words."""
    text = text.strip().lower()
    if text in ("", "all"):
        return None
    found: list[int] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,\s;]+", text))):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise UserError(f"'{part}' is not a number or a range; write e.g. 0, 3, 8-11")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first:
            raise UserError(f"the range {part} runs backwards; write it as {last}-{first}")
        found.extend(range(first, last + 1))
    if count is not None and found and max(found) >= count:
        raise UserError(f"there are only {count} to choose from (0 to {count - 1}); {max(found)} is too high")
    return list(dict.fromkeys(found))


class MaximizePage(QWidget):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.setObjectName("maximizeView")
        self.context = context
        self.outcome: MaximizeOutcome | None = None
        self.facts: Any = None

        self.kind = QComboBox()
        self.kind.setObjectName("maximizeTarget")
        self.kind.setAccessibleName("What to maximize")
        self.kind.addItem("Filters of a layer", "filters")
        self.kind.addItem("Output classes", "classes")
        self.layer = QComboBox()
        self.layer.setObjectName("maximizeLayer")
        self.layer.setAccessibleName("Layer")
        self.layer.setMinimumContentsLength(14)
        self.first = QSpinBox()
        self.first.setObjectName("maximizeFirst")
        self.first.setAccessibleName("First filter")
        self.first.setRange(1, 4096)
        self.first.setValue(16)
        self.first.setPrefix("first ")
        self.chosen = QLineEdit()
        self.chosen.setObjectName("maximizeChosen")
        self.chosen.setAccessibleName("Chosen filters")
        self.chosen.setPlaceholderText("or these, e.g. 0, 3, 8-11")
        self.chosen.setToolTip("Filter (or class) numbers; when given, they replace 'first N'")
        self.steps = QSpinBox()
        self.steps.setObjectName("maximizeSteps")
        self.steps.setAccessibleName("Steps")
        self.steps.setRange(1, 100_000)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip("Gradient-ascent steps (more: stronger, cleaner images; each step is one pass)")
        self.step_size = QDoubleSpinBox()
        self.step_size.setObjectName("maximizeLearningRate")
        self.step_size.setAccessibleName("Step size")
        self.step_size.setDecimals(3)
        self.step_size.setRange(0.001, 1.0)
        self.step_size.setSingleStep(0.01)
        self.step_size.setValue(DEFAULT_STEP_SIZE)
        self.step_size.setToolTip("How far each step moves the pixels (images live in 0..1)")
        self.jitter = QSpinBox()
        self.jitter.setObjectName("maximizeJitter")
        self.jitter.setAccessibleName("Jitter in pixels")
        self.jitter.setRange(0, 16)
        self.jitter.setValue(DEFAULT_JITTER)
        self.jitter.setSuffix(" px")
        self.jitter.setToolTip("Random shift at every step: the pattern must work wherever it sits (no pixel tricks)")
        self.tv_weight = QDoubleSpinBox()
        self.tv_weight.setObjectName("maximizeTvWeight")
        self.tv_weight.setAccessibleName("Smoothness weight")
        self.tv_weight.setDecimals(3)
        self.tv_weight.setRange(0.0, 10.0)
        self.tv_weight.setSingleStep(0.01)
        self.tv_weight.setValue(DEFAULT_TV)
        self.tv_weight.setToolTip("Total-variation penalty: higher values give smoother images")
        self.icon_size = QSpinBox()
        self.icon_size.setObjectName("maximizeImageSize")
        self.icon_size.setAccessibleName("Image size")
        self.icon_size.setRange(48, 320)
        self.icon_size.setSingleStep(16)
        self.icon_size.setValue(144)
        self.icon_size.setSuffix(" px")
        self.icon_size.setToolTip("How large the result images are drawn")

        target_box = QGroupBox("What to show")
        grid = QGridLayout(target_box)
        grid.addWidget(QLabel("Target"), 0, 0)
        grid.addWidget(self.kind, 0, 1, 1, 2)
        self.layer_label = QLabel("Layer")
        grid.addWidget(self.layer_label, 1, 0)
        grid.addWidget(self.layer, 1, 1, 1, 2)
        self.which_label = QLabel("Filters")
        grid.addWidget(self.which_label, 2, 0)
        grid.addWidget(self.first, 2, 1)
        grid.addWidget(self.chosen, 2, 2)
        ascent_box = QGroupBox("Gradient ascent")
        form = QGridLayout(ascent_box)
        for row, (text, widget) in enumerate((("Steps", self.steps), ("Learning rate", self.step_size))):
            form.addWidget(QLabel(text), row, 0)
            form.addWidget(widget, row, 1)
        for row, (text, widget) in enumerate((("Jitter", self.jitter), ("TV weight", self.tv_weight))):
            form.addWidget(QLabel(text), row, 2)
            form.addWidget(widget, row, 3)
        settings_row = QHBoxLayout()
        settings_row.addWidget(target_box, 3)
        settings_row.addWidget(ascent_box, 2)

        self.bar = JobBar("Run", "maximize")
        self.bar.run_button.clicked.connect(self.run)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setObjectName("exportMaximizePng")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_png)
        run_row = QHBoxLayout()
        run_row.addWidget(self.bar, 1)
        run_row.addWidget(QLabel("Size"))
        run_row.addWidget(self.icon_size)
        run_row.addWidget(self.export_button)

        self.summary = QLabel("Choose a layer and press Run: each image is grown from noise until the filter "
                              "responds to it as strongly as it can.")
        self.summary.setObjectName("maximizeSummary")
        self.summary.setWordWrap(True)
        self.grid = ThumbnailGrid(self.icon_size.value())
        self.grid.setObjectName("maximizeResults")
        self.grid.setAccessibleName("Result images")

        layout = QVBoxLayout(self)
        layout.addLayout(settings_row)
        layout.addLayout(run_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.grid, 1)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.icon_size.valueChanged.connect(self._resize_images)
        context.ml.modelReady.connect(self._model_ready)
        context.ml.stale.connect(self._model_stale)
        self._kind_changed()

    # ------------------------------------------------------------------ choices
    @property
    def kind_key(self) -> str:
        return str(self.kind.currentData())

    def _kind_changed(self) -> None:
        filters = self.kind_key == "filters"
        self.layer.setVisible(filters)
        self.layer_label.setVisible(filters)
        self.which_label.setText("Filters" if filters else "Classes")
        self.first.setValue(16 if filters else 10)

    def _model_ready(self, facts: ModelFacts) -> None:
        self.facts = facts
        chosen = self.layer.currentData()
        with signals_blocked(self.layer):
            self.layer.clear()
            for layer in facts.layers:
                if layer.is_spatial and layer.output_shape:
                    self.layer.addItem(f"{layer.name}  ({layer.output_shape[-1]} filters)", layer.name)
            default = chosen if chosen is not None else facts.grad_cam_layer
            self.layer.setCurrentIndex(max(self.layer.findData(default), 0))

    def _model_stale(self) -> None:
        """The network was edited or another run chosen: its layers may differ, so look again."""
        self.facts = None
        if self.isVisible():
            self.context.ml.load_model()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.facts is None:
            self.context.ml.load_model()  # fills the layer list

    def set_layer(self, name: str) -> None:
        self.layer.setCurrentIndex(self.layer.findData(name))

    def targets(self) -> list[int] | int:
        """The filters (or classes) to show: the chosen numbers, or N for "the first N"."""
        count = None
        if self.kind_key == "filters" and self.facts is not None:
            shape = {layer.name: layer.output_shape for layer in self.facts.layers}.get(self.layer.currentData())
            count = int(shape[-1]) if shape else None
        chosen = parse_indices(self.chosen.text(), count)
        return self.first.value() if chosen is None else chosen

    def settings(self) -> dict[str, Any]:
        return {"steps": self.steps.value(), "step_size": self.step_size.value(),
                "jitter": self.jitter.value(), "tv_weight": self.tv_weight.value()}

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        if self.bar.running:
            return
        kind = self.kind_key
        layer = self.layer.currentData() if kind == "filters" else None
        if kind == "filters" and not layer:
            self.bar.status.setText("The model has no layer with feature maps to show yet.")
            self.context.ml.load_model()
            return
        try:
            targets = self.targets()
        except UserError as exc:
            self.bar.status.setText(str(exc))
            return
        job = self.context.ml.with_model(
            MaximizeRequest(kind, layer, targets if isinstance(targets, int) else tuple(targets), self.settings()),
            key="maximize",
            on_result=self._finished, on_error=self._failed, on_event=self._event)
        self.bar.started(job, "Loading the model…")

    def _event(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            if self.bar.status.text().startswith("Loading"):
                self.bar.status.setText("Growing images from noise…")
            self.bar.set_progress(*payload, unit="steps")

    def _failed(self, message: str) -> None:
        self.bar.finished(f"Not run: {message}")
        self.context.messages.show("error", f"What a filter responds to: {message}")

    def _finished(self, outcome: MaximizeOutcome) -> None:
        self.outcome = outcome
        self._show(outcome)
        if outcome.cancelled:
            self.bar.finished(f"Cancelled after {outcome.steps} of {outcome.total_steps} steps: the images "
                              f"reached so far are shown.")
        else:
            self.bar.finished(f"Done: {outcome.steps} steps.")
        self.export_button.setEnabled(True)

    def _show(self, outcome: MaximizeOutcome) -> None:
        self.grid.set_thumbnails(self._thumbnails(outcome))
        gain = outcome.objective - outcome.start_objective
        raised = int(np.sum(gain > 0))
        what = (f"{len(outcome.targets)} filter{'s' * (len(outcome.targets) != 1)} of {outcome.layer}"
                if outcome.kind == "filters" else f"{len(outcome.targets)} output class"
                f"{'es' * (len(outcome.targets) != 1)}")
        measure = "mean activation" if outcome.kind == "filters" else "probability"
        self.summary.setText(f"{what}, {outcome.steps} steps, model {outcome.source}: the {measure} rose above "
                             f"the starting noise's for {raised} of {len(outcome.targets)}. Under each image: "
                             f"the {measure} reached (and on the noise it started from).")

    def _thumbnails(self, outcome: MaximizeOutcome) -> list[Thumbnail]:
        made = []
        for i, target in enumerate(outcome.targets):
            reached, start = float(outcome.objective[i]), float(outcome.start_objective[i])
            if outcome.kind == "classes":
                names = outcome.class_names
                name = names[target] if target < len(names) else str(target)
                caption = f"class {name}\n{reached:.1%} (noise {start:.1%})"
                tip = f"The network gives class {name} a probability of {reached:.2%} on this image " \
                      f"({start:.2%} on the starting noise)"
            else:
                caption = f"filter {target}\n{reached:.3g} (noise {start:.2g})"
                tip = f"Filter {target} of {outcome.layer}: mean activation {reached:.4g} on this image, " \
                      f"{start:.4g} on the starting noise"
            made.append(Thumbnail(display_image(outcome.images[i]), caption, int(target), tip))
        return made

    def _resize_images(self, size: int) -> None:
        self.grid.set_icon_size(size)
        if self.outcome is not None:
            self.grid.set_thumbnails(self._thumbnails(self.outcome))

    # ------------------------------------------------------------------ export
    def export_png(self, path: str) -> str:
        return str(save_widget_png(self.grid.viewport(), path, scale=2.0))

    def _export_png(self) -> None:
        ask_and_save(self, "Export the Images as PNG", "what-filters-respond-to.png", PNG_FILTER, self.export_png,
                     self.context.messages.show)
