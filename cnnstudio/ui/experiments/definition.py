"""Defining an experiment: what varies (training, dataset or layer settings, with what each allows), how
settings are made (grid, random sample, list), how many seeds, each run's length, and the budget.

The same dialog adds runs to an existing experiment: more values for the keys it varies,
more settings of its list, or more seeds. Values are checked as they are typed, each as
`cnnstudio experiment` would check it; the whole plan again when the user confirms.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_spec import ExperimentSpec, Variation, setting_id, value_text, values_label
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.project import Project

from ..theme import ERROR_COLOR
from .choices import VaryingChoice, paired_settings, read_values, varying_choices
from .controller import Budget
from .view import budget_boxes, budget_of

GRID, RANDOM, LIST = "grid", "random", "list"
PREVIEW_LINES = 8


ROWS_END = 999  # a grid row below every value row, which takes the spare height

class VaryRow(QObject):
    """One varied key: its name, the values typed (with a menu of the choices it takes), and what is wrong."""

    changed = Signal()
    removed = Signal(object)  # the row

    def __init__(self, choice: VaryingChoice, project: Project, grid: QGridLayout, row: int, *,
                 earlier: tuple[Any, ...] = (), removable: bool = True) -> None:
        super().__init__(grid.parentWidget())
        self.choice, self.project, self.earlier = choice, project, earlier
        self.values: list[Any] = []
        self.problem = ""
        self.name = QLabel(choice.label)
        self.name.setToolTip(choice.doc or choice.hint)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"values_{choice.key}")
        self.edit.setMinimumWidth(180)
        self.edit.setPlaceholderText("more values, e.g. " + choice.suggestion() if earlier else "values, e.g. "
                                     + choice.suggestion())
        self.edit.setToolTip(f"Values separated by commas; {choice.hint}")
        self.pick = QToolButton()
        self.pick.setText("Choose")
        self.pick.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.pick.setVisible(bool(choice.choices))
        if choice.choices:
            menu = QMenu(self.pick)
            for value in choice.choices:
                action = QAction(value_text(value), menu)
                action.setCheckable(True)
                action.setData(json.dumps(value))
                action.toggled.connect(lambda _on, v=value: self._toggle(v))
                menu.addAction(action)
            menu.aboutToShow.connect(self._tick_choices)
            self.pick.setMenu(menu)
        self.note = QLabel()
        self.note.setObjectName(f"problem_{choice.key}")
        self.note.setWordWrap(True)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Vary this no more")
        self.remove.setVisible(removable)
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        self.edit.textChanged.connect(lambda _text: self._check())
        self.cells = (self.name, self.edit, self.pick, self.remove, self.note)
        grid.addWidget(self.name, row, 0)
        grid.addWidget(self.edit, row, 1)
        grid.addWidget(self.pick, row, 2)
        grid.addWidget(self.remove, row, 3)
        grid.addWidget(self.note, row + 1, 1, 1, 3)
        self._check()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)

    def _toggle(self, value: Any) -> None:
        values = list(self.values)
        shown = [json.dumps(v) for v in values]
        if json.dumps(value) in shown:
            values.pop(shown.index(json.dumps(value)))
        else:
            values.append(value)
        self.edit.setText(", ".join(value_text(v) for v in values))

    def _tick_choices(self) -> None:
        shown = {json.dumps(v) for v in self.values}
        for action in self.pick.menu().actions():
            action.blockSignals(True)
            action.setChecked(action.data() in shown)
            action.blockSignals(False)

    def _check(self) -> None:
        text = self.edit.text()
        if self.earlier and not text.strip():
            self.values, self.problem = [], ""
        else:
            self.values, self.problem = read_values(self.project, self.choice.key, text)
        known = {json.dumps(v, sort_keys=True) for v in self.earlier}
        again = [value_text(v) for v in self.values if json.dumps(v, sort_keys=True) in known]
        if not self.problem and again:
            self.problem = f"{again[0]} is already in the experiment"
        if self.problem:
            self.note.setText(self.problem)
            self.note.setStyleSheet(f"color: {ERROR_COLOR}")
        else:
            now = f"in the experiment: {', '.join(value_text(v) for v in self.earlier)}; " if self.earlier else ""
            self.note.setText(f"{now}{self.choice.hint}")
            self.note.setStyleSheet("color: gray")
        self.changed.emit()

    def drop(self) -> None:
        for widget in self.cells:
            widget.setParent(None)
            widget.deleteLater()
        self.deleteLater()


class ExperimentDialog(QDialog):
    """objectName ``experimentDialog``. `submit(dialog)` does what was asked (raising UserError to keep it open)."""

    def __init__(self, project: Project, parent: QWidget | None = None, *, experiment: Experiment | None = None,
                 submit: Callable[[ExperimentDialog], None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentDialog")
        self.experiment = experiment
        self.project = experiment.base if experiment is not None else project
        self.submit = submit
        self.train_now = True
        self.rows: list[VaryRow] = []
        self.choices = {c.key: c for c in varying_choices(self.project)}
        extending = experiment is not None
        self.setWindowTitle(f"Add Runs to {experiment.folder.name}" if extending
                            else f"New Experiment — {project.name}")
        self._build(extending)
        if extending:
            self._load_experiment(experiment)
        self._update()

    # ------------------------------------------------------------------ building
    def _build(self, extending: bool) -> None:
        intro = QLabel(
            "Add runs: more values for what the experiment varies, or more seeds for every setting." if extending
            else "Train the project under several settings, each with several seeds, and see which differences "
                 "are real. Every run is a normal run record; the experiment keeps them together.")
        intro.setWordWrap(True)
        self.choice = QComboBox()
        self.choice.setObjectName("experimentChoice")
        self.choice.setMaxVisibleItems(24)
        group = None
        for choice in self.choices.values():
            if group is not None and choice.group != group:
                self.choice.insertSeparator(self.choice.count())
            group = choice.group
            self.choice.addItem(choice.label, choice.key)
            self.choice.setItemData(self.choice.count() - 1, f"{choice.hint}\n{choice.doc}".strip(),
                                    Qt.ItemDataRole.ToolTipRole)
        self.add_key = QPushButton("Vary This")
        self.add_key.setObjectName("experimentAddKey")
        self.add_key.clicked.connect(lambda: self.add(self.choice.currentData()))
        self.picker = QWidget()
        picker = QHBoxLayout(self.picker)
        picker.setContentsMargins(0, 0, 0, 0)
        picker.addWidget(QLabel("Vary:"))
        picker.addWidget(self.choice, 1)
        picker.addWidget(self.add_key)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        self.grid.setRowStretch(ROWS_END, 1)  # the rows keep to the top, however tall the box
        self.empty = QLabel("Nothing varies yet: choose a setting or a layer's parameter above and press Vary This.")
        self.empty.setStyleSheet("color: gray")
        self.grid.addWidget(self.empty, 0, 0, 1, 4)
        scroll = QScrollArea()
        scroll.setWidget(self.grid_host)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(150)
        varies = QGroupBox("What varies")
        box = QVBoxLayout(varies)
        box.addWidget(self.picker)
        self.picker.setVisible(not extending)  # an experiment's keys are fixed once it has runs
        box.addWidget(scroll, 1)

        self.modes = QButtonGroup(self)
        self.grid_mode = QRadioButton("Grid: every combination of the values")
        self.random_mode = QRadioButton("Random sample of the grid:")
        self.list_mode = QRadioButton("List: the first values together, the second values together, …")
        for name, button in ((GRID, self.grid_mode), (RANDOM, self.random_mode), (LIST, self.list_mode)):
            button.setObjectName(f"experimentMode_{name}")
            self.modes.addButton(button)
        self.grid_mode.setChecked(True)
        self.random_count = QSpinBox()
        self.random_count.setObjectName("experimentRandomCount")
        self.random_count.setRange(1, 100_000)
        self.random_count.setValue(4)
        self.random_count.setSuffix(" settings")
        random_row = QHBoxLayout()
        random_row.addWidget(self.random_mode)
        random_row.addWidget(self.random_count)
        random_row.addStretch(1)
        made = QGroupBox("Settings")
        made_layout = QVBoxLayout(made)
        made_layout.addWidget(self.grid_mode)
        made_layout.addLayout(random_row)
        made_layout.addWidget(self.list_mode)

        self.seeds = QSpinBox()
        self.seeds.setObjectName("experimentSeeds")
        self.seeds.setRange(1, 1000)
        self.seeds.setValue(3)
        self.seeds.setToolTip("Each setting is trained this many times, with seeds from the project's seed up; "
                              "the verdicts need at least two")
        self.epochs = QSpinBox()
        self.epochs.setObjectName("experimentEpochs")
        self.epochs.setRange(1, 100_000)
        self.epochs.setValue(int(self.project.training.get("epochs") or 5))
        self.batches = QSpinBox()
        self.batches.setObjectName("experimentBatches")
        self.batches.setRange(0, 10_000_000)
        self.batches.setSpecialValueText("all")
        self.batches.setValue(int(self.project.training.get("max_steps_per_epoch") or 0))
        self.batches.setToolTip("Cut every epoch short after this many batches (quick tries); 'all' trains every batch")
        self.runs_budget, self.minutes_budget = budget_boxes(self)
        form = QFormLayout()
        form.addRow("Seeds per setting:", self.seeds)
        length = QHBoxLayout()
        length.addWidget(self.epochs)
        length.addWidget(QLabel("epochs, batches per epoch:"))
        length.addWidget(self.batches)
        length.addStretch(1)
        form.addRow("Each run:", length)
        budget = QHBoxLayout()
        budget.addWidget(self.runs_budget)
        budget.addWidget(self.minutes_budget)
        budget.addWidget(QLabel("(the rest waits for Resume)"))
        budget.addStretch(1)
        form.addRow("Train now:", budget)
        if extending:
            self.epochs.setEnabled(False)
            self.batches.setEnabled(False)
            self.epochs.setToolTip("Every run of an experiment trains alike; start a new experiment to change it")

        self.preview = QLabel()
        self.preview.setObjectName("experimentPreview")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = QLabel()
        self.problem.setObjectName("experimentProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {ERROR_COLOR}")
        self.buttons = QDialogButtonBox()
        self.create_and_train = self.buttons.addButton("Add and Train" if extending else "Create and Train",
                                                       QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_and_train.setObjectName("experimentCreateAndTrain")
        self.create_only = self.buttons.addButton("Add Runs" if extending else "Create",
                                                  QDialogButtonBox.ButtonRole.ApplyRole)
        self.create_only.setObjectName("experimentCreate")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_and_train.clicked.connect(lambda: self._confirm(True))
        self.create_only.clicked.connect(lambda: self._confirm(False))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(varies, 1)
        layout.addWidget(made)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for widget in (self.random_count, self.seeds):
            widget.valueChanged.connect(lambda _v: self._update())
        self.modes.buttonToggled.connect(lambda _b, _on: self._update())
        self.resize(760, 640)

    def _load_experiment(self, experiment: Experiment) -> None:
        spec = experiment.spec
        self.seeds.setMinimum(spec.seeds)
        self.seeds.setValue(spec.seeds)
        earlier: dict[str, list[Any]] = {v.key: list(v.values) for v in spec.vary}
        for combination in spec.combinations:
            for key, value in combination.items():
                earlier.setdefault(key, []).append(value)
        for key in spec.keys:
            choice = self.choices.get(key) or VaryingChoice(key, "", key, "", None)
            self._add_row(choice, earlier=tuple(earlier.get(key, ())), removable=False)
        mode = {GRID: self.grid_mode, RANDOM: self.random_mode, LIST: self.list_mode}[spec.mode]
        mode.setChecked(True)
        if spec.random is not None:
            self.random_count.setMinimum(spec.random)
            self.random_count.setValue(spec.random)
        for button in (self.grid_mode, self.random_mode, self.list_mode):
            button.setEnabled(button is mode)
        self.random_count.setEnabled(spec.mode == RANDOM)

    # ------------------------------------------------------------------ rows
    def add(self, key: str, text: str | None = None) -> VaryRow | None:
        """Vary `key` (a key of `varying_choices`), its values starting as `text` (else a suggestion)."""
        if key in {row.choice.key for row in self.rows}:
            row = next(r for r in self.rows if r.choice.key == key)
        else:
            choice = self.choices.get(key)
            if choice is None:
                return None
            row = self._add_row(choice)
        row.set_text(row.choice.suggestion() if text is None else text)
        row.edit.setFocus()
        return row

    def _add_row(self, choice: VaryingChoice, *, earlier: tuple[Any, ...] = (), removable: bool = True) -> VaryRow:
        self.empty.hide()
        row = VaryRow(choice, self.project, self.grid, 2 * len(self.rows) + 1, earlier=earlier, removable=removable)
        row.changed.connect(self._update)
        row.removed.connect(self._remove)
        self.rows.append(row)
        self._update()
        return row

    def _remove(self, row: VaryRow) -> None:
        self.rows.remove(row)
        row.drop()
        self.empty.setVisible(not self.rows)
        self._update()

    def row(self, key: str) -> VaryRow:
        return next(r for r in self.rows if r.choice.key == key)

    # ------------------------------------------------------------------ what it makes
    @property
    def mode(self) -> str:
        return RANDOM if self.random_mode.isChecked() else LIST if self.list_mode.isChecked() else GRID

    def spec(self) -> ExperimentSpec:
        """The experiment as defined (extending: the runs to add); UserError when it cannot be made."""
        problems = [f"{row.choice.key}: {row.problem}" for row in self.rows if row.problem]
        if problems:
            raise UserError(problems[0])
        rows = [row for row in self.rows if row.values]
        seeds = self.seeds.value()
        if self.experiment is None and not rows:
            raise UserError("nothing varies yet: choose what to vary and give it values")
        if self.mode == LIST:
            combinations, problem = paired_settings([r.choice.key for r in rows], [r.values for r in rows])
            if problem:
                raise UserError(problem)
            if self.experiment is not None and rows and len(rows) < len(self.rows):
                raise UserError("for a list, give every varied key as many new values")
            return ExperimentSpec(combinations=tuple(combinations), seeds=seeds)
        random = self.random_count.value() if self.mode == RANDOM else None
        return ExperimentSpec(vary=tuple(Variation(r.choice.key, tuple(r.values)) for r in rows), seeds=seeds,
                              random=random)

    def project_to_train(self) -> Project:
        """The project every run starts from: the open one with the run length chosen here."""
        project = self.project.copy()
        project.training["epochs"] = self.epochs.value()
        if self.batches.value():
            project.training["max_steps_per_epoch"] = self.batches.value()
        else:
            project.training.pop("max_steps_per_epoch", None)
        return project

    def budget(self) -> Budget:
        return budget_of(self.runs_budget, self.minutes_budget)

    def planned(self) -> tuple[list[dict[str, Any]], int]:
        """The settings the definition makes (extending: every setting after adding) and the runs it adds."""
        spec = self.spec()
        if self.experiment is None:
            spec.check_shape()
            settings = spec.settings()
            return settings, len(settings) * spec.seeds
        if not spec.vary and not spec.combinations and spec.seeds == self.experiment.spec.seeds:
            raise UserError("nothing to add yet: type more values or raise the seeds")
        if spec.vary or spec.combinations:
            spec.check_shape()
        merged = self.experiment.spec.merged_with(spec)
        have = {(setting_id(r.values), r.seed) for r in self.experiment.runs}
        first = int(self.experiment.base.training.get("seed") or 0)
        settings = merged.settings()
        added = sum(1 for s in range(merged.seeds) for values in settings if (setting_id(values), first + s) not in have)
        return settings, added

    def _update(self) -> None:
        try:
            settings, runs = self.planned()
        except UserError as exc:
            self.problem.setText(str(exc))
            self.preview.setText("")
            for button in (self.create_and_train, self.create_only):
                button.setEnabled(False)
            return
        self.problem.setText("")
        seeds = self.seeds.value()
        keys = [row.choice.key for row in self.rows]
        if self.experiment is None:
            head = f"{len(settings)} setting{'s' * (len(settings) != 1)} × {seeds} seed{'s' * (seeds != 1)} = " \
                   f"<b>{runs} runs</b>:"
        else:
            head = f"adds <b>{runs} run{'s' * (runs != 1)}</b>; the experiment then has {len(settings)} settings × " \
                   f"{max(seeds, self.experiment.spec.seeds)} seeds:"
        lines = [values_label(s, keys) for s in settings[:PREVIEW_LINES]]
        if len(settings) > PREVIEW_LINES:
            lines.append(f"… and {len(settings) - PREVIEW_LINES} more")
        self.preview.setText(head + "<br>" + "<br>".join(f"&nbsp;&nbsp;• {line}" for line in lines))
        for button in (self.create_and_train, self.create_only):
            button.setEnabled(runs > 0)

    def _confirm(self, train: bool) -> None:
        self.train_now = train
        try:
            if self.submit is not None:
                self.submit(self)
        except UserError as exc:
            self.problem.setText(str(exc))
            return
        self.accept()

