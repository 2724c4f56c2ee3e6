"""Training in the app: the Training dock (settings, Train/Pause/Stop, progress), the Training tab
(live curves, live filters and feature maps, hints), the Train menu, and `window.training`.

    install(window)        # once, from MainWindow._install_features
    window.training.start()

`TrainingCurves` / `plot_history(rows)` draw a finished run's metrics.csv for other views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from ..icons import icon
from .controller import IDLE, PAUSED, TrainingController
from .curves import TrainingCurves, plot_history
from .hints import Hint, fitting_hint
from .panel import TrainingPanel
from .view import TrainingView

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["Hint", "TrainingController", "TrainingCurves", "TrainingPanel", "TrainingView", "fitting_hint",
           "install", "plot_history"]


def install(window: MainWindow) -> TrainingController:
    """Add training to the window: `window.training`, the Training tab and dock, and the Train menu."""
    controller = TrainingController(window)
    window.training = controller
    view = TrainingView(controller, window.workspace, window)
    window.add_tab(view, "Training")
    panel = TrainingPanel(window, controller)
    dock = window.add_panel("training", "Training", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    inspector = window.docks.get("inspector")
    if inspector is not None:
        window.tabifyDockWidget(inspector, dock)
        inspector.raise_()
    window.training_view, window.training_panel = view, panel

    def show_training() -> None:
        window.tabs.setCurrentWidget(view)
        dock.show()
        dock.raise_()

    controller.runStarting.connect(lambda _request: show_training())
    _add_menu(window, controller, panel, show_training)
    window.close_guards.append(controller.close_guard)
    return controller


def _add_menu(window: MainWindow, controller: TrainingController, panel: TrainingPanel, show_training) -> None:
    menu = window.menu("&Train")
    start = QAction("&Start Training", window)
    start.setObjectName("action_train_start")
    start.setShortcut(QKeySequence("F5"))
    start.setStatusTip("Train the network with the settings in the Training panel")
    start.triggered.connect(panel.start)
    pause = QAction("&Pause", window)
    pause.setObjectName("action_train_pause")
    pause.setShortcut(QKeySequence("F6"))
    pause.setStatusTip("Hold training after the current batch, or carry on after a pause")
    pause.triggered.connect(panel.toggle_pause)
    stop = QAction("S&top", window)
    stop.setObjectName("action_train_stop")
    stop.setShortcut(QKeySequence("Shift+F5"))
    stop.setStatusTip("End training after the current batch; the weights trained so far are kept")
    stop.triggered.connect(controller.stop)
    show = QAction("Show Training &Curves", window)
    show.setObjectName("action_train_show")
    show.triggered.connect(show_training)
    toolbar = window.toolbar
    toolbar.addSeparator()
    for action, icon_name in ((start, "train"), (pause, "pause"), (stop, "stop")):
        menu.addAction(action)
        action.setData(icon_name)  # re-tinted with the other toolbar icons on a light/dark switch
        action.setIcon(icon(icon_name))
        action.setToolTip(f"{action.statusTip()} ({action.shortcut().toString()})")
        toolbar.addAction(action)
    menu.addSeparator()
    menu.addAction(show)
    window.actions_.update(train_start=start, train_pause=pause, train_stop=stop, train_show=show)

    def on_state(state: str) -> None:
        start.setEnabled(state == IDLE)
        pause.setEnabled(state != IDLE and state != "stopping")
        pause.setText("&Resume" if state == PAUSED else "&Pause")
        stop.setEnabled(state != IDLE and state != "stopping")

    controller.stateChanged.connect(on_state)
    on_state(controller.state)
