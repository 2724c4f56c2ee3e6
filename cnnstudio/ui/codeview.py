"""The Code panel: the Keras Python code of the network being edited, always up to date.

Read-only, highlighted, with Copy and Save. "Full training script" shows the standalone
script for the project's dataset and training settings instead. When the network has
an error the last valid code stays, greyed, under a note naming the problem. The code
is generated as text (no TensorFlow) right on the GUI thread, ~150 ms after an edit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import atomic_write_text
from cnnstudio.ml.codegen import generate_model_code, generate_script

from . import theme

if TYPE_CHECKING:
    from .context import AppContext
    from .document import ProjectDocument

DEBOUNCE_MS = 150

# (light, dark) colours of each kind of token, after the Visual Studio Code default themes.
COLORS = {
    "keyword": ("#0033b3", "#569cd6"),
    "builtin": ("#7a3e9d", "#c586c0"),
    "string": ("#067d17", "#ce9178"),
    "docstring": ("#5f7f5f", "#6a9955"),
    "comment": ("#8c8c8c", "#7f8c8d"),
    "number": ("#1750eb", "#b5cea8"),
    "definition": ("#00627a", "#dcdcaa"),
    "keras": ("#008080", "#4ec9b0"),
}
KEYWORDS = ("and as assert break class continue def del elif else except finally for from global if import "
            "in is lambda nonlocal not or pass raise return try while with yield").split()
CONSTANTS = ("True", "False", "None", "print", "len", "range", "zip", "max", "min", "int", "float", "list",
             "tuple", "dict", "sorted", "open", "isinstance", "super")


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, docstrings, comments, numbers and Keras names, readable in light and dark."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.dimmed = False
        self._rules: list[tuple[QRegularExpression, str, int]] = [
            (QRegularExpression(r"\b(" + "|".join(KEYWORDS) + r")\b"), "keyword", 0),
            (QRegularExpression(r"\b(" + "|".join(CONSTANTS) + r")\b"), "builtin", 0),
            (QRegularExpression(r"\b(keras|layers|np)\b(\.[A-Za-z_][A-Za-z0-9_]*)*"), "keras", 0),
            (QRegularExpression(r"\b[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\b"), "number", 0),
            (QRegularExpression(r"\bdef\s+([A-Za-z_][A-Za-z0-9_]*)"), "definition", 1),
            (QRegularExpression(r"\"[^\"]*\"|'[^']*'"), "string", 0),
            (QRegularExpression(r"#[^\n]*"), "comment", 0),
        ]
        self.formats: dict[str, QTextCharFormat] = {}
        self.refresh_colors()

    def refresh_colors(self) -> None:
        """Pick the colours for the current palette (and the greyed look when dimmed); repaint."""
        dark = theme.is_dark()
        background = QGuiApplication.palette().color(QPalette.ColorRole.Base)
        for kind, pair in COLORS.items():
            color = QColor(pair[1] if dark else pair[0])
            if self.dimmed:
                color = _blend(color, background, 0.55)
            fmt = QTextCharFormat()
            fmt.setForeground(color)
            if kind == "definition":
                fmt.setFontWeight(QFont.Weight.DemiBold)
            if kind in ("comment", "docstring"):
                fmt.setFontItalic(True)
            self.formats[kind] = fmt
        self.rehighlight()

    def set_dimmed(self, dimmed: bool) -> None:
        if dimmed != self.dimmed:
            self.dimmed = dimmed
            self.refresh_colors()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt)
        for pattern, kind, group in self._rules:
            matches = pattern.globalMatch(text)
            while matches.hasNext():
                match = matches.next()
                self.setFormat(match.capturedStart(group), match.capturedLength(group), self.formats[kind])
        self._docstrings(text)

    def _docstrings(self, text: str) -> None:
        """Triple-quoted strings, which may span lines (block state 1: inside one)."""
        inside = self.previousBlockState() == 1
        self.setCurrentBlockState(0)
        position = 0
        while True:
            start = position if inside else text.find('"""', position)
            if start < 0:
                return
            end = text.find('"""', start if inside else start + 3)
            if end < 0:
                self.setFormat(start, len(text) - start, self.formats["docstring"])
                self.setCurrentBlockState(1)
                return
            self.setFormat(start, end + 3 - start, self.formats["docstring"])
            position, inside = end + 3, False


def _blend(color: QColor, background: QColor, amount: float) -> QColor:
    return QColor.fromRgbF(*(c * (1 - amount) + b * amount for c, b in zip(
        color.getRgbF()[:3], background.getRgbF()[:3], strict=True)))


class CodePanel(QWidget):
    """The Code dock's contents: a toolbar and the read-only code."""

    copied = Signal(str)  # a status message after Copy

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.script_toggle = QCheckBox("Full training script", self)
        self.script_toggle.setObjectName("codeViewScript")
        self.script_toggle.setToolTip("Show a standalone script that loads the project's dataset, trains with its "
                                      "settings and prints the test accuracy")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("codeViewCopy")
        self.copy_button.setToolTip("Copy all the code to the clipboard")
        self.save_button = QPushButton("Save As…", self)
        self.save_button.setObjectName("codeViewSave")
        self.save_button.setToolTip("Save the code as a Python file")
        self.note = QLabel(self)
        self.note.setObjectName("codeViewNote")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("codeView")
        self.editor.setAccessibleName("The network as Keras code")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFixedPitch(True)
        self.editor.setFont(font)
        self.editor.setTabStopDistance(4 * self.editor.fontMetrics().horizontalAdvance(" "))
        self.highlighter = PythonHighlighter(self.editor.document())
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.script_toggle)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.editor)
        self.stale = False  # showing the last valid code of a network that has an error now
        self._shown = False  # set by the dock: code is generated only while someone can see it
        self._shown_for: tuple | None = None
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        document.settings.training.changed.connect(self._settings_changed)
        document.settings.data.changed.connect(self._settings_changed)
        document.networkChanged.connect(lambda *_: self.schedule())
        document.projectReplaced.connect(self.schedule)
        document.nameChanged.connect(lambda _name: self.schedule())
        self.script_toggle.toggled.connect(lambda _on: self.refresh())
        self.copy_button.clicked.connect(self.copy_all)
        self.save_button.clicked.connect(lambda: self.save_as())

    # -- content ----------------------------------------------------------------------------
    @property
    def code(self) -> str:
        return self.editor.toPlainText()

    def schedule(self) -> None:
        """Regenerate shortly (edits come in bursts); a hidden panel catches up when it is shown."""
        if self._shown:
            self._timer.start()

    def refresh(self) -> None:
        """Generate the code for the network as it is now; keep the last good code on a problem."""
        self._timer.stop()
        project = self.document.project
        key = (self.script_toggle.isChecked(), self.document.network.version, project.name,
               self._settings_key() if self.script_toggle.isChecked() else None)
        if key == self._shown_for:
            return
        self._shown_for = key
        try:
            analysis = self.document.analysis()
            if not analysis.ok:
                first = analysis.errors[0]
                more = len(analysis.errors) - 1
                raise UserError(f"{first}" + (f" (and {more} more problem{'s' * (more != 1)})" if more else ""))
            if self.script_toggle.isChecked():
                text = generate_script(self.document.network, name=project.name, dataset=project.dataset,
                                       training=project.training)
            else:
                text = generate_model_code(self.document.network, project.name, analysis=analysis)
        except UserError as exc:
            self._show_problem(str(exc))
            return
        self._show(text)

    def _show(self, text: str) -> None:
        self.stale = False
        self.note.setVisible(False)
        self._dim(False)
        if text != self.code:
            bar = self.editor.verticalScrollBar()
            position = bar.value()
            self.editor.setPlainText(text)
            bar.setValue(min(position, bar.maximum()))
        self.copy_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _show_problem(self, problem: str) -> None:
        problem = re.sub(r"^the network cannot be turned into code: ", "", problem)
        has_code = bool(self.code)
        self.stale = has_code
        shown = "Showing the last valid code. " if has_code else "No code yet. "
        self.note.setText(f"<span style='color:{theme.ERROR_COLOR}'>&#9888;</span> {shown}"
                          f"Fix this first: {_escape(problem)}")
        self.note.setToolTip(problem)
        self.note.setVisible(True)
        self._dim(has_code)
        self.copy_button.setEnabled(has_code)
        self.save_button.setEnabled(has_code)

    def _dim(self, dimmed: bool) -> None:
        """Grey out all of the code (tokens and plain text) while it is not the current network's."""
        self.highlighter.set_dimmed(dimmed)
        palette = QGuiApplication.palette()
        if dimmed:
            palette.setColor(QPalette.ColorRole.Text, palette.color(QPalette.ColorGroup.Disabled,
                                                                    QPalette.ColorRole.Text))
        self.editor.setPalette(palette)

    def _settings_key(self) -> str:
        project = self.document.project
        return json.dumps([project.dataset, project.training], sort_keys=True, default=str)

    def _settings_changed(self, keys: frozenset[str]) -> None:
        """The training script follows the settings (the model code does not depend on them)."""
        if self.script_toggle.isChecked():
            self.schedule()

    # -- actions ----------------------------------------------------------------------------
    def copy_all(self) -> None:
        self.refresh()
        QApplication.clipboard().setText(self.code)
        what = "training script" if self.script_toggle.isChecked() else "model code"
        lines = self.code.count("\n")
        self.copied.emit(f"Copied the {what} ({lines} lines) to the clipboard"
                         + (" (the last valid version)" if self.stale else ""))

    def save_as(self, path: str | Path | None = None) -> Path | None:
        """Write the code to a .py file (asking where when no path is given)."""
        if path is None:
            stem = re.sub(r"[^A-Za-z0-9_]+", "_", self.document.name).strip("_").lower() or "model"
            suggested = f"train_{stem}.py" if self.script_toggle.isChecked() else f"{stem}_model.py"
            folder = self.document.path.parent if self.document.path else Path.home()
            chosen, _ = QFileDialog.getSaveFileName(self, "Save the code", str(folder / suggested),
                                                    "Python files (*.py)")
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        self.refresh()
        try:
            atomic_write_text(path, self.code)
        except OSError as exc:
            self.copied.emit(f"Could not save {path.name}: {exc.strerror or exc}")
            return None
        self.copied.emit(f"Saved the code to {path}")
        return path

    # -- visibility and colours ---------------------------------------------------------------
    def set_shown(self, shown: bool) -> None:
        """Whether someone can see the panel (its dock tab is in front): only then does it keep up."""
        self._shown = shown
        if shown:
            self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._dim(self.stale)
            self.highlighter.refresh_colors()
        super().changeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install(context: AppContext) -> CodePanel:
    """The Code dock at the bottom, as a tab beside the Summary (the Summary stays in front)."""
    panel = CodePanel(context.document, context.parent)
    dock = context.shell.add_panel("code", "Code", panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                                   beside="summary")
    dock.visibilityChanged.connect(panel.set_shown)
    panel.copied.connect(lambda text: context.messages.status(text, 5000))
    return panel
