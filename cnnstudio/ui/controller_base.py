"""What the controllers of long work (training, experiments) share: a state told by a signal and
failures said to the user in the message area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from .context import AppContext

IDLE = "idle"


class WorkController(QObject):
    """A QObject with a `state` (stateChanged on each change) that says failures in the user's words."""

    stateChanged = Signal(str)
    failed = Signal(str)  # in the user's words

    def __init__(self, context: AppContext) -> None:
        super().__init__(context.parent)
        self.context = context
        self.state = IDLE

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _fail(self, text: str) -> None:
        self._say("error", text)
        self.failed.emit(text)

    def _say(self, severity: str, text: str) -> None:
        self.context.messages.show(severity, text)
