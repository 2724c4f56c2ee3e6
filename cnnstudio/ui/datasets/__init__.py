"""The Dataset panel: choose, look at and prepare the data, and make the network fit it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ..context import AppContext
from .panel import DatasetPanel

__all__ = ["DatasetPanel", "install"]


def install(context: AppContext) -> DatasetPanel:
    """Dock the panel on the right, as a tab beside the Inspector (the Inspector stays in front)."""
    panel = DatasetPanel(context)
    dock = context.shell.add_panel("dataset", "Dataset", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                                   beside="inspector")
    dock.setObjectName("datasetPanel")
    dock.visibilityChanged.connect(panel.set_shown)  # loads only while someone can see it
    panel.fitChanged.connect(lambda errors: dock.setWindowTitle("Dataset ⚠" if errors else "Dataset"))
    panel.update_fit()
    return panel
