"""What changed between two runs: select two in the Runs panel and press What Changed?

    install(context, history, area, explained, inspected)   # the "What Changed" tab, on demand

The network diff is drawn with the editor's own layer boxes; a picture of the outcome opens
in Grad-CAM or Feature Maps with the chosen run's model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..context import AppContext
from ..inspect_area import InputImage, InspectArea
from .view import RunDiffView

if TYPE_CHECKING:
    from ..explain import ExplainViews
    from ..inspect import InspectViews
    from ..runs import RunHistory

__all__ = ["RunDiffView", "RunDiffs", "install"]


class RunDiffs:
    """The feature's public face: ``show(run_a, run_b)`` opens (or reuses) the "What Changed" tab."""

    def __init__(self, context: AppContext, area: InspectArea, explained: ExplainViews,
                 inspected: InspectViews) -> None:
        self.context = context
        self.area = area
        self.explained = explained
        self.inspected = inspected
        self.view: RunDiffView | None = None

    def show(self, run_a: str | Path, run_b: str | Path) -> RunDiffView | None:
        """Compare run A (before) with run B (after) and bring the tab to the front."""
        if self.view is None:
            self.view = RunDiffView(self.context)
            self.view.outcome.imageChosen.connect(self.open_image)
            self.context.shell.add_tab(self.view, "What Changed")
        if self.view.show_runs(run_a, run_b) is None:
            return None
        self.context.shell.show_tab(self.view)
        return self.view

    def open_image(self, run_dir: Path, image: InputImage, page: str) -> None:
        """Explain a validation picture with a run's model: Grad-CAM ("saliency") or Feature Maps."""
        self.context.model_source.set_run_dir(run_dir)
        self.context.current_input.set(image)
        if page == "saliency":
            self.explained.saliency.set_method("grad-cam")
            self.area.show_page(self.explained.saliency)
        else:
            self.area.show_page(self.inspected.feature_maps)


def install(context: AppContext, history: RunHistory, area: InspectArea, explained: ExplainViews,
            inspected: InspectViews) -> RunDiffs:
    """Answer the Runs panel's What Changed? with the "What Changed" tab."""
    diffs = RunDiffs(context, area, explained, inspected)
    history.diffRequested.connect(diffs.show)
    return diffs
