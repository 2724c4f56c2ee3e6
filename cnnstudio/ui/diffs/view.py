"""The "What Changed" tab: two runs side by side — their networks drawn as one with each change
marked and the settings that differ beside them, then how the outcome moved.

Run A is the earlier run ("before"), run B the later one ("after"); Swap turns them round.
The comparison itself is `cnnstudio.core.diff.diff_runs` (pure Python, from the run folders);
only the pictures of the outcome come from the ML side.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.diff import ADDED, CHANGED, REMOVED, RunDiff, diff_runs, value_text
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import load_project

from .network_page import NetworkDiffPage
from .outcome_page import OutcomeDiffPage

if TYPE_CHECKING:
    from ..context import AppContext

SETTINGS_COLUMNS = ("Setting", "Run A", "Run B")


class RunDiffView(QWidget):
    """The tab (objectName ``runDiffView``): a header naming both runs, then two pages (``diffTabs``):
    the network with the settings that differ (``settingsDiff``) beside it, and the outcome."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDiffView")
        self.context = context
        self.diff: RunDiff | None = None
        self.title = QLabel("Select two runs in the Runs panel and press What Changed?")
        self.title.setObjectName("diffTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.swap_button = QPushButton("Swap A and B")
        self.swap_button.setObjectName("swapRuns")
        self.swap_button.setToolTip("Read the changes the other way round (run B before run A)")
        self.swap_button.clicked.connect(self.swap)
        self.swap_button.setEnabled(False)
        self.summary = QLabel()
        self.summary.setObjectName("diffSummary")
        self.summary.setWordWrap(True)
        self.network = NetworkDiffPage()
        self.settings_table = QTableWidget(0, len(SETTINGS_COLUMNS))
        self.settings_table.setObjectName("settingsDiff")
        self.settings_table.setHorizontalHeaderLabels(SETTINGS_COLUMNS)
        self.settings_table.verticalHeader().hide()
        self.settings_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.settings_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.settings_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.same_settings = QLabel("Both runs were trained with the same settings on the same data.")
        self.same_settings.setObjectName("sameSettings")
        self.same_settings.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.same_settings.setWordWrap(True)
        self.settings_page = QStackedWidget()
        self.settings_page.addWidget(self.settings_table)
        self.settings_page.addWidget(self.same_settings)
        self.settings_title = QLabel("<b>Settings that differ</b>")
        settings_box = QWidget()
        settings_layout = QVBoxLayout(settings_box)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.settings_title)
        settings_layout.addWidget(self.settings_page, 1)
        self.network.side.addWidget(settings_box)
        self.outcome = OutcomeDiffPage(context)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("diffTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.network, "Network and settings")
        self.tabs.addTab(self.outcome, "Outcome")
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.swap_button)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

    # ------------------------------------------------------------------ showing
    def show_runs(self, run_a: str | Path, run_b: str | Path) -> RunDiff | None:
        """Compare run A (before) with run B (after); a folder that is not a run is said in Messages."""
        try:
            diff = diff_runs(run_a, run_b)
            before = load_project(Path(run_a) / "project.cnnproj").network
            after = load_project(Path(run_b) / "project.cnnproj").network
        except UserError as exc:
            self.context.messages.show("error", f"What changed: {exc}")
            return None
        self.diff = diff
        self.title.setText(f"<b>Run A</b> {html.escape(diff.run_a.name)} &nbsp;&rarr;&nbsp; "
                           f"<b>Run B</b> {html.escape(diff.run_b.name)}")
        self.title.setToolTip(f"run A: {diff.run_a}\nrun B: {diff.run_b}")
        self.swap_button.setEnabled(True)
        self.summary.setText(summary_text(diff))
        self.network.show_diff(diff.network, before, after)
        self._show_settings(diff)
        self.outcome.show_outcome(diff.run_a, diff.run_b, diff.outcome)
        layers, settings = len(diff.network.layers), len(diff.settings)
        self.tabs.setTabText(0, f"Network ({layers} layer{'s' * (layers != 1)}) and settings ({settings})")
        return diff

    def swap(self) -> None:
        if self.diff is not None:
            self.show_runs(self.diff.run_b, self.diff.run_a)

    def _show_settings(self, diff: RunDiff) -> None:
        self.settings_table.setRowCount(len(diff.settings))
        for row, change in enumerate(diff.settings):
            for column, text in enumerate((f"{change.section}.{change.key}", value_text(change.before),
                                           value_text(change.after))):
                item = QTableWidgetItem(text)
                item.setToolTip(change.describe())
                self.settings_table.setItem(row, column, item)
        self.settings_page.setCurrentWidget(self.settings_table if diff.settings else self.same_settings)
        count = len(diff.settings)
        self.settings_title.setText(f"<b>Settings that differ ({count})</b>" if count else "<b>Settings</b>")

    def settings_rows(self) -> list[tuple[str, str, str]]:
        """The settings table as text, row by row."""
        table = self.settings_table
        return [tuple(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())]


def summary_text(diff: RunDiff) -> str:
    """One line: what changed in the network, in the settings, and in the outcome."""
    network = diff.network
    if network.same:
        parts = ["Network: the same"]
    else:
        counts = [f"{len(network.of_kind(kind))} {words}" for kind, words in
                  ((ADDED, "added"), (REMOVED, "removed"), (CHANGED, "changed")) if network.of_kind(kind)]
        before, after = network.total_params
        parts = [f"Network: {', '.join(counts) or 'connections changed'} ({after - before:+,} parameters)"]
    if diff.settings:
        shown = "; ".join(change.describe() for change in diff.settings[:3])
        more = f" and {len(diff.settings) - 3} more" if len(diff.settings) > 3 else ""
        parts.append(f"Settings: {shown}{more}")
    else:
        parts.append("Settings: the same")
    final = diff.outcome.final
    figures = []
    for key, words in (("val_accuracy", "validation accuracy"), ("test_accuracy", "test accuracy")):
        a, b = final.get(key, (None, None))
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            figures.append(f"{words} {a:.1%} → {b:.1%} ({(b - a) * 100:+.1f} points)")
    parts.append("Outcome: " + ("; ".join(figures) if figures else "no figures to compare yet"))
    return " · ".join(parts)
