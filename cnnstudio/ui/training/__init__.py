"""Training in the app: the Training dock (settings, Train/Pause/Stop, progress), the Training tab
(live curves, live filters and feature maps, hints) and the Train menu.

    training = install(context)        # once, from MainWindow._install_features
    training.controller.start()

`TrainingCurves` / `plot_history(rows)` draw a finished run's metrics.csv for other views.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from ..context import AppContext
from ..icons import icon
from .controller import IDLE, PAUSED, TrainingController
from .curves import TrainingCurves, plot_history
from .hints import Hint, fitting_hint
from .panel import TrainingPanel
from .view import TrainingView

__all__ = ["Hint", "TrainingController", "TrainingCurves", "TrainingFeature", "TrainingPanel", "TrainingView",
           "fitting_hint", "install", "plot_history"]


@dataclass(frozen=True)
class TrainingFeature:
    """Training's public face: the controller that runs training, the Training tab and the dock's panel."""

    controller: TrainingController
    view: TrainingView
    panel: TrainingPanel


def install(context: AppContext) -> TrainingFeature:
    """Add training to the window: the Training tab and dock, and the Train menu."""
    shell = context.shell
    controller = TrainingController(context)
    view = TrainingView(controller, context)
    shell.add_tab(view, "Training")
    panel = TrainingPanel(context, controller)
    dock = shell.add_panel("training", "Training", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                           beside="inspector")

    def show_training() -> None:
        shell.show_tab(view)
        dock.show()
        dock.raise_()

    controller.runStarting.connect(lambda _request: show_training())
    _add_menu(context, controller, panel, show_training)
    return TrainingFeature(controller, view, panel)


def _add_menu(context: AppContext, controller: TrainingController, panel: TrainingPanel, show_training) -> None:
    shell = context.shell
    menu = shell.menu("&Train")
    start, pause, stop, show = (
        _action(context, name, text, key, tip, slot) for name, text, key, tip, slot in (
            ("train_start", "&Start Training", "F5", "Train the network with the settings in the Training panel",
             panel.start),
            ("train_pause", "&Pause", "F6", "Hold training after the current batch, or carry on after a pause",
             panel.toggle_pause),
            ("train_stop", "S&top", "Shift+F5",
             "End training after the current batch; the weights trained so far are kept", controller.stop),
            ("train_show", "Show Training &Curves", "", "", show_training)))
    toolbar = shell.toolbar
    toolbar.addSeparator()
    for action, icon_name in ((start, "train"), (pause, "pause"), (stop, "stop")):
        menu.addAction(action)
        action.setData(icon_name)  # re-tinted with the other toolbar icons on a light/dark switch
        action.setIcon(icon(icon_name))
        action.setToolTip(f"{action.statusTip()} ({action.shortcut().toString()})")
        toolbar.addAction(action)
    menu.addSeparator()
    menu.addAction(show)

    def on_state(state: str) -> None:
        start.setEnabled(state == IDLE)
        pause.setEnabled(state != IDLE and state != "stopping")
        pause.setText("&Resume" if state == PAUSED else "&Pause")
        stop.setEnabled(state != IDLE and state != "stopping")

    controller.stateChanged.connect(on_state)
    on_state(controller.state)


def _action(context: AppContext, name: str, text: str, shortcut: str, tip: str, slot) -> QAction:
    """A Train-menu action, known to the window as ``name``."""
    action = QAction(text, context.parent)
    action.setObjectName(f"action_{name}")
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    context.shell.add_action(name, action)
    return action
