"""The run history: every training run listed, compared, reopened for inspection, exported or deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from ..context import AppContext
from .comparison import RunComparison
from .history import RunHistory
from .store import RunStore

if TYPE_CHECKING:
    from ..exporting import TransferFeature
    from ..inspect_area import InspectArea
    from ..training import TrainingController

__all__ = ["RunComparison", "RunHistory", "RunStore", "install"]


def install(context: AppContext, training: TrainingController, exporter: TransferFeature,
            inspect_area: InspectArea) -> RunHistory:
    """Dock "Runs" at the bottom, a tab beside the Summary (which stays in front)."""
    history = RunHistory(context, training, exporter, inspect_area)
    dock = context.shell.add_panel("runs", "Runs", history, Qt.DockWidgetArea.BottomDockWidgetArea,
                                   beside="summary")
    dock.setObjectName("runHistory")
    return history
