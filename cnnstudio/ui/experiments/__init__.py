"""Experiments in the window: define one from the open project, train its runs one after another, stop,
resume, add runs, and read the results with verdicts.

    experiments = install(context, history)    # once, from MainWindow._install_features
    experiments.new_experiment()               # the definition dialog on the open project
    experiments.open(folder)                   # the Experiment tab on a folder
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiments import Experiment

from ..context import AppContext
from .controller import Budget, ExperimentController
from .definition import ExperimentDialog
from .panel import ExperimentsPanel
from .view import ExperimentView

if TYPE_CHECKING:
    from ..runs import RunHistory

__all__ = ["Budget", "ExperimentController", "ExperimentDialog", "ExperimentView", "Experiments",
           "ExperimentsPanel", "install"]


class Experiments(QObject):
    """The feature's public face: the controller, the Experiments panel, the Experiment tab, and the dialogs."""

    def __init__(self, context: AppContext, history: RunHistory) -> None:
        super().__init__(context.parent)
        self.context = context
        self.controller = ExperimentController(context)
        self.view = ExperimentView(context, self.controller, history, parent=context.parent)
        self.view.hide()  # until an experiment is opened: then it becomes the Experiment tab
        self.panel = ExperimentsPanel(self.controller, lambda: context.runs.folder)
        self.dialog: ExperimentDialog | None = None  # the one open, if any
        self._tab_added = False
        self.view.addRunsRequested.connect(self.add_runs)
        self.panel.openRequested.connect(self.open)
        self.panel.newRequested.connect(self.new_experiment)
        self.panel.addRunsRequested.connect(self.add_runs)
        context.document.pathChanged.connect(lambda _path: self.panel.refresh())
        context.document.projectReplaced.connect(self.panel.refresh)

    def open(self, folder: str | Path) -> ExperimentView:
        """Show the experiment in `folder` in the Experiment tab, in front."""
        if not self._tab_added:
            self.context.shell.add_tab(self.view, "Experiment")
            self._tab_added = True
        self.view.open(folder)
        self.context.shell.show_tab(self.view)
        self.panel.select(Path(folder))
        return self.view

    def new_experiment(self) -> ExperimentDialog:
        """The definition dialog on the open project (not modal: the window stays usable)."""
        dialog = ExperimentDialog(self.context.document.project, self.context.parent, submit=self._create)
        return self._show(dialog)

    def add_runs(self, folder: str | Path) -> ExperimentDialog | None:
        """The dialog that adds values, settings or seeds to the experiment in `folder`."""
        try:
            experiment = Experiment.open(folder)
        except UserError as exc:
            self.context.messages.show("error", str(exc))
            return None
        dialog = ExperimentDialog(experiment.base, self.context.parent, experiment=experiment, submit=self._extend)
        return self._show(dialog)

    def _show(self, dialog: ExperimentDialog) -> ExperimentDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None, d=dialog: self._forget(d))
        dialog.show()
        return dialog

    def _forget(self, dialog: ExperimentDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _create(self, dialog: ExperimentDialog) -> None:
        folder = self.controller.create(dialog.project_to_train(), dialog.spec())
        self.panel.refresh()
        self.open(folder)
        if dialog.train_now:
            self.controller.start(folder, dialog.budget())

    def _extend(self, dialog: ExperimentDialog) -> None:
        folder = dialog.experiment.folder
        self.controller.extend(folder, dialog.spec())
        self.panel.refresh()
        self.open(folder)
        if dialog.train_now and not (self.controller.folder == folder or self.controller.is_queued(folder)):
            self.controller.start(folder, dialog.budget())


def install(context: AppContext, history: RunHistory) -> Experiments:
    """The Experiments panel (beside Runs), the Experiment tab (when one is opened) and Train > New Experiment…"""
    experiments = Experiments(context, history)
    shell = context.shell
    dock = shell.add_panel("experiments", "Experiments", experiments.panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                           beside="runs")
    menu = shell.menu("&Train")
    menu.addSeparator()
    for name, text, shortcut, tip, slot in (
            ("experiment_new", "New &Experiment…", "Ctrl+Shift+E",
             "Train the open project under several settings and seeds, and see which differences are real",
             experiments.new_experiment),
            ("experiments_show", "Show E&xperiments", "", "The experiments of the runs folder",
             lambda: (dock.show(), dock.raise_()))):
        action = QAction(text, context.parent)
        action.setObjectName(f"action_{name}")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        shell.add_action(name, action)
        menu.addAction(action)
    return experiments
