"""Verdicts in plain words: is a difference between two settings real, or inside seed noise?

The sentences and the test behind them come from `cnnstudio.core.stats` (Welch's t-test over
the seeds); this widget names the test and colours the answer: green for a real difference,
grey for seed noise, amber where one seed cannot tell.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from cnnstudio.core.stats import SIGNIFICANCE, WELCH, Verdict

from ..theme import OK_COLOR, WARNING_COLOR

LISTED_AT_MOST = 12  # verdicts of the best setting against the others, shown in full
TEST_TEXT = (f"<b>Verdicts</b> — {WELCH} over the seeds of each setting (two-sided, unequal variances): a "
             f"difference is real when p &lt; {SIGNIFICANCE:g}, otherwise it is inside seed noise.")


def verdict_html(verdict: Verdict) -> str:
    """One verdict: its sentence, coloured by what it found, and the test's figures below it."""
    color = OK_COLOR if verdict.real else ("gray" if verdict.real is False else WARNING_COLOR)
    return (f"<p style='margin:2px 0 6px 0'><span style='color:{color}'>&#9679;</span> "
            f"{html.escape(verdict.text)}<br><span style='color:gray'>{html.escape(verdict.details)}</span></p>")


class VerdictPanel(QWidget):
    """objectName ``experimentVerdicts``: the test named, the chosen pair's verdict, then the best against the rest."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experimentVerdicts")
        self.verdicts: list[Verdict] = []
        self.chosen: Verdict | None = None
        self.test = QLabel(TEST_TEXT)
        self.test.setObjectName("experimentTestName")
        self.test.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("experimentVerdictText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.test)
        column.addWidget(self.text)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        # the answer the page is for: never squeezed below a few lines, however short the screen
        scroll.setMinimumHeight(6 * self.fontMetrics().lineSpacing())

    def show_verdicts(self, verdicts: Sequence[Verdict], chosen: Verdict | None = None, note: str = "") -> None:
        """The best setting against each other one, and (first) the verdict on the pair the user chose."""
        self.verdicts, self.chosen = list(verdicts), chosen
        parts = []
        if chosen is not None:
            parts.append("<b>The two you selected:</b>" + verdict_html(chosen))
        if self.verdicts:
            parts.append("<b>The best setting against each other one:</b>")
            parts += [verdict_html(v) for v in self.verdicts[:LISTED_AT_MOST]]
            if len(self.verdicts) > LISTED_AT_MOST:
                parts.append(f"<p style='color:gray'>… and {len(self.verdicts) - LISTED_AT_MOST} more; select two "
                             "settings to compare any pair.</p>")
        elif chosen is None:
            parts.append(f"<p style='color:gray'>{html.escape(note or 'A verdict needs two settings with results.')}"
                         "</p>")
        if chosen is None and self.verdicts:
            parts.append("<p style='color:gray'>Select two settings (or two runs) to compare them.</p>")
        self.text.setText("".join(parts))

    @property
    def sentences(self) -> list[str]:
        """The verdicts shown, as plain sentences (the chosen pair first)."""
        return [v.text for v in ([self.chosen] if self.chosen else []) + self.verdicts]
