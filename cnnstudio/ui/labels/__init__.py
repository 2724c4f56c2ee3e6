""""Check these labels": a folder dataset's doubtful labels, corrected in the project, then retrained.

    install(context, area, training)   # the "Check Labels" page of the Inspect tab, and its menu entry
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from ..context import AppContext
from ..inspect_area import InspectArea
from .page import LabelCheckPage

if TYPE_CHECKING:
    from ..training import TrainingController

__all__ = ["LabelCheckPage", "install"]


def install(context: AppContext, area: InspectArea, training: TrainingController) -> LabelCheckPage:
    """Add the page after the explanation pages, and Inspect > Check These Labels."""
    page = LabelCheckPage(context, training)
    area.addTab(page, "Check Labels")
    action = QAction("Check These &Labels", context.parent)
    action.setObjectName("action_check_labels")
    action.setStatusTip("The validation pictures of a folder dataset the model gets most confidently wrong")
    action.triggered.connect(lambda: (area.show_page(page), page.run_check()))
    context.shell.menu("&Inspect").addAction(action)
    context.shell.add_action("check_labels", action)
    return page
