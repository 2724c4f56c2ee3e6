"""What every feature of the window is given: one typed application context.

The main window makes the shared pieces once (the open project, its settings, the ML
client, the run store, the inspected model, the shared input, the messages) and hands
them to each feature as an `AppContext`. A feature that needs another feature gets
that feature's public face as a constructor argument, so `main_window.py` shows every
feature and what it depends on; nothing is ever attached to the window from outside.

    context = AppContext(shell=window, document=..., ml=..., ...)
    training = TrainingFeature(context)
    runs = RunsFeature(context, training.controller, exporting)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QToolBar, QWidget

if TYPE_CHECKING:
    from cnnstudio.core.project import Project
    from cnnstudio.core.project_settings import ProjectSettings

    from .document import ProjectDocument
    from .editor.editor import NetworkEditor
    from .inspect_area import CurrentInput
    from .messages import Messages
    from .ml_client import MLClient
    from .model_source import ModelSource
    from .runs.store import RunStore


class Shell(Protocol):
    """What a feature may do with the main window: add its views, menus and actions, and ask
    the window to show or replace the project."""

    toolbar: QToolBar
    editor: NetworkEditor

    def main_window(self) -> QMainWindow: ...  # the parent of a feature's dialogs and actions

    def add_tab(self, widget: QWidget, title: str) -> int: ...

    def show_tab(self, widget: QWidget) -> None: ...

    def add_panel(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea, *,
                  beside: str | None = None) -> QDockWidget: ...

    def dock(self, name: str) -> QDockWidget: ...

    def menu(self, name: str) -> QMenu: ...

    def add_action(self, name: str, action: QAction) -> None: ...

    def action(self, name: str) -> QAction: ...

    def confirm_discard(self) -> bool: ...

    def show_project(self, project: Project) -> None: ...

    def close(self) -> bool: ...


@dataclass(frozen=True)
class AppContext:
    """The shared pieces of one window, as every feature receives them."""

    shell: Shell
    document: ProjectDocument  # the open project, its undo history and analysis
    settings: ProjectSettings  # its training and dataset settings, evented (the document's)
    ml: MLClient  # schedules ML jobs (cnnstudio.ml.jobs); all TensorFlow work happens on the other side
    model_source: ModelSource  # which model the inspection views look at
    runs: RunStore  # where training runs are kept
    current_input: CurrentInput  # the input the inspection views share
    messages: Messages  # the Messages log and the status bar

    @property
    def parent(self) -> QMainWindow:
        """The widget a feature's dialogs and actions belong to."""
        return self.shell.main_window()


CloseGuard = Callable[[], bool]  # asked before the window closes; False keeps it open
