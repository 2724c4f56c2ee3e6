"""The network's answer for the current input: a bar per class, the top class highlighted,
the true label marked when it is known."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..theme import ERROR_COLOR, OK_COLOR
from .plots import QuietPlot, palette_color

MOST_CLASSES = 20  # with more classes, the most probable ones are shown


def class_name(names: Sequence[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"class {index}"


class PredictionView(QWidget):
    """Class probabilities as horizontal bars (first class on top)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictionView")
        self.probabilities: np.ndarray | None = None
        self.class_names: tuple[str, ...] = ()
        self.true_label: int | None = None
        self.heading = QLabel("Prediction", self)
        self.heading.setStyleSheet("font-weight: 600;")
        self.answer = QLabel("Choose or draw an input to see what the network makes of it.", self)
        self.answer.setObjectName("predictionAnswer")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.plot = QuietPlot(self)
        self.plot.setObjectName("predictionPlot")
        self.plot.setMinimumHeight(200)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "probability")
        item.setXRange(0, 1.0, padding=0.02)
        item.showGrid(x=True, y=False, alpha=0.25)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[])
        item.addItem(self.bars)
        self._texts: list[pg.TextItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.answer)
        layout.addWidget(self.plot, 1)
        layout.addStretch(0)
        self.plot.hide()  # until there is an answer

    def clear(self, message: str = "") -> None:
        self.probabilities = None
        self.bars.setOpts(x0=[], y=[], width=[], brushes=None, pens=None)
        for text in self._texts:
            text.hide()
        self.answer.setText(message or "Choose or draw an input to see what the network makes of it.")
        self.plot.hide()

    def show_probabilities(self, probabilities: np.ndarray | None, class_names: Sequence[str] = (),
                           true_label: int | None = None) -> None:
        """Draw the bars; the most probable class is highlighted, the true one outlined."""
        if probabilities is None or np.size(probabilities) == 0:
            self.clear("This network's output is not a set of class probabilities.")
            return
        p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
        self.plot.show()
        self.probabilities, self.class_names, self.true_label = p, tuple(class_names), true_label
        top = int(np.argmax(p))
        shown = np.arange(len(p)) if len(p) <= MOST_CLASSES else np.argsort(-p, kind="stable")[:MOST_CLASSES]
        rows = np.arange(len(shown))[::-1]  # first shown class on top
        highlight = palette_color(self, QPalette.ColorRole.Highlight)
        plain = palette_color(self, QPalette.ColorRole.Mid)
        brushes = [pg.mkBrush(highlight if c == top else plain) for c in shown]
        pens = [pg.mkPen(OK_COLOR if c == true_label else None, width=2.5) for c in shown]
        self.bars.setOpts(x0=np.zeros(len(shown)), y=rows, width=p[shown], height=0.72, brushes=brushes, pens=pens)
        axis = self.plot.getPlotItem().getAxis("left")
        ticks = [(float(r), self._tick(int(c))) for r, c in zip(rows, shown)]
        axis.setTicks([ticks])
        metrics = QFontMetrics(axis.font() if hasattr(axis, "font") else self.font())
        axis.setWidth(max(metrics.horizontalAdvance(text) for _, text in ticks) + 16)
        self.plot.getPlotItem().setYRange(-0.6, len(shown) - 0.4, padding=0)
        self._label_bars(p, shown, rows)
        self.answer.setText(self._answer(p, top))

    def _tick(self, index: int) -> str:
        name = class_name(self.class_names, index)
        return f"{name} (true)" if index == self.true_label else name

    def _label_bars(self, p: np.ndarray, shown: np.ndarray, rows: np.ndarray) -> None:
        """The percentage at the end of each bar (labels are reused: redrawn on every stroke)."""
        color = palette_color(self, QPalette.ColorRole.Text)
        while len(self._texts) < len(shown):
            text = pg.TextItem(color=color)
            self.plot.addItem(text)
            self._texts.append(text)
        for text in self._texts[len(shown):]:
            text.hide()
        for text, row, index in zip(self._texts, rows, shown):
            value = float(p[index])
            text.setVisible(value >= 0.005)
            inside = value >= 0.8
            whole = 0.1 <= value < 0.995  # 99.9% stays 99.9%, as in the answer above, not "100%"
            text.setText(f"{value:.0%}" if whole else f"{value:.1%}", color=color)
            text.setAnchor((1, 0.5) if inside else (0, 0.5))
            text.setPos(value + (-0.01 if inside else 0.01), float(row))

    def _answer(self, p: np.ndarray, top: int) -> str:
        text = f"<span style='font-size: 15pt; font-weight: 600;'>{class_name(self.class_names, top)}</span>" \
               f"&nbsp; {p[top]:.1%}"
        if self.true_label is not None:
            right = self.true_label == top
            mark = (f"<span style='color:{OK_COLOR};'>right</span>" if right
                    else f"<span style='color:{ERROR_COLOR};'>wrong</span>")
            text += f"<br>true label: {class_name(self.class_names, self.true_label)} — {mark}"
        if len(p) > MOST_CLASSES:
            text += f"<br><small>the {MOST_CLASSES} most probable of {len(p)} classes</small>"
        return text
