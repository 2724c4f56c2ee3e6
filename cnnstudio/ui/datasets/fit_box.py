"""The dataset panel's "does the network fit the data?" box: each problem in words, with fix buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..icons import severity_icon
from ..theme import ERROR_COLOR, OK_COLOR, WARNING_COLOR
from .fit import ERROR, Fix, Problem


class FitBox(QFrame):
    """Lists problems (errors first) with one button per fix; ``fixChosen(Fix)`` when one is clicked."""

    fixChosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetFit")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 6)
        self.problems: list[Problem] = []
        self.buttons: list[QPushButton] = []
        self.ok_label = QLabel()
        self.ok_label.setObjectName("datasetFitOk")
        self.ok_label.setWordWrap(True)
        self._layout.addWidget(self.ok_label)

    def show_problems(self, problems: list[Problem], ok_text: str = "") -> None:
        """Replace the list; with no problems, show ``ok_text`` (or hide when it is empty)."""
        while self._layout.count() > 1:
            item = self._layout.takeAt(1)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.problems = sorted(problems, key=lambda p: p.severity != ERROR)
        self.buttons = []
        self.ok_label.setVisible(not problems and bool(ok_text))
        self.ok_label.setText(f"<span style='color:{OK_COLOR}'>✓</span> {ok_text}")
        for problem in self.problems:
            self._layout.addWidget(self._problem_row(problem))
        color = ERROR_COLOR if any(p.severity == ERROR for p in problems) else WARNING_COLOR
        self.setStyleSheet(f"QFrame#datasetFit {{ border: 1px solid {color}; border-radius: 4px; }}"
                           if problems else "")
        self.setVisible(bool(problems) or bool(ok_text))

    def _problem_row(self, problem: Problem) -> QWidget:
        row = QWidget(self)
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 2, 0, 2)
        top = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(severity_icon(problem.severity).pixmap(16, 16))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QLabel(problem.text)
        text.setWordWrap(True)
        text.setObjectName("datasetFitProblem")
        top.addWidget(icon)
        top.addWidget(text, 1)
        layout.addLayout(top)
        for fix in problem.fixes:
            button = QPushButton(fix.label)
            button.setObjectName("datasetFitFix")
            button.setToolTip(fix.tooltip)
            button.clicked.connect(lambda _=False, f=fix: self.fixChosen.emit(f))
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            self.buttons.append(button)
        return row

    def fix_button(self, text: str) -> QPushButton | None:
        """The first fix button whose label starts with ``text`` (for automation and tests)."""
        return next((b for b in self.buttons if b.text().startswith(text)), None)

    def fixes(self) -> list[Fix]:
        return [fix for problem in self.problems for fix in problem.fixes]
