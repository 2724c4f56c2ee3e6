"""Guided lessons: five experiments that set up the project, the data and the views in one click.

``install(context, ...)`` adds the Lessons panel and Help > Lessons; ``panel.present(key)`` shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from ..context import AppContext
from .catalog import LESSONS, LessonInfo
from .panel import LessonsPanel
from .runner import LessonRunner

if TYPE_CHECKING:
    from ..experiments import Experiments
    from ..inspect import InspectViews
    from ..playground import PlaygroundView
    from ..runs import RunHistory
    from ..training import TrainingController

__all__ = ["LESSONS", "LessonInfo", "LessonRunner", "LessonsPanel", "install"]


def install(context: AppContext, training: TrainingController, history: RunHistory, views: InspectViews,
            playground: PlaygroundView, experiments: Experiments) -> LessonsPanel:
    """The Lessons dock (hidden until asked for) and Help > Lessons with one entry per lesson."""
    runner = LessonRunner(context, training, history, views, playground, experiments)
    panel = LessonsPanel(runner)
    dock = context.shell.add_panel("lessons", "Lessons", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                                   beside="inspector")
    dock.hide()

    def bring_forward() -> None:
        dock.show()
        dock.raise_()

    panel.presented.connect(bring_forward)
    runner.finished.connect(lambda _key, _ok: bring_forward())  # the conclusion, in front
    window = context.parent
    help_menu = context.shell.menu("&Help")
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
        action.triggered.connect(lambda _checked=False, key=info.key: panel.present(key))
        menu.addAction(action)
    menu.addSeparator()
    show_all = menu.addAction("Show the Lessons Panel")
    show_all.setObjectName("action_lessons_panel")
    show_all.triggered.connect(lambda: panel.present())
    return panel
