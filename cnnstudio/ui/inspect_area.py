"""What the inspection views share: the "Inspect" tab they live in, and the input they look at.

Views (filters, feature maps, prediction, evaluation, saliency, activation
maximization) are added as pages of one `InspectArea` in the centre of the window.
The chosen input — a dataset image, an opened file or a drawing — is one shared
`CurrentInput`: choosing an image anywhere (a confusion-matrix cell, the sample
browser, the drawing canvas) shows it in every view that follows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from cnnstudio.ml.jobs.results import InputImage

if TYPE_CHECKING:
    from .context import Shell

__all__ = ["CurrentInput", "InputImage", "InspectArea"]


class CurrentInput(QObject):
    """The input the inspection views show; ``changed`` carries the new `InputImage`."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.value: InputImage | None = None

    def set(self, value: InputImage | None) -> None:
        self.value = value
        self.changed.emit(value)


class InspectArea(QTabWidget):
    """The "Inspect" tab in the centre of the window; each inspection view is one of its pages."""

    def __init__(self, shell: Shell) -> None:
        super().__init__()
        self.setObjectName("inspectTabs")
        self.setDocumentMode(True)
        self._shell = shell
        shell.add_tab(self, "Inspect")

    def show_page(self, page: QWidget) -> None:
        """Bring an inspection view to the front (switching the centre to the Inspect tab)."""
        self._shell.show_tab(self)
        self.setCurrentWidget(page)
