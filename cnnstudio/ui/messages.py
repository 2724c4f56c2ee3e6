"""The messages dock: the network's current errors and warnings, then a log of what happened."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStatusBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.analysis import Analysis

from .document import ProjectDocument
from .icons import severity_icon

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
MAX_LOG = 200


class MessagesPanel(QWidget):
    """Problems first (click one to select its layer), then the session's log."""

    layerClicked = Signal(str)
    countsChanged = Signal(int, int)  # errors, warnings

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("messages")
        self.tree.setAccessibleName("Messages")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Where", "Message"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setColumnWidth(0, 150)
        self.tree.setWordWrap(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.itemClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addWidget(self.tree)
        document.analysisChanged.connect(self.show_problems)
        self.show_problems(document.analysis())

    def show_problems(self, analysis: Analysis) -> None:
        for i in reversed(range(self.tree.topLevelItemCount())):
            if self.tree.topLevelItem(i).data(0, KIND_ROLE) == "problem":
                self.tree.takeTopLevelItem(i)
        ordered = analysis.errors + analysis.warnings
        items = []
        for diagnostic in ordered:
            item = QTreeWidgetItem([diagnostic.node or "network", diagnostic.message])
            item.setIcon(0, severity_icon(diagnostic.severity))
            item.setToolTip(1, diagnostic.message)
            item.setData(0, NODE_ROLE, diagnostic.node)
            item.setData(0, KIND_ROLE, "problem")
            items.append(item)
        if not items:
            item = QTreeWidgetItem(["network", "No problems: every layer's shape and parameters check out."])
            item.setIcon(0, severity_icon("ok"))
            item.setData(0, KIND_ROLE, "problem")
            items.append(item)
        self.tree.insertTopLevelItems(0, items)
        self.countsChanged.emit(len(analysis.errors), len(analysis.warnings))

    def log(self, severity: str, text: str) -> None:
        """Add a line to the log (saved files, refused connections, ...)."""
        item = QTreeWidgetItem([time.strftime("%H:%M:%S"), text])
        item.setIcon(0, severity_icon(severity))
        item.setToolTip(1, text)
        item.setData(0, KIND_ROLE, "log")
        self.tree.addTopLevelItem(item)
        logs = [
            i
            for i in range(self.tree.topLevelItemCount())
            if self.tree.topLevelItem(i).data(0, KIND_ROLE) == "log"
        ]
        if len(logs) > MAX_LOG:
            self.tree.takeTopLevelItem(logs[0])
        self.tree.scrollToItem(item)

    def texts(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(1) for i in range(self.tree.topLevelItemCount())]

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        node = item.data(0, NODE_ROLE)
        if node:
            self.layerClicked.emit(node)


class Messages(QObject):
    """How features tell the user what happened: a line in the Messages log (with the status bar
    repeating it), or a passing word in the status bar only."""

    shown = Signal(str, str)  # severity, text: a line went into the log

    SHOWN_MS = 8000

    def __init__(self, panel: MessagesPanel, status_bar: QStatusBar) -> None:
        super().__init__(panel)
        self.panel = panel
        self.status_bar = status_bar

    def show(self, severity: str, text: str) -> None:
        """Log ``text`` ("info", "warning" or "error") and show it in the status bar for a while."""
        self.panel.log(severity, text)
        self.status_bar.showMessage(text, self.SHOWN_MS)
        self.shown.emit(severity, text)

    def status(self, text: str, timeout_ms: int = 0) -> None:
        """A passing word in the status bar (0: until replaced)."""
        self.status_bar.showMessage(text, timeout_ms)

    def clear_status(self) -> None:
        self.status_bar.clearMessage()
