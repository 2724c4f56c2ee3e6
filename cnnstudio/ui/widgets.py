"""Small widget helpers.

(superqt has equivalents, but importing it pulls in qtpy and all its widgets,
which costs the start-up a good fraction of a second; these are all we need.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtWidgets import QSizePolicy, QToolButton, QVBoxLayout, QWidget


@contextmanager
def signals_blocked(obj: QObject) -> Iterator[None]:
    """Apply a model change to a widget without the widget echoing it back."""
    blocker = QSignalBlocker(obj)
    try:
        yield
    finally:
        blocker.unblock()


class Collapsible(QWidget):
    """A header button that shows or hides the widgets under it."""

    def __init__(self, title: str = "", parent: QWidget | None = None, expanded: bool = False) -> None:
        super().__init__(parent)
        self.button = QToolButton(self)
        self.button.setObjectName("collapsibleHeader")
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.button.toggled.connect(self.setExpanded)
        self.content = QWidget(self)
        self.content_layout = QVBoxLayout(self.content)
        self.content_layout.setContentsMargins(0, 4, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.button)
        layout.addWidget(self.content)
        self.setText(title)
        self.setExpanded(expanded)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming, like superqt's QCollapsible)
        self.button.setText(text)

    def addWidget(self, widget: QWidget) -> None:  # noqa: N802
        self.content_layout.addWidget(widget)

    def isExpanded(self) -> bool:  # noqa: N802
        return self.button.isChecked()

    def setExpanded(self, expanded: bool) -> None:  # noqa: N802
        if self.button.isChecked() != expanded:
            self.button.setChecked(expanded)
            return
        self.button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.content.setVisible(expanded)
