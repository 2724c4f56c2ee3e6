"""The Dataset panel: choose, look at and prepare the data, and make the network fit it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from .panel import DatasetPanel

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["DatasetPanel", "install"]


def install(window: MainWindow) -> DatasetPanel:
    """Dock the panel on the right, as a tab beside the Inspector (the Inspector stays in front)."""
    panel = DatasetPanel(window)
    dock = window.add_panel("dataset", "Dataset", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    dock.setObjectName("datasetPanel")
    dock.visibilityChanged.connect(panel.set_shown)  # loads only while someone can see it
    inspector = window.docks.get("inspector")
    if inspector is not None:
        window.tabifyDockWidget(inspector, dock)
        inspector.raise_()
    window.dataset_panel = panel
    panel.update_fit()
    return panel
