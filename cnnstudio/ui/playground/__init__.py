"""The convolution playground tab: see one kernel slide over a picture or a signal, step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from .view import PICTURE, SIGNAL, PlaygroundView

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["PICTURE", "SIGNAL", "PlaygroundView", "install", "show_playground"]


def install(window: MainWindow) -> PlaygroundView:
    """Add the "Playground" tab and View > Convolution Playground; the view is ``window.playground``."""
    view = PlaygroundView(window)
    window.add_tab(view, "Playground")
    window.playground = view
    action = QAction("Convolution &Playground", window)
    action.setObjectName("action_playground")
    action.setToolTip("Slide a kernel over a picture and see every multiply-and-sum")
    action.triggered.connect(lambda: show_playground(window))
    window.menu("&View").addAction(action)
    window.actions_["playground"] = action
    return view


def show_playground(window: MainWindow) -> PlaygroundView:
    """Bring the playground tab to the front."""
    window.tabs.setCurrentWidget(window.playground)
    return window.playground
