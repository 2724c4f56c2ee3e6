"""The per-layer summary (the figures ``cnnstudio summary`` prints), blocks as a tree with their totals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QVBoxLayout, QWidget

from cnnstudio.core import blocks
from cnnstudio.core.analysis import Analysis, LayerInfo
from cnnstudio.core.blocks import BlockInfo
from cnnstudio.core.catalog import dims_text

from .document import ProjectDocument
from .editor.folding import block_totals
from .icons import severity_icon
from .reflow import WrappedLabel

COLUMNS = ("Layer", "Type", "Output shape", "Weights", "Biases", "Params", "Receptive field")
NUMERIC = {3, 4, 5}
RECEPTIVE_FIELD = 6
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the layer's or block's id
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2  # True on a block's row
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


class _Row:
    """One row of the tree: a layer (``info``) or a block (``block``), with its place."""

    __slots__ = ("block", "cells", "children", "id", "info", "layer_count", "parent", "position")

    def __init__(self, row_id: str, parent: _Row | None, position: int) -> None:
        self.id = row_id
        self.parent = parent
        self.position = position  # among its parent's children
        self.children: list[_Row] = []
        self.info: LayerInfo | None = None
        self.block: BlockInfo | None = None
        self.cells: tuple[str, ...] = ()
        self.layer_count = 0  # of a block, nested blocks included


def block_cells(info: BlockInfo, layer_count: int) -> tuple[str, ...]:
    """A block's row: its name, what it holds, its output shape, parameters and receptive field."""
    frozen = f", {info.non_trainable_params:,} non-trainable" if info.non_trainable_params else ""
    shapes = ", ".join(dims_text(s) for s in info.output_shapes) or "-"
    return (info.name, f"Block ({layer_count} layers{frozen})", shapes, "", "", f"{info.params:,}",
            dims_text(info.receptive_field) if info.receptive_field else "-")


class SummaryModel(QAbstractItemModel):
    """The layers in network order from the document's latest analysis, blocks as expandable rows
    holding their layers, with per-block totals."""

    def __init__(self, document: ProjectDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self._top: list[_Row] = []
        self._rows: dict[str, _Row] = {}  # layer or block id -> its row
        self._shape: tuple = ()  # what the tree's rows are made of (layers, blocks): rebuilt when it changes
        document.analysisChanged.connect(self.set_analysis)
        self.set_analysis(document.analysis())

    def set_analysis(self, analysis: Analysis) -> None:
        network = self.document.network
        layer_rows = [info for info in analysis.layers.values()]
        shape = (tuple(i.id for i in layer_rows),
                 tuple((b.id, tuple(b.members)) for b in network.blocks.values()))
        tree = block_totals(network, analysis)
        if shape == self._shape and self._rows:
            # same rows: the analysis hands back unchanged layers' own results, so only the rows
            # of layers it looked at again are formatted, and only those that changed repaint
            changed: list[_Row] = []
            for info in layer_rows:
                row = self._rows[info.id]
                if row.info is not info:
                    cells = info.summary_cells()
                    if cells != row.cells or row.info is None or row.info.diagnostics != info.diagnostics:
                        changed.append(row)
                    row.info, row.cells = info, cells
            for block in _walk(tree):
                row = self._rows[block.id]
                cells = block_cells(block, row.layer_count)
                row.block = block
                if cells != row.cells:
                    row.cells = cells
                    changed.append(row)
            by_parent: dict[int, list[_Row]] = {}  # one signal per run of neighbouring rows
            for row in changed:
                by_parent.setdefault(id(row.parent), []).append(row)
            for rows in by_parent.values():
                rows.sort(key=lambda r: r.position)
                first = previous = rows[0]
                for row in rows[1:] + [None]:
                    if row is not None and row.position == previous.position + 1:
                        previous = row
                        continue
                    self.dataChanged.emit(self.createIndex(first.position, 0, first),
                                          self.createIndex(previous.position, len(COLUMNS) - 1, previous))
                    first = previous = row
            return
        self.beginResetModel()
        self._shape = shape
        self._build(network, analysis, tree)
        self.endResetModel()

    def _build(self, network, analysis: Analysis, tree: list[BlockInfo]) -> None:
        self._rows = {}
        infos = {b.id: b for b in _walk(tree)}
        every = blocks.layers_by_block(network)  # once, with the orders below: asked of each block, slow

        def fill(parent: _Row | None, block_id: str | None) -> list[_Row]:
            rows = []
            members = orders[block_id]
            for position, member in enumerate(m for m in members if m in infos or m in analysis.layers):
                row = _Row(member, parent, position)
                if member in infos:
                    row.block = infos[member]
                    row.layer_count = len(every[member])
                    row.cells = block_cells(row.block, row.layer_count)
                    row.children = fill(row, member)
                else:
                    row.info = analysis.layers[member]
                    row.cells = row.info.summary_cells()
                self._rows[member] = row
                rows.append(row)
            return rows

        try:
            orders = blocks.ordered_all(network) if network.blocks else {None: list(analysis.layers)}
            self._top = fill(None, None)
        except blocks.BlockError:  # blocks that cannot be put in order: the layers, flat
            self._top = []
            for position, info in enumerate(analysis.layers.values()):
                row = _Row(info.id, None, position)
                row.info, row.cells = info, info.summary_cells()
                self._rows[info.id] = row
                self._top.append(row)

    def index_of(self, item_id: str) -> QModelIndex:
        """The row of a layer or a block (invalid when there is none)."""
        row = self._rows.get(item_id)
        return QModelIndex() if row is None else self.createIndex(row.position, 0, row)

    def row_of(self, node_id: str) -> int:
        """A top-level row's number (-1 when not at the top level)."""
        row = self._rows.get(node_id)
        return row.position if row is not None and row.parent is None else -1

    def is_block(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        return index.isValid() and index.internalPointer().block is not None

    def _children(self, parent: QModelIndex | QPersistentModelIndex) -> list[_Row]:
        return parent.internalPointer().children if parent.isValid() else self._top

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:
        children = self._children(parent)
        if 0 <= row < len(children) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        owner = index.internalPointer().parent
        return QModelIndex() if owner is None else self.createIndex(owner.position, 0, owner)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._children(parent))

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return len(COLUMNS)

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
        row, column = index.internalPointer(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        if role == NODE_ROLE:
            return row.id
        if role == BLOCK_ROLE:
            return row.block is not None
        if row.block is not None:
            if role == Qt.ItemDataRole.FontRole and column == 0:
                bold = QFont()
                bold.setBold(True)
                return bold
            if role == Qt.ItemDataRole.ToolTipRole:
                b = row.block
                return (f"{b.name}: {b.params:,} parameters ({b.trainable_params:,} trainable, "
                        f"{b.non_trainable_params:,} non-trainable)")
            return None
        info = row.info
        if role == Qt.ItemDataRole.DecorationRole and column == 0 and info.diagnostics:
            return severity_icon("error" if info.has_error else "warning")
        if role == Qt.ItemDataRole.ToolTipRole and info.diagnostics:
            return "\n".join(d.message for d in info.diagnostics)
        return None


def _walk(tree: list[BlockInfo]):
    for info in tree:
        yield info
        yield from _walk(info.children)


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


class SummaryTableView(QTreeView):
    """A compact read-only table of the layers, blocks as expandable rows; clicking a row selects
    that layer or block on the canvas."""

    layerClicked = Signal(str)
    blockClicked = Signal(str)

    def __init__(self, model: SummaryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setUniformRowHeights(True)
        self.setIndentation(14)
        self.setRootIsDecorated(bool(model.document.network.blocks))
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in enumerate((150, 150, 100, 80, 70, 80)):
            self.setColumnWidth(column, width)
        self.clicked.connect(self._on_clicked)
        model.modelReset.connect(self._expand_as_on_canvas)
        model.document.networkChanged.connect(lambda kind, _ids: kind == "blocks" and self._expand_as_on_canvas())
        self._expand_as_on_canvas()

    def _on_clicked(self, index: QModelIndex) -> None:
        item_id = index.data(NODE_ROLE)
        if index.data(BLOCK_ROLE):
            self.blockClicked.emit(item_id)
        else:
            self.layerClicked.emit(item_id)

    def _expand_as_on_canvas(self) -> None:
        """Blocks open on the canvas are open here; folded ones folded."""
        network = self.source.document.network
        self.setRootIsDecorated(bool(network.blocks))
        for block_id, block in network.blocks.items():
            index = self.source.index_of(block_id)
            if index.isValid():
                self.setExpanded(index, not block.collapsed)

    def show_layer(self, item_id: str | None) -> None:
        """Select the row of a layer or block (opening the blocks around it), or none."""
        index = self.source.index_of(item_id) if item_id else QModelIndex()
        if not index.isValid():
            self.clearSelection()
            return
        parent = index.parent()
        while parent.isValid():
            self.setExpanded(parent, True)
            parent = parent.parent()
        self.blockSignals(True)
        self.setCurrentIndex(index)
        self.blockSignals(False)
        self.scrollTo(index)


class SummaryPanel(QWidget):
    """Bottom dock: the table plus one line of totals."""

    layerClicked = Signal(str)
    blockClicked = Signal(str)

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
        self.table.blockClicked.connect(self.blockClicked)
        document.analysisChanged.connect(self._update_totals)
        self._update_totals(document.analysis())

    def _update_totals(self, analysis: Analysis) -> None:
        self.totals.setText(totals_text(analysis, self.document.batch_size()))
