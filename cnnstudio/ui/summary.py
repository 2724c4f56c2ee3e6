"""The per-layer summary table (the figures ``cnnstudio summary`` prints) and its totals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from cnnstudio.core.analysis import Analysis, LayerInfo

from .document import ProjectDocument
from .icons import severity_icon
from .reflow import WrappedLabel

COLUMNS = ("Layer", "Type", "Output shape", "Weights", "Biases", "Params", "Receptive field")
NUMERIC = {3, 4, 5}
RECEPTIVE_FIELD = 6
NODE_ROLE = Qt.ItemDataRole.UserRole + 1
_ROOT = QModelIndex()


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


_figures: list = [None, None, None]  # the analysis and batch size last summed up, and their figures


def network_figures(analysis: Analysis, batch_size: int) -> tuple[int, int, int, int]:
    """Total, trainable and non-trainable parameters and training memory in bytes, summed once per
    analysis: the Inspector and the Summary both show them after every edit of a large network."""
    if _figures[0] is not analysis or _figures[1] != batch_size:
        total, frozen = analysis.total_params, analysis.non_trainable_params
        memory = 4 * (4 * total + 2 * batch_size * analysis.activation_values())  # as Analysis.estimated_memory_bytes
        _figures[:] = [analysis, batch_size, (total, total - frozen, frozen, memory)]
    return _figures[2]


def totals_text(analysis: Analysis, batch_size: int) -> str:
    errors = len(analysis.errors)
    incomplete = (
        f"    (incomplete until {errors} error{'s' * (errors != 1)} {'is' if errors == 1 else 'are'} fixed)"
    )
    total, trainable, frozen, memory = network_figures(analysis, batch_size)
    return (
        f"Total params: {total:,}    Trainable: {trainable:,}    "
        f"Non-trainable: {frozen:,}    "
        f"Estimated training memory (batch {batch_size}): "
        f"{human_bytes(memory)}" + (incomplete if errors else "")
    )


class SummaryModel(QAbstractTableModel):
    """Rows in network order from the document's latest analysis."""

    def __init__(self, document: ProjectDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self._rows: list[LayerInfo] = []
        self._cells: list[tuple[str, ...]] = []
        document.analysisChanged.connect(self.set_analysis)
        self.set_analysis(document.analysis())

    def set_analysis(self, analysis: Analysis) -> None:
        rows = list(analysis.layers.values())
        if rows and [r.id for r in rows] == [r.id for r in self._rows]:
            # same layers: the analysis hands back unchanged layers' own results, so only the
            # rows of layers it looked at again are formatted, and only those that changed repaint
            new_cells = [old if a is b else b.summary_cells() for old, a, b in zip(self._cells, self._rows, rows, strict=True)]
            changed = [
                i
                for i, (old, new, a, b) in enumerate(
                    zip(self._cells, new_cells, self._rows, rows, strict=True)
                )
                if a is not b and (old != new or a.diagnostics != b.diagnostics)
            ]
            self._rows, self._cells = rows, new_cells
            for first, last in _runs(changed):
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows, self._cells = rows, [info.summary_cells() for info in rows]
        self.endResetModel()

    def row_of(self, node_id: str) -> int:
        for i, info in enumerate(self._rows):
            if info.id == node_id:
                return i
        return -1

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(section)
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        info, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and info.diagnostics:
            return severity_icon("error" if info.has_error else "warning")
        if role == Qt.ItemDataRole.ToolTipRole and info.diagnostics:
            return "\n".join(d.message for d in info.diagnostics)
        if role == NODE_ROLE:
            return info.id
        return None


def _alignment(column: int) -> int:
    """Counts right-aligned, the receptive field centred (so it never touches the counts)."""
    horizontal = (
        Qt.AlignmentFlag.AlignRight
        if column in NUMERIC
        else Qt.AlignmentFlag.AlignHCenter
        if column == RECEPTIVE_FIELD
        else Qt.AlignmentFlag.AlignLeft
    )
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)]"""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class SummaryTableView(QTableView):
    """A compact, sortable-looking read-only table; clicking a row selects that layer."""

    layerClicked = Signal(str)

    def __init__(self, model: SummaryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in enumerate((110, 130, 100, 80, 70, 80)):
            self.setColumnWidth(column, width)
        self.clicked.connect(lambda index: self.layerClicked.emit(index.data(NODE_ROLE)))

    def show_layer(self, node_id: str | None) -> None:
        model = self.model()
        row = self.source.row_of(node_id) if node_id else -1
        if row < 0:
            self.clearSelection()
            return
        self.blockSignals(True)
        self.selectRow(row)
        self.blockSignals(False)
        self.scrollTo(model.index(row, 0))


class SummaryPanel(QWidget):
    """Bottom dock: the table plus one line of totals."""

    layerClicked = Signal(str)

    def __init__(self, document: ProjectDocument, model: SummaryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = SummaryTableView(model, self)
        self.table.setObjectName("summaryTable")
        self.table.setAccessibleName("Layer summary")
        self.totals = WrappedLabel("", self)
        self.totals.setObjectName("summaryTotals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self.table.layerClicked.connect(self.layerClicked)
        document.analysisChanged.connect(self._update_totals)
        self._update_totals(document.analysis())

    def _update_totals(self, analysis: Analysis) -> None:
        self.totals.setText(totals_text(analysis, self.document.batch_size()))
