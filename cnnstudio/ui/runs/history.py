"""The Runs panel: every training run of the runs folder, to compare, reopen, export or delete.

Reading is cheap (run.json and project.cnnproj of each run; metrics.csv only to compare),
so the list is simply read again when something may have changed: a run started,
ended or progressed, the project was saved elsewhere, the folder changed on disk.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QFile,
    QFileSystemWatcher,
    QItemSelectionModel,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.network import NetworkChange
from cnnstudio.core.project import load_project
from cnnstudio.core.runs import (
    RunSummary,
    can_resume,
    differing_settings,
    load_history,
    network_fingerprint,
    read_metrics,
    summarize_run,
)

from ..context import AppContext
from ..editor.commands import ReplaceNetworkCommand
from ..folder_watch import watch_only
from ..reflow import ElidedLabel, flow_row
from .comparison import RunComparison
from .table import PATH_ROLE, SORT_ROLE, RunTableModel

if TYPE_CHECKING:
    from ..exporting import TransferFeature
    from ..inspect_area import InspectArea
    from ..training import TrainingController

REFRESH_DELAY_MS = 250
MAX_COLUMN_WIDTH = 320


def move_to_trash(path: Path) -> bool:
    """Move a folder to the desktop's trash; False where the system has none (then nothing moved)."""
    return bool(QFile.moveToTrash(str(path)))


def ask_delete_permanently(parent: QWidget, names: list[str]) -> bool:
    what = names[0] if len(names) == 1 else f"these {len(names)} runs"
    answer = QMessageBox.question(
        parent, "Delete Runs",
        f"This system has no trash to move {what} to. Delete {'it' if len(names) == 1 else 'them'} "
        "permanently, with the trained models inside?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class RunHistory(QWidget):
    """The panel; also the Runs feature's public face (``compare(paths)``, ``refresh()``, ``runs``).

    It follows `training`'s runs, opens `exporter`'s dialog on a run, and shows `inspect_area`
    when a run is opened for inspection. What Changed? asks ``diffRequested(run A, run B)``,
    the earlier run first.
    """

    diffRequested = Signal(object, object)  # run A (earlier), run B (later)

    def __init__(self, context: AppContext, training: TrainingController, exporter: TransferFeature,
                 inspect_area: InspectArea) -> None:
        super().__init__()
        self.context = context
        self.document = context.document
        self.exporter = exporter
        self.inspect_area = inspect_area
        self.training = training
        self.model = RunTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.comparison: RunComparison | None = None
        self.folder: Path | None = None
        self.active_run: Path | None = None
        self._current_network = ""
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(lambda _path: self.schedule_refresh())
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._fingerprinted = -1  # the document generation the network's fingerprint was taken at
        self._refresh_timer.timeout.connect(self.refresh)
        self._marks_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._marks_timer.timeout.connect(self._update_marks)
        self._build()
        self._wire()
        training.started.connect(self._run_started)
        training.runFinished.connect(self._run_finished)
        training.failed.connect(lambda _text: self._run_finished(None))  # broke off: marked in its run.json
        training.epoch.connect(lambda _report: self.schedule_refresh())
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareRunsButton")
        self.compare_button.setToolTip("Overlay the selected runs' loss and accuracy curves (select several "
                                       "with Ctrl or Shift)")
        self.diff_button = QPushButton("What Changed?")
        self.diff_button.setObjectName("diffRunsButton")
        self.diff_button.setToolTip("Select two runs: what differs in their networks and settings, and what "
                                    "that did to the outcome")
        self.inspect_button = QPushButton("Open for Inspection")
        self.inspect_button.setObjectName("inspectRunButton")
        self.inspect_button.setToolTip("Show this run's trained model in the inspection views (filters, feature "
                                       "maps, evaluation, ...) and offer it for export")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportRunButton")
        self.export_button.setToolTip("Export this run's trained model, metrics or report")
        self.resume_button = QPushButton("Resume Training")
        self.resume_button.setObjectName("resumeRunButton")
        self.resume_button.setToolTip("Carry on an interrupted run from its last checkpoint, with the settings it "
                                      "was started with")
        self.folder_button = QPushButton("Show Folder")
        self.folder_button.setObjectName("showRunFolderButton")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteRunsButton")
        self.delete_button.setToolTip("Move the selected runs' folders to the trash")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshRunsButton")
        self.filter = QLineEdit()
        self.filter.setObjectName("runFilter")
        self.filter.setAccessibleName("Filter runs")
        self.filter.setPlaceholderText("Filter runs…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(220)
        self.where = ElidedLabel()
        self.where.setObjectName("runsFolderLabel")
        layout.addLayout(flow_row(self.compare_button, self.diff_button, self.inspect_button, self.export_button,
                                  self.resume_button,
                                  self.folder_button, self.delete_button, self.filter, self.refresh_button, self.where,
                                  spacing=6))
        self.table = QTableView()
        self.table.setObjectName("runTable")
        self.table.setAccessibleName("Training runs")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + 3 * rows + 4)  # 3 runs in sight
        layout.addWidget(self.table, 1)

    def _wire(self) -> None:
        document = self.document
        self.compare_button.clicked.connect(lambda: self.compare(self._chronological(self.selected_paths())))
        self.diff_button.clicked.connect(lambda: self.what_changed(self.selected_paths()))
        self.inspect_button.clicked.connect(lambda: self.open_for_inspection(self._one_selected()))
        self.export_button.clicked.connect(lambda: self.export(self._one_selected()))
        self.resume_button.clicked.connect(lambda: self.resume(self._one_selected()))
        self.folder_button.clicked.connect(lambda: self.show_folder(self._one_selected()))
        self.delete_button.clicked.connect(lambda: self.delete(self.selected_paths()))
        self.refresh_button.clicked.connect(self.refresh)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.doubleClicked.connect(lambda index: self.open_for_inspection(self._path_at(index)))
        self.table.customContextMenuRequested.connect(self._context_menu)
        document.pathChanged.connect(lambda _path: self.schedule_refresh())  # once, after the new network is drawn
        document.projectReplaced.connect(self.schedule_refresh)
        document.networkChanged.connect(self._network_changed)
        self.context.model_source.changed.connect(lambda _run: self._update_marks())

    # ------------------------------------------------------------------ reading
    @property
    def runs(self) -> list[RunSummary]:
        return list(self.model.runs)

    def runs_folder(self) -> Path:
        return self.context.runs.folder

    def refresh(self) -> None:
        """Read the runs folder again (keeping the selection)."""
        self._refresh_timer.stop()
        selected = set(self.selected_paths())
        folder = self.runs_folder()
        self.folder = folder
        watch_only(self._watcher, folder)
        fresh = not self.model.runs
        self.model.set_runs(load_history(folder))
        if fresh and self.model.runs:
            self._fit_columns()
        if self._folders_being_written(folder):
            self._refresh_timer.start(2000)  # a run started elsewhere: look again once it has its run.json
        if self._fingerprinted != self.document.generation:  # a large network takes a while to fingerprint
            self._current_network = network_fingerprint(self.document.network.to_dict())
            self._fingerprinted = self.document.generation
        self._update_marks()
        self.select(selected)
        count = len(self.model.runs)
        self.where.setText(f"{count} run{'s' * (count != 1)} in {folder}" if count
                           else f"No runs yet in {folder}. Train the network and its run appears here.")
        self.where.setToolTip(str(folder))  # the whole folder, however narrow the panel
        self._update_buttons()

    def _fit_columns(self) -> None:
        """Columns as wide as their contents, the long ones capped (the tooltip has the whole text)."""
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            header.resizeSection(column, min(header.sectionSize(column), MAX_COLUMN_WIDTH))

    @staticmethod
    def _folders_being_written(folder: Path) -> bool:
        """A folder made in the last minute without run.json yet (a run another program is starting)."""
        now = time.time()
        try:
            return any(entry.is_dir() and not (entry / "run.json").exists() and now - entry.stat().st_mtime < 60
                       for entry in folder.iterdir())
        except OSError:
            return False

    def schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def _network_changed(self, kind: NetworkChange, _ids: list) -> None:
        if kind != NetworkChange.MOVED:
            self._marks_timer.start()

    def _update_marks(self) -> None:
        """Grey the runs of this project trained on another version of its network; bold the inspected run."""
        if self._fingerprinted != self.document.generation:  # a large network takes a while to fingerprint
            self._current_network = network_fingerprint(self.document.network.to_dict())
            self._fingerprinted = self.document.generation
        older = {run.path for run in self.model.runs if self._is_this_project(run)
                 and run.network is not None and run.network != self._current_network}
        self.model.set_marks(older, self.context.model_source.run_dir, self.active_run)

    def _is_this_project(self, run: RunSummary) -> bool:
        path = self.document.path
        if run.project_file and path is not None:
            return Path(run.project_file).resolve() == Path(path).resolve()
        return path is None and run.project_file is None and run.project == self.document.name

    def is_older(self, path: Path) -> bool:
        return Path(path) in self.model.older

    def _run_started(self, run_dir) -> None:
        self.active_run = Path(run_dir) if run_dir else None
        self.refresh()
        if self.active_run is not None:
            self.select({self.active_run})

    def _run_finished(self, run_dir) -> None:
        self.active_run = None
        self.refresh()

    # ------------------------------------------------------------------ selection
    def selected_paths(self) -> list[Path]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return [self._path_at(index) for index in sorted(rows, key=lambda i: i.row())]

    def _path_at(self, index) -> Path:
        return Path(self.proxy.data(self.proxy.index(index.row(), 0), PATH_ROLE))

    def _chronological(self, paths: list[Path]) -> list[Path]:
        """Oldest first, so the first colour goes to the first run."""
        started = {run.path: run.started for run in self.model.runs}
        return sorted(paths, key=lambda p: (started.get(p) is None, started.get(p) or 0, p.name))

    def _one_selected(self) -> Path | None:
        paths = self.selected_paths()
        return paths[0] if len(paths) == 1 else None

    def select(self, paths: Iterable[Path]) -> None:
        """Select these runs in the table (those listed)."""
        wanted = {Path(p) for p in paths}
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if Path(self.proxy.data(index, PATH_ROLE)) in wanted:
                selection.select(index, flags)
        self._update_buttons()

    def _update_buttons(self) -> None:
        paths = self.selected_paths()
        one = len(paths) == 1
        summary = self._summary(paths[0]) if one else None
        self.compare_button.setEnabled(bool(paths))
        self.diff_button.setEnabled(len(paths) == 2)
        self.inspect_button.setEnabled(one and summary is not None and summary.has_model)
        self.export_button.setEnabled(one and summary is not None and summary.has_model)
        self.resume_button.setEnabled(self._resumable(summary))
        self.folder_button.setEnabled(one)
        self.delete_button.setEnabled(bool(paths) and self.active_run not in paths)

    def _resumable(self, summary: RunSummary | None) -> bool:
        return summary is not None and summary.path != self.active_run and can_resume(summary.status, summary.path)

    def _summary(self, path: Path) -> RunSummary | None:
        row = self.model.row_of(Path(path))
        return self.model.runs[row] if row is not None else summarize_run(path)

    # ------------------------------------------------------------------ actions
    def compare(self, paths: Iterable[str | Path]) -> RunComparison | None:
        """Overlay these runs' curves in the "Compare Runs" tab and bring it to the front."""
        summaries, problems = [], []
        for path in paths:
            summary = self._summary(Path(path))
            if summary is None:
                problems.append(f"{path} is not a training run (it has no run.json)")
            else:
                summaries.append(summary)
        if problems:
            self.context.messages.show("error", "; ".join(problems))
        if not summaries:
            return None
        histories = {}
        for summary in summaries:
            try:
                histories[summary.path] = read_metrics(summary.path)
            except (OSError, ValueError):
                histories[summary.path] = []
        view = self.comparison_view()
        view.show_runs(summaries, histories, differing_settings(summaries))
        self.context.shell.show_tab(view)
        return view

    def what_changed(self, paths: list[Path]) -> None:
        """Ask for the diff of two runs, the earlier one as run A."""
        if len(paths) == 2:
            run_a, run_b = self._chronological(paths)
            self.diffRequested.emit(run_a, run_b)

    def comparison_view(self) -> RunComparison:
        if self.comparison is None:
            self.comparison = RunComparison()
            self.context.shell.add_tab(self.comparison, "Compare Runs")
        return self.comparison

    def open_for_inspection(self, path: Path | None) -> None:
        """Make this run's trained model the one the inspection views show."""
        summary = self._summary(path) if path is not None else None
        if summary is None:
            return
        if not summary.has_model:
            self.context.messages.show("warning", f"{summary.name} holds no trained model yet")
            return
        self.context.model_source.set_run_dir(summary.path)
        self.context.messages.show("info", f"The inspection views now show the trained model of {summary.name}")
        self.context.shell.show_tab(self.inspect_area)

    def inspect_untrained(self) -> None:
        self.context.model_source.set_run_dir(None)
        self.context.messages.show("info", "The inspection views now show the untrained network in the editor")

    def export(self, path: Path | None) -> None:
        """Open the export dialog on this run's trained model."""
        if path is None:
            return
        self.exporter.show_dialog(path)

    def resume(self, path: Path | None) -> bool:
        """Carry on this interrupted run from its last checkpoint (after the current run, if one is going)."""
        return path is not None and self.training.resume_run(path)

    def show_folder(self, path: Path | None) -> None:
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def use_network(self, path: Path | None) -> None:
        """Put the run's network (its project snapshot) in the editor, as one undoable step."""
        if path is None:
            return
        try:
            snapshot = load_project(Path(path) / "project.cnnproj")
        except UserError as exc:
            self.context.messages.show("error", str(exc))
            return
        if self.document.push(ReplaceNetworkCommand(self.document.network, snapshot.network,
                                                    f"Network of run {Path(path).name}")):
            self.context.messages.show("info", f"The editor shows the network of {Path(path).name} (Undo goes back)")

    def delete(self, paths: list[Path]) -> int:
        """Move runs to the trash (or, without one, delete them after asking); returns how many went."""
        paths = [Path(p) for p in paths if Path(p) != self.active_run]
        if not paths:
            return 0
        trashed, deleted, failed, permanent = [], [], [], []
        for path in paths:
            (trashed if move_to_trash(path) else permanent).append(path)
        if permanent and ask_delete_permanently(self, [p.name for p in permanent]):
            for path in permanent:
                try:
                    shutil.rmtree(path)
                    deleted.append(path)
                except OSError as exc:
                    failed.append(f"{path.name} ({exc.strerror or exc})")
        gone = trashed + deleted
        if self.context.model_source.run_dir in gone:
            self.context.model_source.set_run_dir(None)
        for group, words in ((trashed, "moved to the trash"), (deleted, "deleted")):
            if group:
                self.context.messages.show("info", f"{len(group)} run{'s' * (len(group) != 1)} {words}: "
                                                 + ", ".join(p.name for p in group))
        if failed:
            self.context.messages.show("error", "Could not delete " + ", ".join(failed))
        self.refresh()
        return len(gone)

    def _context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if index.isValid() and not self.table.selectionModel().isRowSelected(index.row(), index.parent()):
            self.select([self._path_at(index)])
        paths = self.selected_paths()
        one = paths[0] if len(paths) == 1 else None
        summary = self._summary(one) if one else None
        menu = QMenu(self)
        entries: list[tuple[str, object, bool]] = [
            ("Compare", lambda: self.compare(paths), bool(paths)),
            ("What Changed?", lambda: self.what_changed(paths), len(paths) == 2),
            ("Open for Inspection", lambda: self.open_for_inspection(one), bool(summary and summary.has_model)),
            ("Inspect the Untrained Network", self.inspect_untrained, self.context.model_source.run_dir is not None),
            ("Export…", lambda: self.export(one), bool(summary and summary.has_model)),
            ("Resume Training", lambda: self.resume(one), self._resumable(summary)),
            ("Put This Run's Network in the Editor", lambda: self.use_network(one),
             one is not None and not self.document.locked),
            ("Show Folder", lambda: self.show_folder(one), one is not None),
            ("Delete", lambda: self.delete(paths), bool(paths) and self.active_run not in paths),
        ]
        for text, slot, enabled in entries:
            action = QAction(text, menu)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.exec(self.table.viewport().mapToGlobal(position))
        menu.deleteLater()
