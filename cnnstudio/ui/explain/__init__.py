"""Explaining the network's decisions: evaluation with a confusion matrix, saliency and Grad-CAM,
and what a filter responds to. Three pages of the Inspect tab, with their Inspect-menu entries.

    install(window)   # adds the pages (confusionView, saliencyView, maximizeView) and menu actions
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from ..inspect_area import InputImage, current_input, inspect_area, show_page
from .evaluation_page import EvaluationPage
from .maximize_page import MaximizePage
from .saliency_page import SaliencyPage

if TYPE_CHECKING:
    from ..main_window import MainWindow

__all__ = ["ExplainViews", "install"]


@dataclass
class ExplainViews:
    evaluation: EvaluationPage
    saliency: SaliencyPage
    maximize: MaximizePage


def install(window: MainWindow) -> ExplainViews:
    """Add the Evaluation, Saliency and "What a filter responds to" pages and their menu actions."""
    area = inspect_area(window)
    saliency = SaliencyPage(window)

    def open_image(image: InputImage) -> None:
        current_input(window).set(image)
        show_page(window, saliency)

    evaluation = EvaluationPage(window, open_image)
    maximize = MaximizePage(window)
    area.addTab(evaluation, "Evaluation")
    area.addTab(saliency, "Saliency && Grad-CAM")
    area.addTab(maximize, "What filters respond to")
    views = ExplainViews(evaluation, saliency, maximize)

    def stop_long_jobs() -> bool:
        """Closing the window stops an evaluation or a maximization at its next step (never vetoes)."""
        for bar in (evaluation.bar, maximize.bar):
            bar.cancel()
        return True

    window.close_guards.append(stop_long_jobs)

    def evaluate_on(split: str, start: bool) -> None:
        show_page(window, evaluation)
        evaluation.choose_split(split)
        if start:
            evaluation.evaluate()

    menu = window.menu("&Inspect")
    menu.addSeparator()
    entries = (
        ("evaluate_validation", "&Evaluate on Validation Split",
         "Accuracy, per-class figures and the confusion matrix on the validation images",
         lambda: evaluate_on("validation", True)),
        ("evaluate_test", "Evaluate on &Test Split (final estimate)…",
         "Choose the held-out test split for a final estimate; it is evaluated when you confirm",
         lambda: evaluate_on("test", False)),
        ("show_saliency", "&Saliency and Grad-CAM",
         "Where in the chosen image the network found its evidence",
         lambda: show_page(window, saliency)),
        ("show_maximize", "What a &Filter Responds To",
         "Images grown from noise until a filter or a class responds to them as strongly as it can",
         lambda: show_page(window, maximize)),
    )
    for name, text, tip, slot in entries:
        action = QAction(text, window)
        action.setObjectName(f"action_{name}")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        window.actions_[name] = action
    return views
