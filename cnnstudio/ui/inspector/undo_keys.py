"""Ctrl+Z in an Inspector field undoes the network once the field's own edit is in it.

A spin box or line edit takes Ctrl+Z for its own text, so the window's Undo never ran
while the cursor was in a field. Here the field keeps the key only while it holds text
that has not reached the network (half-typed, not yet a value); otherwise the key goes
to the document's undo stack, and the typing burst ends first so that the whole field
edit is the one step undone.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget

UNDO_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class DocumentUndoKeys(QObject):
    """Event filter for the fields of one form."""

    def __init__(self, end_edit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.end_edit = end_edit  # ends the typing burst (the next keystroke starts a new step)
        self._committed: dict[int, Callable[[], bool]] = {}

    def watch(self, widget: QWidget, committed: Callable[[], bool] | None = None) -> None:
        """``committed()``: is what the field shows already in the network? (default: it reads as a value)"""
        key = id(widget)
        self._committed[key] = committed or (lambda: _reads_as_value(widget))
        widget.installEventFilter(self)
        widget.destroyed.connect(lambda _obj=None: self._committed.pop(key, None))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if any(event.matches(key) for key in UNDO_KEYS):
                committed = self._committed.get(id(watched))
                if committed is not None and committed():
                    self.end_edit()
                    return True  # not taken by the field: the window's Undo/Redo shortcut runs
        return False


def _reads_as_value(widget: QWidget) -> bool:
    if isinstance(widget, QAbstractSpinBox):
        return widget.hasAcceptableInput()
    if isinstance(widget, QLineEdit):
        return widget.hasAcceptableInput() and not widget.isModified()
    return True
