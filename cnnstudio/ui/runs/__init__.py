"""The run history: every training run listed, compared, reopened for inspection, exported or deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer

from .comparison import RunComparison
from .history import RunHistory

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["RunComparison", "RunHistory", "install"]


def install(window: MainWindow) -> RunHistory:
    """Dock "Runs" at the bottom (a tab beside the Summary) and offer ``window.run_history``."""
    history = RunHistory(window)
    dock = window.add_panel("runs", "Runs", history, Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.setObjectName("runHistory")
    summary = window.docks.get("summary")
    if summary is not None:
        window.tabifyDockWidget(summary, dock)
        summary.raise_()
    window.run_history = history
    history.connect_training(getattr(window, "training", None))
    if getattr(window, "training", None) is None:  # a training feature installed after this one
        QTimer.singleShot(0, history, lambda: history.connect_training(getattr(window, "training", None)))
    return history
