"""The Experiments panel: every experiment in the runs folder, how far it is and its best setting so far.

Read from each folder's experiment.json (kept up to date after every run), so the list is the
same after a restart; an experiment is opened in the Experiment tab, resumed, or given more runs.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_results import figure_of, metric_text, task_metric
from cnnstudio.core.experiment_spec import setting_id, values_label
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.stats import summarize

from ..folder_watch import watch_only
from ..reflow import flow_row
from .controller import PAUSED, ExperimentController, experiment_folders
from .tables import SORT_ROLE, key_label

COLUMNS = ("Experiment", "Project", "Varies", "Runs", "Best so far", "Created", "Status")
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
REFRESH_DELAY_MS = 300


@dataclass(frozen=True)
class ExperimentEntry:
    """One row: an experiment folder read without its runs' records."""

    folder: Path
    name: str
    varies: str
    planned: int
    trained: int
    best: str
    best_figure: float | None
    created: str


def read_entry(folder: Path) -> ExperimentEntry:
    """What the panel shows of an experiment (UserError when the folder is damaged)."""
    experiment = Experiment.open(folder)
    done = [r for r in experiment.runs if r.done]
    groups: dict[str, list] = {}
    for run in done:
        groups.setdefault(setting_id(run.values), []).append(run)
    best, best_figure = "", None
    tasks = {run.task for run in done}
    metric = task_metric(tasks.pop() if len(tasks) == 1 else None)
    sign = 1 if metric.higher_is_better else -1
    for runs in groups.values():
        figures = summarize(getattr(r, figure_of(metric)) for r in runs)
        if figures.mean is not None and (best_figure is None or sign * figures.mean > sign * best_figure):
            best_figure = figures.mean
            named = "" if metric.name == "test accuracy" else f"{metric.name} "
            best = (f"{values_label(runs[0].values, experiment.keys)}: {named}{metric_text(metric, figures.mean, 1)}"
                    f" ({figures.count} seeds)")
    varies = ", ".join(key_label(k) for k in experiment.keys)
    return ExperimentEntry(Path(folder), experiment.name, varies, len(experiment.runs), len(done), best,
                           best_figure, created_text(experiment.created))


class _Item(QTableWidgetItem):
    """A cell that sorts by the value behind its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        try:
            return mine < theirs
        except TypeError:
            return str(mine) < str(theirs)


class ExperimentsPanel(QWidget):
    """objectName ``experimentsPanel``."""

    openRequested = Signal(object)  # folder
    newRequested = Signal()
    addRunsRequested = Signal(object)  # folder

    def __init__(self, controller: ExperimentController, runs_folder: Callable[[], Path],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentsPanel")
        self.controller = controller
        self.runs_folder = runs_folder
        self.entries: list[ExperimentEntry] = []
        self.problems: list[str] = []
        self.folder: Path | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _path: self._timer.start())
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        controller.changed.connect(lambda _folder: self._timer.start())
        controller.stateChanged.connect(lambda _state: self._show_statuses())
        self.refresh()

    def _build(self) -> None:
        self.new_button = QPushButton("New Experiment…")
        self.new_button.setObjectName("newExperimentButton")
        self.new_button.setToolTip("Train the open project under several settings and seeds")
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openExperimentButton")
        self.open_button.setToolTip("Show the experiment's runs, curves and verdicts in the Experiment tab")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("resumeExperimentButton")
        self.resume_button.setToolTip("Train the runs still to train")
        self.add_button = QPushButton("Add Runs…")
        self.add_button.setObjectName("addExperimentRunsButton")
        self.folder_button = QPushButton("Show Folder")
        self.refresh_button = QPushButton("Refresh")
        bar = flow_row(self.new_button, self.open_button, self.resume_button, self.add_button, self.folder_button,
                       self.refresh_button)  # a narrow panel: the buttons go on a second line
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("experimentsTable")
        self.table.setAccessibleName("Experiments")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.where = QLabel()
        self.where.setObjectName("experimentsFolderLabel")
        self.where.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.where)
        self.new_button.clicked.connect(self.newRequested.emit)
        self.open_button.clicked.connect(lambda: self._with_selected(self.openRequested.emit))
        self.resume_button.clicked.connect(lambda: self._with_selected(lambda f: self.controller.start(f)))
        self.add_button.clicked.connect(lambda: self._with_selected(self.addRunsRequested.emit))
        self.folder_button.clicked.connect(
            lambda: self._with_selected(lambda f: QDesktopServices.openUrl(QUrl.fromLocalFile(str(f)))))
        self.refresh_button.clicked.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda item: self.openRequested.emit(self._path(item.row())))

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Read the experiments of the runs folder again (keeping the selection)."""
        self._timer.stop()
        selected = self.selected()
        folder = self.runs_folder()
        self.folder = folder
        watch_only(self._watcher, folder)
        self.entries, self.problems = [], []
        for path in experiment_folders(folder):
            try:
                self.entries.append(read_entry(path))
            except UserError as exc:
                self.problems.append(str(exc))
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            cells = [(entry.folder.name, entry.folder.name), (entry.name, entry.name), (entry.varies, entry.varies),
                     (f"{entry.trained} of {entry.planned}", entry.trained),
                     (entry.best, -1.0 if entry.best_figure is None else entry.best_figure),
                     (entry.created, entry.created), ("", "")]
            for column, (text, value) in enumerate(cells):
                item = _Item(text)
                item.setData(SORT_ROLE, value)
                item.setData(PATH_ROLE, str(entry.folder))
                item.setToolTip(str(entry.folder) if column == 0 else text)
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self._show_statuses()
        if selected is not None:
            self.select(selected)
        count = len(self.entries)
        text = (f"{count} experiment{'s' * (count != 1)} in {folder}" if count
                else f"No experiments yet in {folder}. New Experiment… trains the open project under several "
                     "settings and seeds.")
        if self.problems:
            text += " — cannot read: " + "; ".join(self.problems)
        self.where.setText(text)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def _show_statuses(self) -> None:
        for row in range(self.table.rowCount()):
            path = self._path(row)
            entry = next((e for e in self.entries if e.folder == path), None)
            if entry is None:
                continue
            if self.controller.folder == path:
                status = "paused" if self.controller.state == PAUSED else "training"
            elif self.controller.is_queued(path):
                status = "queued"
            elif entry.trained == entry.planned:
                status = "all trained"
            else:
                status = f"{entry.planned - entry.trained} to train"
            item = self.table.item(row, len(COLUMNS) - 1)
            item.setText(status)
            item.setData(SORT_ROLE, status)
        self._update_buttons()

    # ------------------------------------------------------------------ selection
    def _path(self, row: int) -> Path:
        return Path(self.table.item(row, 0).data(PATH_ROLE))

    def selected(self) -> Path | None:
        rows = self.table.selectionModel().selectedRows()
        return self._path(rows[0].row()) if rows else None

    def select(self, folder: Path) -> None:
        for row in range(self.table.rowCount()):
            if self._path(row) == Path(folder):
                self.table.selectRow(row)
                return

    def _with_selected(self, action: Callable[[Path], object]) -> None:
        folder = self.selected()
        if folder is not None:
            action(folder)

    def _update_buttons(self) -> None:
        folder = self.selected()
        entry = next((e for e in self.entries if e.folder == folder), None)
        busy = folder is not None and (self.controller.folder == folder or self.controller.is_queued(folder))
        self.open_button.setEnabled(entry is not None)
        self.resume_button.setEnabled(entry is not None and entry.trained < entry.planned and not busy)
        self.add_button.setEnabled(entry is not None)
        self.folder_button.setEnabled(entry is not None)


def created_text(stamp: str) -> str:
    try:
        return datetime.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp
