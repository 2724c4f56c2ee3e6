"""What the inspection views share: the "Inspect" tab they live in, and the input they look at.

Views (filters, feature maps, prediction, evaluation, saliency, activation
maximization) are added as pages of one tab widget in the centre of the window.
The chosen input — a dataset image, an opened file or a drawing — is one shared
`CurrentInput`: choosing an image anywhere (a confusion-matrix cell, the sample
browser, the drawing canvas) shows it in every view that follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass(frozen=True)
class InputImage:
    """One network input: ``image`` is (H, W, C) float32, prepared exactly as training data are."""

    image: np.ndarray
    title: str  # e.g. "test image 17 (a 7)", "drawn by hand", "cat.png"
    label: int | None = None  # the true class, when known
    origin: str = "dataset"  # "dataset", "file" or "drawing"
    split: str | None = None  # for dataset images: "train", "validation" or "test"
    index: int | None = None  # for dataset images: the position in that split


class CurrentInput(QObject):
    """The input the inspection views show; ``changed`` carries the new `InputImage`."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.value: InputImage | None = None

    def set(self, value: InputImage | None) -> None:
        self.value = value
        self.changed.emit(value)


def inspect_area(window: MainWindow) -> QTabWidget:
    """The "Inspect" tab of the window (created on first use); views add themselves as pages."""
    area = window.findChild(QTabWidget, "inspectTabs")
    if area is None:
        area = QTabWidget(window)
        area.setObjectName("inspectTabs")
        area.setDocumentMode(True)
        window.add_tab(area, "Inspect")
    return area


def current_input(window: MainWindow) -> CurrentInput:
    """The window's shared `CurrentInput` (created on first use)."""
    found = window.findChild(CurrentInput, "currentInput")
    if found is None:
        found = CurrentInput(window)
        found.setObjectName("currentInput")
    return found


def show_page(window: MainWindow, page: QWidget) -> None:
    """Bring an inspection view to the front (switching the centre to the Inspect tab)."""
    area = inspect_area(window)
    window.tabs.setCurrentWidget(area)
    area.setCurrentWidget(page)
