"""The run history as a table model: one row per run, sortable, with what differs between runs.

Rows come from `cnnstudio.core.runs.RunSummary` (run.json and project.cnnproj only).
A run of this project whose network is not the one in the editor any more is greyed
("older network"); the run shown in the inspection views is bold.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from cnnstudio.core.runs import RunSummary, differing_settings

from ..theme import ERROR_COLOR, WARNING_COLOR

COLUMNS = ("Run", "Date", "Project", "Dataset", "Differs", "Epochs", "Train acc", "Val acc", "Test acc",
           "Duration", "Status")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_WORDS = {"finished": "finished", "stopped": "stopped", "early_stopping": "early stop",
                "diverged": "diverged", "running": "running", "imported": "imported",
                "interrupted": "interrupted"}
STALE_RUNNING_S = 3600  # a "running" run not written to for this long was interrupted (killed, crashed)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def differs_within_projects(runs: Sequence[RunSummary]) -> dict[Path, str]:
    """What tells each run apart: its project when several are listed, then only the settings in
    which it differs from the other runs of the same project (runs of different projects differ in
    nearly everything, and listing all of it told nothing)."""
    projects: dict[str, list[RunSummary]] = defaultdict(list)
    for run in runs:
        projects[run.project].append(run)
    several = len(projects) > 1
    found = {}
    for project, members in projects.items():
        within = differing_settings(members)
        for run in members:
            found[run.path] = ", ".join(w for w in ([project] if several else []) + [within[run.path]] if w)
    return found


class RunTableModel(QAbstractTableModel):
    """The runs of one folder, newest first; ``set_runs`` replaces them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[RunSummary] = []
        self.differs: dict[Path, str] = {}
        self.older: set[Path] = set()  # runs of this project trained on an earlier network
        self.inspected: Path | None = None  # the run the inspection views show
        self.active: Path | None = None  # the run this window is training now

    # ------------------------------------------------------------------ data in
    def set_runs(self, runs: Sequence[RunSummary]) -> None:
        self.beginResetModel()
        self.runs = list(runs)
        self.differs = differs_within_projects(self.runs)
        self.endResetModel()

    def set_marks(self, older: set[Path], inspected: Path | None, active: Path | None) -> None:
        """Which runs are greyed, bold or running (cheap: repaints, no re-reading)."""
        if (older, inspected, active) == (self.older, self.inspected, self.active):
            return
        self.older, self.inspected, self.active = set(older), inspected, active
        if self.runs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.runs) - 1, len(COLUMNS) - 1))

    def row_of(self, path: Path) -> int | None:
        for row, run in enumerate(self.runs):
            if run.path == path:
                return row
        return None

    def status(self, run: RunSummary) -> str:
        """The run's status; "running" only while something still writes it."""
        if run.status != "running" or run.path == self.active:
            return run.status
        try:
            age = datetime.datetime.now().timestamp() - (run.path / "run.json").stat().st_mtime
        except OSError:
            return "interrupted"
        return "interrupted" if age > STALE_RUNNING_S else "running"

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(run, column)
        if role == SORT_ROLE:
            return self._sort_key(run, column)
        if role == PATH_ROLE:
            return str(run.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(run, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(run, column)
        if role == Qt.ItemDataRole.FontRole and run.path == self.inspected:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, run: RunSummary, column: str) -> str:
        if column == "Run":
            return run.name
        if column == "Date":
            return run.started.strftime("%Y-%m-%d %H:%M") if run.started else ""
        if column == "Project":
            return run.project
        if column == "Dataset":
            return run.dataset
        if column == "Differs":
            return self.differs.get(run.path, "")
        if column == "Epochs":
            planned = f"/{run.epochs_planned}" if run.epochs_planned and run.epochs_planned != run.epochs_completed else ""
            return f"{run.epochs_completed}{planned}" if run.status != "imported" else ""
        if column == "Train acc":
            return percent(run.metric("accuracy"))
        if column == "Val acc":
            return percent(run.metric("val_accuracy"))
        if column == "Test acc":
            return percent(run.test_accuracy)
        if column == "Duration":
            return duration_text(run.seconds)
        if column == "Status":
            status = self.status(run)
            words = STATUS_WORDS.get(status, status)
            return f"{words}, older network" if run.path in self.older else words
        return ""

    def _sort_key(self, run: RunSummary, column: str) -> Any:
        if column == "Date":
            return run.started.timestamp() if run.started else 0.0
        if column == "Epochs":
            return run.epochs_completed
        if column == "Train acc":
            return run.metric("accuracy") or -1.0
        if column == "Val acc":
            return run.metric("val_accuracy") or -1.0
        if column == "Test acc":
            return run.test_accuracy if run.test_accuracy is not None else -1.0
        if column == "Duration":
            return run.seconds or 0.0
        return self._text(run, column).lower()

    def _tooltip(self, run: RunSummary, column: str) -> str:
        lines = [str(run.path)]
        if run.path in self.older:
            lines.append("Trained on an older version of this project's network: the network has changed "
                         "since. Right-click > Put This Run's Network in the Editor to go back to it.")
        if run.path == self.inspected:
            lines.append("The inspection views show this run's trained model.")
        if run.message:
            lines.append(run.message)
        if column == "Differs" and self.differs.get(run.path):
            lines.append("What tells it apart from the other runs (of its project): " + self.differs[run.path])
        return "\n".join(lines)

    def _foreground(self, run: RunSummary, column: str) -> QBrush | None:
        if column == "Status":
            status = self.status(run)
            if status == "diverged":
                return QBrush(QColor(ERROR_COLOR))
            if status in ("stopped", "interrupted"):
                return QBrush(QColor(WARNING_COLOR))
        if run.path in self.older:
            palette = QApplication.palette()
            return QBrush(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        return None


NUMERIC = {"Epochs", "Train acc", "Val acc", "Test acc", "Duration"}
HEADER_TIPS = {
    "Differs": "What tells each run apart: its project, and the settings in which it differs from the other runs of "
               "that project",
    "Train acc": "Accuracy on the training images in the last epoch",
    "Val acc": "Accuracy on the validation images in the last epoch",
    "Test acc": "Accuracy on the held-out test images, measured once when training ended",
    "Status": "finished, stopped by you, early stop, diverged (loss became NaN), running, interrupted, imported; "
              "'older network': the network has changed since this run",
}
