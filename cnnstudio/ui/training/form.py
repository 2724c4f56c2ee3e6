"""The training settings form: the task, optimizer, learning rate and schedule, batch size, epochs,
loss, metrics, early stopping, seed — with `TrainingSettings`' defaults and a student's tooltips.

The task row says what "auto" chooses for the project's data and output layer (segmentation,
regression, ...), or why neither fits, and follows edits of the network and the dataset.

Every edit goes into the document's evented training settings (which mark the project
modified); the form shows whatever they hold, after a new project too. Validation split
and normalization belong to the dataset panel.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.catalog.training import (
    DEFAULT_WEIGHT_DECAY,
    LOSSES,
    OPTIMIZER_SPECS,
    SCHEDULE_DEFAULTS,
    SCHEDULES,
)
from cnnstudio.core.datasets import dataset_info, parse_dataset_name
from cnnstudio.core.errors import UserError
from cnnstudio.core.project_settings import TrainingChoices
from cnnstudio.core.tasks import AUTO, TASK_TITLES, TASKS, implied_task
from cnnstudio.ui import tab_order

from ..document import ProjectDocument
from .fine_tune_row import FineTuneRow

DEFAULTS = TrainingChoices()
DEFAULT_PATIENCE = 3

LABELS = {
    "task": "Task", "optimizer": "Optimizer", "learning_rate": "Learning rate", "momentum": "Momentum",
    "weight_decay": "Weight decay", "schedule": "Rate schedule", "batch_size": "Batch size", "epochs": "Epochs",
    "loss": "Loss", "metrics": "Metrics", "early_stopping": "Early stopping", "seed": "Seed",
    "max_steps_per_epoch": "Batches per epoch", "fine_tune": "Fine-tuning",
}
TIPS = {
    "task": "What the network learns: one class per image, yes/no (one sigmoid unit), several labels per image, "
            "a class for every pixel (segmentation) or numbers (regression). auto follows the data's targets and "
            "the output layer; the loss and the figures (accuracy, mean IoU, MAE, AUC) follow the task.",
    "optimizer": "How the weights are nudged after each batch. adam adapts the step size for every weight and "
                 "is a good first choice; sgd is plain gradient descent (add momentum to speed it up).",
    "learning_rate": "How big a step the optimizer takes. Too small: the loss falls very slowly. Too large: "
                     "the loss jumps around or becomes NaN. About 0.001 suits adam, 0.01 to 0.1 suits sgd.",
    "momentum": "sgd and rmsprop: how much of the previous step is carried into the next (0.9 is common). "
                "It helps training roll through small bumps in the loss.",
    "weight_decay": "adamw: shrinks every weight a little at each step, which discourages over-fitting.",
    "schedule": "How the learning rate changes from epoch to epoch: constant; step (cut by a factor every few "
                "epochs); cosine (glides down to a minimum by the last epoch); plateau (cut when the "
                "validation loss stops improving).",
    "batch_size": "How many images are looked at before each weight update. Larger: faster per image and "
                  "smoother, but fewer updates and more memory. Smaller: noisier, more updates.",
    "epochs": "How many times training goes through all the training images.",
    "loss": "What training tries to make small. auto picks the cross-entropy that suits the output layer "
            "(softmax: sparse categorical; one sigmoid unit: binary).",
    "metrics": "Accuracy (the share of images classified right) is always measured. Top-k accuracy counts an "
               "image as right when its true class is among the k highest scores.",
    "early_stopping": "Stop when the validation loss has not improved for this many epochs, and keep the "
                      "weights of the best epoch. A guard against over-fitting.",
    "seed": "Fixes the random starting weights and the order of the images: the same seed gives the same "
            "curves (on the CPU).",
    "max_steps_per_epoch": "Cut every epoch short after this many batches, for quick tries. 'All' goes through "
                           "every training image.",
    "fine_tune": "The head first with the pretrained backbone frozen, then the backbone's top layers too at a lower "
                 "learning rate, in one run.",
}
SCHEDULE_FIELDS = {  # key -> (label, tooltip, kind)
    "every": ("Cut every (epochs)", "The learning rate is multiplied by the factor after this many epochs.", int),
    "factor": ("Factor", "What the learning rate is multiplied by at each cut (0.5 halves it).", float),
    "min_fraction": ("Lowest rate (fraction)", "Where cosine ends, as a fraction of the starting rate.", float),
    "patience": ("Patience (epochs)", "How many epochs without a better validation loss before a cut.", int),
    "min_lr": ("Lowest rate", "The learning rate is never cut below this.", "rate"),
}
OPTIMIZER_EXTRAS = {  # setting -> the optimizers that take it
    "momentum": tuple(spec.name for spec in OPTIMIZER_SPECS if spec.momentum),
    "weight_decay": tuple(spec.name for spec in OPTIMIZER_SPECS if spec.weight_decay),
}


class RateSpinBox(QDoubleSpinBox):
    """A learning rate: shown as 0.001 or 1e-05, stepped 1, 2, 5, 10, 20, ... (a log scale)."""

    def __init__(self, parent: QWidget | None = None, minimum: float = 1e-7, maximum: float = 10.0) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            partial = text == "" or all(ch in "0123456789.eE-+" for ch in text)
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid, text, pos)
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate, text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        self.setValue(step_rate(self.value(), steps))


def step_rate(value: float, steps: int) -> float:
    """The 1-2-5 sequence: 0.001 -> 0.002 -> 0.005 -> 0.01 (steps up) and back down."""
    ladder = (1.0, 2.0, 5.0)
    exponent = math.floor(math.log10(value))
    mantissa = value / 10 ** exponent
    index = min(range(3), key=lambda i: abs(ladder[i] - mantissa))
    position = exponent * 3 + index + steps
    exponent, index = divmod(position, 3)
    return float(f"{ladder[index] * 10 ** exponent:.12g}")


class TrainingForm(QWidget):
    """The settings of the next run, read from and written to the document's training settings."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingForm")
        self.document = document
        self.settings = document.settings.training
        self.fields: dict[str, QWidget] = {}
        self._schedule_fields: dict[str, QWidget] = {}
        form = self.form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow dock puts labels above
        task = QComboBox()
        task.addItem("auto", AUTO)
        for name in TASKS:
            task.addItem(TASK_TITLES[name], name)
        task.currentIndexChanged.connect(lambda _i: self._write("task", task.currentData()))
        self.task_note = QLabel()
        self.task_note.setObjectName("taskNote")
        self.task_note.setWordWrap(True)
        self.task_note.setToolTip(TIPS["task"])
        optimizer = QComboBox()
        optimizer.addItems([spec.name for spec in OPTIMIZER_SPECS])
        optimizer.currentTextChanged.connect(lambda v: self._write("optimizer", v))
        rate = RateSpinBox()
        rate.valueChanged.connect(lambda v: self._write("learning_rate", v))
        momentum = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.99, singleStep=0.05)
        momentum.valueChanged.connect(lambda v: self._write("momentum", v))
        decay = QDoubleSpinBox(decimals=4, minimum=0.0, maximum=1.0, singleStep=0.001)
        decay.valueChanged.connect(lambda v: self._write("weight_decay", v))
        schedule = QComboBox()
        schedule.addItems(list(SCHEDULES))
        schedule.currentTextChanged.connect(self._schedule_chosen)
        batch = QSpinBox(minimum=1, maximum=65536)
        batch.valueChanged.connect(lambda v: self._write("batch_size", v))
        epochs = QSpinBox(minimum=1, maximum=100000)
        epochs.valueChanged.connect(lambda v: self._write("epochs", v))
        loss = QComboBox()
        for name in LOSSES:
            loss.addItem(name.replace("_", " "), name)
        loss.currentIndexChanged.connect(lambda _i: self._write("loss", loss.currentData()))
        metrics = self._metrics_row()
        early = self._early_stopping_row()
        seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        seed.valueChanged.connect(lambda v: self._write("seed", v))
        steps = QSpinBox(minimum=0, maximum=10**7)
        steps.setSpecialValueText("All")
        steps.valueChanged.connect(lambda v: self._write("max_steps_per_epoch", v or None))
        self._add_row("task", task)
        form.addRow("", self.task_note)
        for key, widget in (("optimizer", optimizer), ("learning_rate", rate), ("momentum", momentum),
                            ("weight_decay", decay), ("schedule", schedule)):
            self._add_row(key, widget)
        self._schedule_anchor = form.rowCount()
        self.fine_tune = FineTuneRow(lambda recipe: self._write("fine_tune", recipe))
        for key, widget in (("batch_size", batch), ("epochs", epochs), ("loss", loss), ("metrics", metrics),
                            ("early_stopping", early), ("seed", seed), ("max_steps_per_epoch", steps),
                            ("fine_tune", self.fine_tune)):
            self._add_row(key, widget)
        self._loading = False
        self.settings.changed.connect(self._settings_changed)
        document.settings.data.changed.connect(lambda keys: self.show_task())
        document.analysisChanged.connect(lambda _analysis: self.show_task())
        document.analysisChanged.connect(lambda _analysis: self._refresh_fine_tune())
        self.load()

    def _add_row(self, key: str, widget: QWidget) -> None:
        widget.setObjectName(f"trainingField_{key}")
        if isinstance(widget, QComboBox):
            widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            widget.setMinimumContentsLength(8)
        widget.setToolTip(TIPS[key])
        self.fields[key] = widget
        self.form.addRow(LABELS[key], widget)
        label = self.form.labelForField(widget)
        if label is not None:
            label.setToolTip(TIPS[key])

    def _metrics_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.top_k_check = QCheckBox("top-k accuracy, k =")
        self.top_k_check.setObjectName("trainingField_top_k_on")
        self.top_k_box = QSpinBox(minimum=1, maximum=1000)
        self.top_k_box.setObjectName("trainingField_top_k")
        self.top_k_box.setAccessibleName("k of top-k accuracy")
        self.top_k_check.toggled.connect(self._metrics_edited)
        self.top_k_box.valueChanged.connect(lambda v: self._write("top_k", v))
        layout.addWidget(self.top_k_check)
        layout.addWidget(self.top_k_box)
        layout.addStretch(1)
        return row

    def _early_stopping_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.early_check = QCheckBox("after")
        self.early_check.setObjectName("trainingField_early_stopping_on")
        self.early_check.setAccessibleName("Stop early")
        self.patience_box = QSpinBox(minimum=1, maximum=1000, suffix=" epochs without progress")
        self.patience_box.setObjectName("trainingField_patience")
        self.patience_box.setAccessibleName("Epochs without progress before stopping")
        self.early_check.toggled.connect(self._early_edited)
        self.patience_box.valueChanged.connect(self._early_edited)
        layout.addWidget(self.early_check)
        layout.addWidget(self.patience_box, 1)
        return row

    # ------------------------------------------------------------------ model -> form
    def load(self) -> None:
        """Show the project's training settings (defaults for the keys it leaves out)."""
        value = self.settings.get
        self._loading = True
        try:
            f = self.fields
            _set_combo(f["task"], value("task"))
            _set_combo(f["optimizer"], value("optimizer"))
            f["learning_rate"].setValue(_float(value("learning_rate"), DEFAULTS.learning_rate))
            f["momentum"].setValue(_float(value("momentum"), 0.0))
            f["weight_decay"].setValue(_float(value("weight_decay"), DEFAULT_WEIGHT_DECAY))
            _set_combo(f["schedule"], value("schedule"))
            f["batch_size"].setValue(_int(value("batch_size"), DEFAULTS.batch_size))
            f["epochs"].setValue(_int(value("epochs"), DEFAULTS.epochs))
            _set_combo(f["loss"], value("loss"))
            metrics = value("metrics") or ()
            self.top_k_check.setChecked("top_k" in metrics)
            self.top_k_box.setValue(_int(value("top_k"), DEFAULTS.top_k))
            patience = value("early_stopping")
            self.early_check.setChecked(patience is not None)
            self.patience_box.setValue(_int(patience, DEFAULT_PATIENCE))
            f["seed"].setValue(_int(value("seed"), 0))
            f["max_steps_per_epoch"].setValue(_int(value("max_steps_per_epoch"), 0))
            self.fine_tune.show(value("fine_tune"), f["epochs"].value(), self.document.network)
            self._show_schedule_fields()
            self._show_optimizer_extras()
        finally:
            self._loading = False
        self.show_task()

    def show_task(self) -> None:
        """Say what the network will be trained for (what "auto" picks), or why the task cannot be."""
        self.task_note.setText(task_note(self.document, str(self.settings.get("task") or AUTO)))

    def _settings_changed(self, keys: frozenset[str]) -> None:
        """Someone else changed the settings (another project was opened, say): show them."""
        self.load()

    # ------------------------------------------------------------------ form -> model
    def _write(self, key: str, value: Any, **more: Any) -> None:
        if key == "optimizer":
            self._show_optimizer_extras()
        if self._loading:
            return
        with self.settings.changed.blocker(self._settings_changed):
            self.settings.update(**{key: value}, **more)
        if key == "task":
            self.show_task()
        if key in ("epochs", "fine_tune"):
            self._refresh_fine_tune()

    def _refresh_fine_tune(self) -> None:
        self.fine_tune.refresh(self.fields["epochs"].value(), self.document.network)

    def _schedule_chosen(self, name: str) -> None:
        if not self._loading and self.settings.get("schedule") != name:
            self._write("schedule", name, schedule_params={})  # the old schedule's numbers mean nothing now
        else:
            self._write("schedule", name)
        self._show_schedule_fields()

    def _metrics_edited(self) -> None:
        self.top_k_box.setEnabled(self.top_k_check.isChecked())
        self._write("metrics", ["accuracy", "top_k"] if self.top_k_check.isChecked() else ["accuracy"])

    def _early_edited(self) -> None:
        self.patience_box.setEnabled(self.early_check.isChecked())
        self._write("early_stopping", self.patience_box.value() if self.early_check.isChecked() else None)

    def _write_schedule_param(self, key: str, value: float) -> None:
        if self._loading:
            return
        params = dict(self.settings.get("schedule_params") or {})
        params[key] = value
        self._write("schedule_params", params)

    # ------------------------------------------------------------------ rows that come and go
    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 - Qt's name
        """Tab goes through the form as it is read: row by row, left to right."""
        return tab_order.step(self, forward) or super().focusNextPrevChild(forward)

    def _show_optimizer_extras(self) -> None:
        optimizer = self.fields["optimizer"].currentText()
        for key, optimizers in OPTIMIZER_EXTRAS.items():
            self.form.setRowVisible(self.fields[key], optimizer in optimizers)

    def _show_schedule_fields(self) -> None:
        for widget in self._schedule_fields.values():
            self.form.removeRow(widget)
        self._schedule_fields.clear()
        name = self.fields["schedule"].currentText()
        params = self.settings.get("schedule_params") or {}
        for offset, (key, default) in enumerate(SCHEDULE_DEFAULTS.get(name, {}).items()):
            label, tip, kind = SCHEDULE_FIELDS[key]
            if kind == "rate":
                widget = RateSpinBox(minimum=1e-12, maximum=10.0)
            elif kind is int:
                widget = QSpinBox(minimum=1, maximum=100000)
            else:
                widget = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=1.0, singleStep=0.05)
            widget.setObjectName(f"trainingField_schedule_{key}")
            widget.setToolTip(tip)
            with signals_blocked(widget):
                widget.setValue(kind(params.get(key, default)) if kind is int else float(params.get(key, default)))
            widget.valueChanged.connect(lambda v, k=key: self._write_schedule_param(k, v))
            self.form.insertRow(self._schedule_anchor + offset, "    " + label, widget)
            self._schedule_fields[key] = widget


def task_note(document: ProjectDocument, setting: str) -> str:
    """The words under the task row: what the network trains for on the project's dataset, or why not."""
    name = str(document.settings.data.get("name") or "")
    try:
        kind, _path = parse_dataset_name(name)
        if kind == "npz":  # reading a file's targets can take long: training reads them and checks the task
            if setting == AUTO:
                return "auto: chosen from the file's targets when training starts"
            return f"trains for {TASK_TITLES[setting]} if the file's targets allow it (checked when training starts)"
        info = dataset_info(name)
    except UserError as exc:
        return str(exc)
    task, why = implied_task(document.network, document.analysis(), info, setting)
    if task is None:
        return why
    return f"trains for {TASK_TITLES[task]}" + (", chosen from the data and the output" if setting == AUTO else "")


def _set_combo(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index < 0:
        index = combo.findText(str(value))
    with signals_blocked(combo):
        combo.setCurrentIndex(max(index, 0))


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
