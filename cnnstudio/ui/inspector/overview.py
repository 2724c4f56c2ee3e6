"""Inspector page with nothing selected: the whole network's figures.

The per-layer table lives in the Summary panel (one table, wide enough for its columns);
a button here brings it to the front.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnstudio.core.analysis import Analysis

from ..document import ProjectDocument
from ..reflow import WrappedLabel
from ..summary import human_bytes, network_figures
from ..theme import ERROR_COLOR, WARNING_COLOR
from .layer_form import muted_label, section_title


class NetworkOverview(QWidget):
    """Totals, the trainable split, memory for a batch and problems."""

    summaryWanted = Signal()  # "Per-layer table" pressed

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.subtitle = muted_label(
            "Nothing selected: figures for the whole network. Click a layer to edit it.", self
        )
        self.figures: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(10)
        for key, title in (
            ("layers", "Layers"),
            ("total", "Total parameters"),
            ("trainable", "Trainable"),
            ("non_trainable", "Non-trainable"),
            ("memory", "Training memory"),
            ("problems", "Problems"),
        ):
            label = WrappedLabel("", self)
            label.setObjectName(f"overview_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(title, label)
            self.figures[key] = label
        self.summary_button = QPushButton("Per-layer Table", self)
        self.summary_button.setObjectName("showSummary")
        self.summary_button.setToolTip("Every layer's output shape, weights, biases, parameters and receptive "
                                       "field: the Summary panel, as 'cnnstudio summary' prints them")
        self.summary_button.clicked.connect(self.summaryWanted)
        table_row = QHBoxLayout()
        table_row.addWidget(self.summary_button)
        table_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(section_title("Network", self))
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addLayout(table_row)
        layout.addStretch(1)
        document.analysisChanged.connect(self.refresh)
        document.nameChanged.connect(lambda _name: self.refresh(document.analysis()))
        self.refresh(document.analysis())

    def refresh(self, analysis: Analysis) -> None:
        batch = self.document.batch_size()
        self.title.setText(self.document.name)
        self.figures["layers"].setText(f"{len(analysis.layers)}")
        total, trainable, frozen, memory = network_figures(analysis, batch)
        self.figures["total"].setText(f"{total:,}")
        self.figures["trainable"].setText(f"{trainable:,}")
        self.figures["non_trainable"].setText(f"{frozen:,}")
        self.figures["memory"].setText(
            f"about {human_bytes(memory)} for a batch of {batch} "
            "(weights, gradients, optimizer state and activations, float32)"
        )
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        if not errors and not warnings:
            self.figures["problems"].setText("none")
        else:
            parts = []
            if errors:
                parts.append(f"<span style='color:{ERROR_COLOR}'>{errors} error{'s' * (errors != 1)}</span>")
            if warnings:
                parts.append(
                    f"<span style='color:{WARNING_COLOR}'>{warnings} warning{'s' * (warnings != 1)}</span>"
                )
            self.figures["problems"].setText(", ".join(parts) + " (see Messages)")
