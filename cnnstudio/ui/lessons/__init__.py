"""Guided lessons: five experiments that set up the project, the data and the views in one click.

``install(window)`` adds the Lessons panel (``window.lessons``) and Help > Lessons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from .catalog import LESSONS, LessonInfo
from .panel import LessonsPanel
from .runner import LessonRunner

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["LESSONS", "LessonInfo", "LessonRunner", "LessonsPanel", "install", "show_lessons"]


def install(window: MainWindow) -> LessonsPanel:
    """The Lessons dock (hidden until asked for) and Help > Lessons with one entry per lesson."""
    runner = LessonRunner(window)
    panel = LessonsPanel(runner)
    dock = window.add_panel("lessons", "Lessons", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    inspector = window.docks.get("inspector")
    if inspector is not None:
        window.tabifyDockWidget(inspector, dock)
        inspector.raise_()
    dock.hide()
    window.lessons = panel
    runner.finished.connect(lambda _key, _ok: (dock.show(), dock.raise_()))  # the conclusion, in front
    help_menu = window.menu("&Help")
    menu = help_menu.addMenu("&Lessons")
    menu.setObjectName("menu_lessons")
    first = help_menu.actions()[0] if help_menu.actions() else None
    if first is not None and first is not menu.menuAction():
        help_menu.insertMenu(first, menu)
        help_menu.insertSeparator(first)
    for number, info in enumerate(LESSONS, 1):
        action = QAction(f"&{number}. {info.title}", window)
        action.setObjectName(f"action_lesson_{info.key}")
        action.setStatusTip(info.paragraph.split(". ")[0] + ".")
        action.triggered.connect(lambda _checked=False, key=info.key: show_lessons(window, key))
        menu.addAction(action)
    menu.addSeparator()
    show_all = menu.addAction("Show the Lessons Panel")
    show_all.setObjectName("action_lessons_panel")
    show_all.triggered.connect(lambda: show_lessons(window))
    return panel


def show_lessons(window: MainWindow, key: str | None = None) -> LessonsPanel:
    """Bring the Lessons panel forward, on lesson ``key`` if given."""
    dock = window.docks["lessons"]
    dock.show()
    dock.raise_()
    if key is not None:
        window.lessons.show_lesson(key)
    return window.lessons
