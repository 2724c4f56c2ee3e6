"""The Experiment tab: one experiment's settings and runs (sortable), its curves over seeds, its verdicts,
and the run in progress; Train/Resume, Pause, Stop and Add Runs act on it.

Everything shown is read from the experiment folder (`load_results`: run.json and metrics.csv
of each run), again whenever a run of it ends, so the view is the same after a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QPoint, QSortFilterProxyModel, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_results import (
    ExperimentResults,
    figure_of,
    load_results,
    metric_text,
    verdict_between,
)
from cnnstudio.core.experiment_spec import values_label
from cnnstudio.core.experiments import Experiment, PlannedRun
from cnnstudio.core.stats import TEST_ACCURACY, Verdict, compare

from ..context import AppContext
from .controller import IDLE, PAUSED, RUNNING, Budget, ExperimentController
from .curves import SHOWN_AT_MOST, BandPlot, LivePlot
from .tables import KEY_ROLE, SORT_ROLE, RunsTable, SettingsTable, setting_key
from .verdicts import VerdictPanel

if TYPE_CHECKING:
    from cnnstudio.ml.jobs.results import ExperimentRunStarted

    from ..runs import RunHistory

MAX_COLUMN_WIDTH = 220


def budget_boxes(parent: QWidget) -> tuple[QSpinBox, QDoubleSpinBox]:
    """A run budget ("all" at 0) and a time budget in minutes ("no limit" at 0)."""
    runs = QSpinBox(parent)
    runs.setObjectName("experimentBudgetRuns")
    runs.setAccessibleName("Runs to train now")
    runs.setRange(0, 100_000)
    runs.setSpecialValueText("all")
    runs.setSuffix(" runs")
    runs.setToolTip("Train at most this many runs now; the others wait for Resume")
    minutes = QDoubleSpinBox(parent)
    minutes.setObjectName("experimentBudgetMinutes")
    minutes.setAccessibleName("Time budget in minutes")
    minutes.setRange(0, 100_000)
    minutes.setDecimals(1)
    minutes.setSpecialValueText("no time limit")
    minutes.setSuffix(" min")
    minutes.setToolTip("Start no run that would end after this many minutes; a run still going then is stopped "
                       "and trained again on Resume")
    return runs, minutes


def budget_of(runs: QSpinBox, minutes: QDoubleSpinBox) -> Budget:
    return Budget(runs.value() or None, minutes.value() or None)


def _table(name: str, model) -> tuple[QTableView, QSortFilterProxyModel]:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    proxy.setParent(view)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view, proxy


class ExperimentView(QWidget):
    """objectName ``experimentView``; ``open(folder)`` shows an experiment, ``reload()`` reads it again."""

    addRunsRequested = Signal(object)  # folder

    def __init__(self, context: AppContext, controller: ExperimentController, history: RunHistory | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentView")
        self.context = context
        self.controller = controller
        self.history = history
        self.folder: Path | None = None
        self.experiment: Experiment | None = None
        self.results: ExperimentResults | None = None
        self.problem = ""
        self._build()
        self._wire()
        self._update_controls()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.title = QLabel("No experiment open. Train > New Experiment… defines one; the Experiments panel "
                            "lists them.")
        self.title.setObjectName("experimentTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("experimentTrain")
        self.train_button.setToolTip("Train the runs still to train, one after another, within the budget")
        self.runs_budget, self.minutes_budget = budget_boxes(self)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("experimentPause")
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("experimentStop")
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("End the run in progress now (it is trained again on Resume); the arrow "
                                    "offers to let it finish first")
        self.stop_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        stop_menu = QMenu(self.stop_button)
        self.stop_now_action = QAction("Stop Now", stop_menu)
        self.stop_after_action = QAction("Stop After This Run", stop_menu)
        stop_menu.addAction(self.stop_now_action)
        stop_menu.addAction(self.stop_after_action)
        self.stop_button.setMenu(stop_menu)
        self.add_button = QPushButton("Add Runs…")
        self.add_button.setObjectName("experimentAddRuns")
        self.add_button.setToolTip("More values, settings or seeds for this experiment")
        self.folder_button = QPushButton("Show Folder")
        self.folder_button.setObjectName("experimentShowFolder")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for widget in (QLabel("Budget:"), self.runs_budget, self.minutes_budget, self.train_button,
                       self.pause_button, self.stop_button, self.add_button, self.folder_button):
            top.addWidget(widget)
        self.summary = QLabel()
        self.summary.setObjectName("experimentSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.live = QWidget()
        self.live.setObjectName("experimentLive")
        self.live_text = QLabel()
        self.live_text.setObjectName("experimentLiveText")
        self.live_text.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("experimentProgress")
        self.progress.setFormat("%v of %m runs trained")
        self.live_plot = LivePlot()
        live_layout = QVBoxLayout(self.live)
        live_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.live_text, 1)
        row.addWidget(self.progress)
        live_layout.addLayout(row)
        live_layout.addWidget(self.live_plot)
        self.live.hide()

        self.settings_model = SettingsTable(self)
        self.runs_model = RunsTable(self)
        self.settings_table, self.settings_proxy = _table("experimentSettingsTable", self.settings_model)
        self.settings_table.setAccessibleName("Settings compared")
        self.runs_table, self.runs_proxy = _table("experimentRunsTable", self.runs_model)
        self.runs_table.setAccessibleName("Runs of the experiment")
        self.runs_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tables = QTabWidget()
        self.tables.setObjectName("experimentTables")
        self.tables.addTab(self.settings_table, "By setting")
        self.tables.addTab(self.runs_table, "By run")
        self.curves = BandPlot()
        self.verdicts = VerdictPanel()
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.tables)
        upper.addWidget(self.curves)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.verdicts)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.live)
        layout.addWidget(self.splitter, 1)

    def _wire(self) -> None:
        controller = self.controller
        self.train_button.clicked.connect(self.train)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(lambda: controller.stop())
        self.stop_now_action.triggered.connect(lambda: controller.stop())
        self.stop_after_action.triggered.connect(lambda: controller.stop(after_run=True))
        self.add_button.clicked.connect(lambda: self.folder and self.addRunsRequested.emit(self.folder))
        self.folder_button.clicked.connect(
            lambda: self.folder and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder))))
        self.settings_table.selectionModel().selectionChanged.connect(lambda *_: self._settings_chosen())
        self.runs_table.selectionModel().selectionChanged.connect(lambda *_: self._runs_chosen())
        self.runs_table.doubleClicked.connect(lambda index: self.inspect_run(self._run_at(index.row())))
        self.runs_table.customContextMenuRequested.connect(self._run_menu)
        controller.stateChanged.connect(lambda _state: self._update_controls())
        controller.runStarted.connect(self._run_started)
        controller.batch.connect(self._batch)
        controller.epoch.connect(self._epoch)
        controller.changed.connect(lambda folder: folder == self.folder and self.reload())
        controller.sessionEnded.connect(self._session_ended)

    # ------------------------------------------------------------------ reading
    def open(self, folder: str | Path) -> bool:
        """Show the experiment in `folder`; False (and the reason in the title) when it cannot be read."""
        self.folder = Path(folder)
        self.runs_budget.setValue(0)
        self.minutes_budget.setValue(0)
        ok = self.reload()
        if ok and self.results is not None and self.results.settings:
            self.settings_table.sortByColumn(len(self.results.keys) + 1, Qt.SortOrder.DescendingOrder)
        self._fit_columns()
        return ok

    def reload(self) -> bool:
        """Read the experiment folder again and redraw (keeping the selection)."""
        if self.folder is None:
            return False
        try:
            experiment = Experiment.open(self.folder)
            results = load_results(experiment)
        except UserError as exc:
            self.experiment, self.results, self.problem = None, None, str(exc)
            self.title.setText(f"Cannot open the experiment: {exc}")
            self._update_controls()
            return False
        chosen_settings = self._selected_keys(self.settings_table)
        chosen_runs = self._selected_keys(self.runs_table)
        self.experiment, self.results, self.problem = experiment, results, ""
        self.settings_model.set_results(results)
        self.runs_model.set_runs(results.keys, experiment.runs, experiment.folder, results.metric)
        self._select(self.settings_table, chosen_settings)
        self._select(self.runs_table, chosen_runs)
        self._show_texts()
        self._show_curves()
        self._show_verdicts()
        self._update_controls()
        return True

    def _show_texts(self) -> None:
        experiment, results = self.experiment, self.results
        spec = experiment.spec
        self.title.setText(f"{experiment.name} — experiment {experiment.folder.name}")
        self.title.setToolTip(str(experiment.folder))
        done = sum(1 for r in experiment.runs if r.done)
        varies = ", ".join(f"{_short(v.key)} ({len(v.values)} values)" for v in spec.vary) or \
            f"{len(spec.combinations)} listed settings of {', '.join(_short(k) for k in spec.keys)}"
        how = {"grid": "every combination", "random": f"{spec.random} settings drawn from the grid",
               "list": "a list of settings"}[spec.mode]
        best = ""
        if results.settings and results.metric is not None:
            top = results.settings[0]
            figure = top.summaries[figure_of(results.metric)]
            value = metric_text(results.metric, figure.mean)
            best = f" Best so far: {top.label} ({results.metric.name} {value} over {figure.count} seeds)."
        self.summary.setText(f"Varies {varies}: {how}, {spec.seeds} seed{'s' * (spec.seeds != 1)} each. "
                             f"{len(experiment.runs)} runs planned: {done} trained, {len(experiment.runs) - done} to "
                             f"train.{best}")
        self.progress.setRange(0, max(len(experiment.runs), 1))
        self.progress.setValue(done)

    def _show_curves(self) -> None:
        results = self.results
        chosen = set(self._selected_keys(self.settings_table))
        settings = [s for s in results.settings if setting_key(s) in chosen] or results.settings[:SHOWN_AT_MOST]
        self.curves.show_settings(settings, [s.label for s in settings])

    def _show_verdicts(self, chosen: Verdict | None = None) -> None:
        results = self.results
        note = ""
        if len(results.settings) < 2:
            note = "A verdict needs two settings with results; train more runs."
        self.verdicts.show_verdicts(results.verdicts, chosen, note)

    # ------------------------------------------------------------------ choosing
    def _selected_keys(self, table: QTableView) -> list:
        rows = table.selectionModel().selectedRows() if table.selectionModel() else []
        return [table.model().data(index, KEY_ROLE) for index in sorted(rows, key=lambda i: i.row())]

    def _select(self, table: QTableView, keys: list) -> None:
        if not keys:
            return
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        model, selection = table.model(), table.selectionModel()
        with signals_blocked(selection):
            for row in range(model.rowCount()):
                index = model.index(row, 0)
                if model.data(index, KEY_ROLE) in keys:
                    selection.select(index, flags)

    def select_settings(self, labels: list[str]) -> None:
        """Select the settings with these labels (as the tables and verdicts name them)."""
        wanted = {setting_key(s) for s in self.results.settings if s.label in labels}
        self.settings_table.clearSelection()
        self._select(self.settings_table, list(wanted))
        self._settings_chosen()

    def _settings_chosen(self) -> None:
        if self.results is None:
            return
        self._show_curves()
        chosen = set(self._selected_keys(self.settings_table))
        pair = [s for s in self.results.settings if setting_key(s) in chosen]
        verdict = None
        if len(pair) == 2:
            verdict = verdict_between(pair[0], pair[1], self.results.metric or TEST_ACCURACY, self.results.keys)
        self._show_verdicts(verdict)

    def _runs_chosen(self) -> None:
        if self.results is None:
            return
        metric = self.results.metric or TEST_ACCURACY
        figure = figure_of(metric)
        runs = [self._run(index) for index in self._selected_keys(self.runs_table)]
        pair = [r for r in runs if r is not None and getattr(r, figure) is not None]
        verdict = None
        if len(pair) == 2:
            verdict = compare(_run_name(pair[0], self.results.keys), [getattr(pair[0], figure)],
                              _run_name(pair[1], self.results.keys), [getattr(pair[1], figure)], metric)
        self._show_verdicts(verdict)

    def _run(self, index: int) -> PlannedRun | None:
        return next((r for r in self.experiment.runs if r.index == index), None) if self.experiment else None

    def _run_at(self, row: int) -> PlannedRun | None:
        return self._run(self.runs_proxy.data(self.runs_proxy.index(row, 0), KEY_ROLE))

    def selected_runs(self) -> list[PlannedRun]:
        return [r for r in (self._run(i) for i in self._selected_keys(self.runs_table)) if r is not None]

    # ------------------------------------------------------------------ acting
    def train(self) -> bool:
        """Train (or go on training) this experiment within the budget set beside the button."""
        if self.folder is None:
            return False
        return self.controller.start(self.folder, budget_of(self.runs_budget, self.minutes_budget))

    def _toggle_pause(self) -> None:
        if self.controller.state == PAUSED:
            self.controller.resume()
        else:
            self.controller.pause()

    def inspect_run(self, run: PlannedRun | None) -> None:
        """Show a trained run's model in the inspection views."""
        if run is None or self.experiment is None or self.history is None:
            return
        self.history.open_for_inspection(self.experiment.run_path(run))

    def compare_runs(self, runs: list[PlannedRun]) -> None:
        """Overlay these runs' curves in the Compare Runs tab."""
        if self.experiment is None or self.history is None:
            return
        self.history.compare([self.experiment.run_path(r) for r in runs if r.status != "pending"])

    def _run_menu(self, position: QPoint) -> None:
        index = self.runs_table.indexAt(position)
        if index.isValid() and not self.runs_table.selectionModel().isRowSelected(index.row(), index.parent()):
            self.runs_table.selectRow(index.row())
        runs = self.selected_runs()
        one = runs[0] if len(runs) == 1 else None
        trained = one is not None and self.experiment is not None and \
            (self.experiment.run_path(one) / "model.keras").is_file()
        menu = QMenu(self)
        for text, slot, enabled in (
                ("Open for Inspection", lambda: self.inspect_run(one), trained),
                ("Compare Curves", lambda: self.compare_runs(runs), any(r.status != "pending" for r in runs)),
                ("Show Folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(
                    str(self.experiment.run_path(one)))), one is not None and one.status != "pending")):
            action = QAction(text, menu)
            action.setEnabled(bool(enabled) and (self.history is not None or text == "Show Folder"))
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.exec(self.runs_table.viewport().mapToGlobal(position))
        menu.deleteLater()

    # ------------------------------------------------------------------ live
    def _is_mine(self, folder: Path) -> bool:
        return self.folder is not None and Path(folder) == self.folder

    def _run_started(self, folder: Path, started: ExperimentRunStarted) -> None:
        if not self._is_mine(folder):
            return
        run = started.run
        self.live.show()
        self.live_plot.reset()
        self.progress.setRange(0, max(started.total, 1))
        self.progress.setValue(started.done)
        self.live_text.setText(f"Training run {run.index} of {started.total}: {run.label}, seed {run.seed}")
        self._update_controls()

    def _batch(self, folder: Path, index: int, report) -> None:
        if not self._is_mine(folder):
            return
        self.live_plot.add_batch(report)
        batches = f", batch {report.batch} of {report.batches}" if report.batches else ""
        text = self.live_text.text().split(" — ")[0]
        self.live_text.setText(f"{text} — epoch {report.epoch} of {report.epochs}{batches}, loss {report.loss:.3f}")

    def _epoch(self, folder: Path, index: int, report) -> None:
        if self._is_mine(folder):
            self.live_plot.add_epoch(report)

    def _session_ended(self, folder: Path, text: str) -> None:
        if not self._is_mine(folder):
            return
        self.live.hide()
        self.summary.setText(f"{self.summary.text()} Last session: {text}.")

    def _update_controls(self) -> None:
        state = self.controller.state
        mine = self.folder is not None and self.controller.folder == self.folder
        queued = self.folder is not None and self.controller.is_queued(self.folder)
        experiment = self.experiment
        left = 0 if experiment is None else sum(1 for r in experiment.runs if not r.done)
        started = experiment is not None and any(r.status != "pending" for r in experiment.runs)
        self.train_button.setText("Resume" if started else "Train")
        self.train_button.setEnabled(experiment is not None and left > 0 and not mine and not queued)
        self.pause_button.setEnabled(mine and state in (RUNNING, PAUSED))
        self.pause_button.setText("Resume Run" if mine and state == PAUSED else "Pause")
        self.stop_button.setEnabled(mine and state != IDLE and state != "stopping")
        self.add_button.setEnabled(experiment is not None)
        self.folder_button.setEnabled(self.folder is not None)
        self.live.setVisible(mine)

    def _fit_columns(self) -> None:
        for table in (self.settings_table, self.runs_table):
            table.resizeColumnsToContents()
            header = table.horizontalHeader()
            for column in range(table.model().columnCount()):
                header.resizeSection(column, min(header.sectionSize(column), MAX_COLUMN_WIDTH))


def _short(key: str) -> str:
    return key.removeprefix("training.")


def _run_name(run: PlannedRun, keys: list[str]) -> str:
    return f"run {run.index} ({values_label(run.values, keys)}, seed {run.seed})"

