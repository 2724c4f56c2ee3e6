"""What a lesson shows in the Lessons panel once it has run: tables, a chart, two kernels side by side."""

from __future__ import annotations

import html
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

from cnnstudio.core.stats import SIGNIFICANCE, WELCH

from ..playground.plots import GridPlot
from ..plotting import apply_palette, owned_plot_widget
from ..theme import OK_COLOR, WARNING_COLOR
from .facts import FieldRow, ParameterComparison, ShuffledFindings


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


class ShuffledResult(QWidget):
    """The shuffled-pixels experiments: each arm over its seeds, the verdict per network and what it means."""

    showExperiment = Signal(str)  # the network whose experiment to open

    def __init__(self, findings: ShuffledFindings, seconds: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonShuffled")
        self.findings = findings
        metric = findings.metric.name
        rows = [(arm.network[:1].upper() + arm.network[1:], arm.pixels, _percent(arm.figures.mean),
                 f"{_percent(arm.figures.low)}–{_percent(arm.figures.high)}", str(arm.figures.count))
                for arm in findings.arms]
        self.table = table(("Network", "Pixels", f"{metric[:1].upper()}{metric[1:]} (mean)", "Lowest–highest",
                            "Seeds"), rows, "lessonArmsTable", numeric=(2, 3, 4))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self.verdicts = []
        for finding in findings.findings:
            color = OK_COLOR if finding.verdict.real else ("gray" if finding.verdict.real is False else WARNING_COLOR)
            label = paragraph(f"<span style='color:{color}'>&#9679;</span> <b>{html.escape(finding.sentence())}"
                              f"</b><br><span style='color:gray'>{html.escape(finding.verdict.details)}</span>",
                              f"lessonVerdict_{len(self.verdicts)}")
            self.verdicts.append(label)
            layout.addWidget(label)
        minutes, rest = divmod(int(round(seconds)), 60)
        took = f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
        layout.addWidget(paragraph(
            f"The verdicts come from {WELCH} over the {findings.seeds} seeds of each arm (two-sided): a difference "
            f"counts as real when p < {SIGNIFICANCE:g}, otherwise it is inside seed noise. "
            f"The {len(findings.arms) * findings.seeds} runs took {took}.", "lessonTest"))
        self.conclusion = paragraph(findings.conclusion(), "lessonConclusion")
        layout.addWidget(self.conclusion)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for finding in reversed(findings.findings):
            button = QPushButton(f"Open {finding.network}'s experiment")
            button.setObjectName(f"lessonOpenExperiment_{len(self.buttons)}")
            button.clicked.connect(lambda _checked=False, network=finding.network: self.showExperiment.emit(network))
            self.buttons[finding.network] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    @property
    def sentences(self) -> list[str]:
        return [finding.sentence() for finding in self.findings.findings]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


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
