"""Per-class precision, recall, F1 and support as a sortable table, with a macro-average row."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from cnnstudio.core.classification import ClassScores
from cnnstudio.ml.jobs.results import Evaluation

COLUMNS = ("Class", "Precision", "Recall", "F1", "Images")
TIPS = (
    "The true class",
    "Of the images predicted as this class, the share that really are (how much to trust the label)",
    "Of this class's images, the share found (how many of them the network recognises)",
    "The harmonic mean of precision and recall",
    "How many images of this class the split holds",
)


class _Number(QTableWidgetItem):
    """A cell that sorts by its value, not its text."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < getattr(other, "value", 0.0)


class MetricsTable(QTableWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("perClassTable")
        self.setAccessibleName("Metrics per class")
        self.setHorizontalHeaderLabels(COLUMNS)
        for column, tip in enumerate(TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        for column in range(len(COLUMNS)):  # every heading whole, even in a narrow pane
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)

    def show_evaluation(self, evaluation: Evaluation) -> None:
        self.show_scores(evaluation.class_names, evaluation)

    def show_scores(self, names: Sequence[str], scores: Evaluation | ClassScores) -> None:
        """Per-class figures (`precision`, `recall`, `f1`, `support`) of an evaluation or a confusion matrix."""
        self.setSortingEnabled(False)
        self.setRowCount(len(names))
        for row, name in enumerate(names):
            item = _Number(row, name)
            item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, 0, item)
            for column, values in enumerate((scores.precision, scores.recall, scores.f1), start=1):
                self.setItem(row, column, _Number(float(values[row]), f"{values[row]:.3f}"))
            self.setItem(row, 4, _Number(int(scores.support[row]), f"{int(scores.support[row]):,}"))
        self.setSortingEnabled(True)

    def values(self, column: str) -> list[str]:
        """The texts of one column, top to bottom as shown."""
        index = COLUMNS.index(column)
        return [self.item(row, index).text() for row in range(self.rowCount())]
