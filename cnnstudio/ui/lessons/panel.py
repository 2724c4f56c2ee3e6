"""The Lessons panel: the five guided experiments, what each teaches, Start, and what came out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .catalog import LESSONS, lesson
from .runner import LessonRunner


class LessonsPanel(QWidget):
    """objectName ``lessonsPanel``; ``show_lesson(key)`` selects one, ``start()`` runs it."""

    presented = Signal()  # someone asked to see the panel

    def __init__(self, runner: LessonRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonsPanel")
        self.runner = runner
        self.results: dict[str, QWidget] = {}
        self.statuses: dict[str, str] = {}
        self.list = QListWidget()
        self.list.setObjectName("lessonList")
        self.list.setAccessibleName("Lessons")
        for number, info in enumerate(LESSONS, 1):
            self.list.addItem(f"{number}. {info.title}")
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list.setFixedHeight(self.list.sizeHintForRow(0) * len(LESSONS) + 2 * self.list.frameWidth() + 4)
        self.title = QLabel()
        self.title.setObjectName("lessonTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("lessonText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton()
        self.start_button.setObjectName("lessonStart")
        self.start_button.setDefault(True)
        self.status = QLabel()
        self.status.setObjectName("lessonStatus")
        self.status.setWordWrap(True)
        self.result_host = QWidget()
        self.result_layout = QVBoxLayout(self.result_host)
        self.result_layout.setContentsMargins(0, 0, 0, 0)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self.list)
        column.addWidget(self.title)
        column.addWidget(self.text)
        column.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.status)
        column.addWidget(line)
        column.addWidget(self.result_host)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.list.currentRowChanged.connect(lambda row: self._show(LESSONS[row].key) if row >= 0 else None)
        self.start_button.clicked.connect(self.start)
        runner.progress.connect(self._progress)
        runner.resultReady.connect(self._result)
        runner.finished.connect(lambda _key, _ok: self._update_button())
        self.list.setCurrentRow(0)

    @property
    def current(self) -> str:
        return LESSONS[max(self.list.currentRow(), 0)].key

    def show_lesson(self, key: str) -> None:
        self.list.setCurrentRow([info.key for info in LESSONS].index(key))

    def present(self, key: str | None = None) -> LessonsPanel:
        """Bring the panel forward (its dock listens to `presented`), on lesson ``key`` if given."""
        self.presented.emit()
        if key is not None:
            self.show_lesson(key)
        return self

    def start(self) -> bool:
        """Start the lesson shown (the window asks to save unsaved changes first)."""
        started = self.runner.start(self.current)
        self._update_button()
        return started

    def _show(self, key: str) -> None:
        info = lesson(key)
        self.title.setText(info.title)
        self.text.setText(info.paragraph)
        self.status.setText(self.statuses.get(key, ""))
        for widget in self.results.values():
            widget.setVisible(False)
        if key in self.results:
            self.results[key].setVisible(True)
        self._update_button()

    def _update_button(self) -> None:
        info = lesson(self.current)
        busy = self.runner.active is not None
        self.start_button.setText(f"Start: {info.start_text}" if not busy else "Lesson running…")
        self.start_button.setEnabled(not busy)

    def _progress(self, key: str, text: str) -> None:
        self.statuses[key] = text
        if key == self.current:
            self.status.setText(text)

    def _result(self, key: str, widget: QWidget) -> None:
        old = self.results.pop(key, None)
        if old is not None:
            self.result_layout.removeWidget(old)
            old.deleteLater()
        self.results[key] = widget
        self.result_layout.addWidget(widget)
        widget.setVisible(key == self.current)
