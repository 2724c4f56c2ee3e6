"""Explaining the network's decisions: evaluation with a confusion matrix, saliency and Grad-CAM,
and what a filter responds to. Three pages of the Inspect tab, with their Inspect-menu entries.

    install(context, area)   # adds the pages (confusionView, saliencyView, maximizeView) and menu actions
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction

from ..context import AppContext
from ..inspect_area import InputImage, InspectArea
from .evaluation_page import EvaluationPage
from .maximize_page import MaximizePage
from .saliency_page import SaliencyPage

__all__ = ["ExplainViews", "install"]


@dataclass(frozen=True)
class ExplainViews:
    evaluation: EvaluationPage
    saliency: SaliencyPage
    maximize: MaximizePage

    def stop_long_jobs(self) -> bool:
        """Before the window closes: an evaluation or a maximization stops at its next step (never vetoes)."""
        for bar in (self.evaluation.bar, self.maximize.bar):
            bar.cancel()
        return True


def install(context: AppContext, area: InspectArea) -> ExplainViews:
    """Add the Evaluation, Saliency and "What a filter responds to" pages to `area`, and their menu actions."""
    saliency = SaliencyPage(context)

    def open_image(image: InputImage) -> None:
        context.current_input.set(image)
        area.show_page(saliency)

    evaluation = EvaluationPage(context, open_image)
    maximize = MaximizePage(context)
    area.addTab(evaluation, "Evaluation")
    area.addTab(saliency, "Saliency && Grad-CAM")
    area.addTab(maximize, "What filters respond to")
    views = ExplainViews(evaluation, saliency, maximize)

    def evaluate_on(split: str, start: bool) -> None:
        area.show_page(evaluation)
        evaluation.choose_split(split)
        if start:
            evaluation.evaluate()

    menu = context.shell.menu("&Inspect")
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
         lambda: area.show_page(saliency)),
        ("show_maximize", "What a &Filter Responds To",
         "Images grown from noise until a filter or a class responds to them as strongly as it can",
         lambda: area.show_page(maximize)),
    )
    for name, text, tip, slot in entries:
        action = QAction(text, context.parent)
        action.setObjectName(f"action_{name}")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        context.shell.add_action(name, action)
    return views
