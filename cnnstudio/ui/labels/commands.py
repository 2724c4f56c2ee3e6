"""Undoable label edits of a folder dataset: in the project (relabel, leave out, restore), or, only
when the user asks, by moving the picture's file into another class folder.

Edits in the project go through the Dataset settings (`DataChoices.relabel` / `.exclude`), so
every view of the data hears of them; the files are not touched. A move is a real move that
never overwrites (`core.label_edits.move_image`); undoing it moves the file back, and when that
is no longer possible (the file went, another took its place) the step is dropped from the
history with the reason in Messages.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.errors import UserError
from cnnstudio.core.label_edits import (
    EXCLUDE,
    RELABEL,
    Move,
    excluded,
    move_image,
    relabelled,
    restored,
    undo_move,
)
from cnnstudio.core.project_settings import DataChoices, EventedChoices

Report = Callable[[str], None]


def _edits(section: dict[str, Any]) -> dict[str, Any]:
    return {RELABEL: section.get(RELABEL) or None, EXCLUDE: section.get(EXCLUDE) or None}


class LabelEditCommand(QUndoCommand):
    """The project's relabelled and left-out images, from what they were to what they become."""

    def __init__(self, data: EventedChoices[DataChoices], after: dict[str, Any], text: str) -> None:
        super().__init__(text)
        self.data = data
        self.before = {RELABEL: data.get(RELABEL), EXCLUDE: data.get(EXCLUDE)}
        self.after = _edits(after)

    def redo(self) -> None:
        self.data.update(**self.after)

    def undo(self) -> None:
        self.data.update(**self.before)


def _section(data: EventedChoices[DataChoices]) -> dict[str, Any]:
    return {key: value for key in (RELABEL, EXCLUDE) if (value := data.get(key))}


def relabel(data: EventedChoices[DataChoices], path: str, class_name: str) -> LabelEditCommand:
    """Record that the picture at `path` (relative to the dataset folder) belongs to `class_name`."""
    return LabelEditCommand(data, relabelled(_section(data), path, class_name), f"Relabel {path} as {class_name}")


def leave_out(data: EventedChoices[DataChoices], path: str) -> LabelEditCommand:
    """Record that the picture at `path` is left out of the dataset."""
    return LabelEditCommand(data, excluded(_section(data), path), f"Leave out {path}")


def restore(data: EventedChoices[DataChoices], path: str) -> LabelEditCommand:
    """Forget any edit of the picture at `path`: its folder's class again, included."""
    return LabelEditCommand(data, restored(_section(data), path), f"Restore the label of {path}")


class MoveFileCommand(QUndoCommand):
    """A picture moved into another class folder (already moved when this is made), and any edit the
    project held for it dropped: the folder now says its class."""

    def __init__(self, data: EventedChoices[DataChoices], root: Path, move: Move, path: str, report: Report,
                 moved: Callable[[], None] | None = None) -> None:
        super().__init__(f"Move {path} to {move.target.parent.name}/")
        self.data = data
        self.root = root
        self.class_name = move.target.parent.name
        self.move = move
        self.path = path
        self.report = report
        self.moved = moved or (lambda: None)
        self.edit = LabelEditCommand(data, restored(_section(data), path), "")
        self._done = True  # the first redo (from the push) finds the file already moved

    def redo(self) -> None:
        if not self._done:
            try:
                self.move = move_image(self.root, self.path, self.class_name)
            except UserError as exc:
                self._give_up(f"Could not move {self.path} again: {exc}")
                return
        self._done = False
        self.edit.redo()
        self.moved()

    def undo(self) -> None:
        try:
            undo_move(self.move)
        except UserError as exc:
            self._give_up(f"Could not move {self.move.target.name} back: {exc}")
            return
        self.edit.undo()
        self.moved()

    def _give_up(self, message: str) -> None:
        self.setObsolete(True)  # the undo history drops this step
        self.report(message)


def move_file(data: EventedChoices[DataChoices], root: Path, path: str, class_name: str, report: Report,
              moved: Callable[[], None] | None = None) -> MoveFileCommand:
    """Move the picture now (UserError, nothing moved, when it cannot be done without overwriting);
    returns the command to push, which undoes it."""
    move = move_image(root, path, class_name)
    return MoveFileCommand(data, Path(root), move, path, report, moved)
