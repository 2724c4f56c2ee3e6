"""What a lesson shows in the Lessons panel once it has run: tables, a chart, two kernels side by side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..playground.plots import GridPlot
from ..plotting import apply_palette, owned_plot_widget
from .facts import FieldRow, ParameterComparison, RunOutcome


def paragraph(text: str = "", name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], name: str, numeric: Sequence[int] = ()) -> QTableWidget:
    """A read-only table sized to its rows (no inner scrolling in the panel)."""
    widget = QTableWidget(len(rows), len(headers))
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, item)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    widget.resizeRowsToContents()
    height = header.sizeHint().height() + sum(widget.rowHeight(r) for r in range(len(rows))) + 4
    widget.setFixedHeight(height)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return widget


class ParameterResult(QWidget):
    """The MLP's and the CNN's parameters per layer, side by side, with totals and the ratio."""

    def __init__(self, comparison: ParameterComparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonParameters")
        self.comparison = comparison
        columns = QHBoxLayout()
        columns.setContentsMargins(0, 0, 0, 0)
        self.tables = []
        for name, analysis in ((comparison.mlp_name, comparison.mlp), (comparison.cnn_name, comparison.cnn)):
            column = QVBoxLayout()
            column.addWidget(paragraph(f"<b>{name}</b>"))
            rows = [(info.id, f"{info.params:,}") for info in analysis.layers.values()]
            grid = table(("Layer", "Params"), rows, f"lessonParams_{len(self.tables)}", numeric=(1,))
            for r, info in enumerate(analysis.layers.values()):
                grid.item(r, 0).setToolTip(f"{info.type}: {'; '.join(info.param_formula) or 'no parameters'}")
            self.tables.append(grid)
            column.addWidget(grid)
            column.addWidget(paragraph(f"Total: <b>{analysis.total_params:,}</b>"))
            column.addStretch(1)
            columns.addLayout(column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(columns)
        self.ratio = paragraph(f"<b>Ratio: {comparison.ratio:.1f} : 1</b>", "lessonRatio")
        layout.addWidget(self.ratio)
        self.sentence = paragraph(comparison.sentence(), "lessonConclusion")
        layout.addWidget(self.sentence)


class RunsResult(QWidget):
    """The shuffled-pixels runs with their final accuracy, and what they show."""

    def __init__(self, outcomes: Sequence[RunOutcome], verdict: str, note: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonRuns")
        rows = [(o.label, str(o.epochs), "-" if o.accuracy is None else f"{o.accuracy:.1%}") for o in outcomes]
        self.table = table(("Run", "Epochs", "Accuracy"), rows, "lessonRunsTable", numeric=(1, 2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.verdict = paragraph(verdict, "lessonConclusion")
        layout.addWidget(self.verdict)
        if note:
            layout.addWidget(paragraph(note, "lessonNote"))


class KernelPair(QWidget):
    """The learned filter next to a hand-made kernel, numbers written in the cells."""

    tryInPlayground = Signal()

    def __init__(self, learned: np.ndarray, reference: np.ndarray, reference_name: str, sentence: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonKernels")
        self.learned = GridPlot(f"Learned {learned.shape[0]}×{learned.shape[1]} filter", "lessonLearnedKernel")
        self.reference = GridPlot(reference_name, "lessonReferenceKernel")
        self.learned.show_array(learned, description="blue: negative, red: positive")
        self.reference.show_array(reference, description="hand-made, for comparison")
        for plot in (self.learned, self.reference):
            plot.hide_axes()
            plot.plot.setFixedHeight(190)
        pair = QHBoxLayout()
        pair.setContentsMargins(0, 0, 0, 0)
        pair.addWidget(self.learned)
        pair.addWidget(self.reference)
        self.button = QPushButton("Slide it over stripes in the playground")
        self.button.setObjectName("lessonTryKernel")
        self.button.clicked.connect(self.tryInPlayground.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(pair)
        self.sentence = paragraph(sentence, "lessonConclusion")
        layout.addWidget(self.sentence)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)


class FieldResult(QWidget):
    """Each layer's receptive field as a table and a bar chart; a row click picks the layer in the canvas."""

    layerChosen = Signal(str)
    walkRequested = Signal()

    def __init__(self, rows: Sequence[FieldRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonFields")
        self.rows = list(rows)
        cells = [(r.layer, r.output_shape, "-" if r.field is None else f"{r.field}×{r.field}", r.growth)
                 for r in rows]
        self.table = table(("Layer", "Output", "Receptive field", "Grew"), cells, "lessonFieldTable",
                           numeric=(2, 3))
        for r, row in enumerate(rows):
            self.table.item(r, 0).setToolTip(row.type)
        self.table.itemSelectionChanged.connect(self._picked)
        spatial = [r for r in rows if r.field is not None]
        self.chart = owned_plot_widget(self, enableMenu=False)
        self.chart.setObjectName("lessonFieldChart")
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.getPlotItem().hideButtons()
        self.chart.setFixedHeight(210)
        apply_palette(self.chart, self.palette())
        self.bars = pg.BarGraphItem(x=np.arange(len(spatial)), height=[r.field for r in spatial], width=0.7,
                                    brush="#3a72d8")
        self.chart.addItem(self.bars)
        self.chart.getAxis("bottom").setTicks([[(i, r.layer) for i, r in enumerate(spatial)]])
        self.chart.setLabel("left", "receptive field (pixels)")
        self.chart.setYRange(0, max((r.field for r in spatial), default=1) * 1.08, padding=0)
        self.chart.setXRange(-0.6, len(spatial) - 0.4, padding=0)
        self.walk = QPushButton("Walk through the layers")
        self.walk.setObjectName("lessonWalk")
        self.walk.setToolTip("Select each layer in turn on the canvas, from the input up")
        self.walk.clicked.connect(self.walkRequested.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.chart)
        last = spatial[-1] if spatial else None
        if last is not None:
            layout.addWidget(paragraph(
                f"After {sum(r.type.startswith('Conv') for r in rows)} convolutions of 3×3 and "
                f"{sum('Pooling' in r.type and 'Global' not in r.type for r in rows)} poolings, one position of "
                f"'{last.layer}' sees {last.field}×{last.field} pixels"
                f"{' (more than the 28×28 picture: the zeros of the padding count too)' if last.field > 28 else ''}"
                ": without the pooling "
                f"it would take {-(-(last.field - 1) // 2)} 3×3 convolutions in a row to see as far.",
                "lessonConclusion"))
        layout.addWidget(self.walk, 0, Qt.AlignmentFlag.AlignLeft)

    def select_row(self, layer: str) -> None:
        for r, row in enumerate(self.rows):
            if row.layer == layer:
                self.table.blockSignals(True)
                self.table.selectRow(r)
                self.table.blockSignals(False)

    def _picked(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        if selected:
            self.layerChosen.emit(self.rows[selected[0].row()].layer)


class ActionsResult(QWidget):
    """A conclusion and buttons that bring views to the front (e.g. filters, feature maps)."""

    def __init__(self, text: str, buttons: Sequence[tuple[str, str, object]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonActions")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text = paragraph(text, "lessonConclusion")
        layout.addWidget(self.text)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, name, slot in buttons:
            button = QPushButton(label)
            button.setObjectName(name)
            button.clicked.connect(lambda _checked=False, s=slot: s())
            row.addWidget(button)
            self.buttons[name] = button
        row.addStretch(1)
        layout.addLayout(row)
