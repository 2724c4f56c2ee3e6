"""The convolution playground tab: see one kernel slide over a picture or a signal, step by step."""

from __future__ import annotations

from PySide6.QtGui import QAction

from ..context import AppContext
from .view import PICTURE, SIGNAL, PlaygroundView

__all__ = ["PICTURE", "SIGNAL", "PlaygroundView", "install"]


def install(context: AppContext) -> PlaygroundView:
    """Add the "Playground" tab and View > Convolution Playground."""
    view = PlaygroundView(context.parent)
    context.shell.add_tab(view, "Playground")
    action = QAction("Convolution &Playground", context.parent)
    action.setObjectName("action_playground")
    action.setToolTip("Slide a kernel over a picture and see every multiply-and-sum")
    action.triggered.connect(lambda: context.shell.show_tab(view))
    context.shell.menu("&View").addAction(action)
    context.shell.add_action("playground", action)
    return view
