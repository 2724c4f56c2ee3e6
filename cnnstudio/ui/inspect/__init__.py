"""Looking inside the network: its filters, what every layer makes of an input (chosen from the
dataset, opened from a picture or drawn by hand) and the network's answer.

``install(context, area, training)`` adds the Filters and Feature Maps pages to the Inspect
tab and an "Inspect" menu, and returns the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup

from ..context import AppContext
from ..inspect_area import InspectArea
from .controller import InspectController
from .draw_canvas import DrawCanvas
from .feature_maps_view import FeatureMapsPage
from .filters_view import FiltersPage
from .prediction_view import PredictionView

if TYPE_CHECKING:
    from ..training import TrainingController


@dataclass(frozen=True)
class InspectViews:
    controller: InspectController
    area: InspectArea  # the Inspect tab these views are pages of
    filters: FiltersPage
    feature_maps: FeatureMapsPage
    actions: dict[str, QAction]

    @property
    def prediction(self) -> PredictionView:
        return self.feature_maps.prediction

    @property
    def canvas(self) -> DrawCanvas:
        return self.feature_maps.input_panel.pad.canvas


def install(context: AppContext, area: InspectArea, training: TrainingController) -> InspectViews:
    """The Filters and Feature Maps pages, first in `area`; live filters come from `training`."""
    controller = InspectController(context, training)
    filters = FiltersPage(controller, area)
    maps = FeatureMapsPage(controller, area)
    area.insertTab(0, filters, "Filters")
    area.insertTab(1, maps, "Feature Maps")
    area.setCurrentIndex(0)
    return InspectViews(controller, area, filters, maps, _menu(context, area, controller, filters, maps))


def _menu(context: AppContext, area: InspectArea, controller: InspectController, filters: FiltersPage,
          maps: FeatureMapsPage) -> dict[str, QAction]:
    menu = context.shell.menu("&Inspect")
    actions: dict[str, QAction] = {}
    existing = menu.actions()
    first = existing[0] if existing else None  # the views come first, in the order of their tabs

    def add(key: str, text: str, slot, tip: str, before: QAction | None = None) -> QAction:
        action = QAction(text, menu)
        action.setObjectName(f"action_inspect_{key}")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        if before is not None:
            menu.insertAction(before, action)
        else:
            menu.addAction(action)
        actions[key] = action
        return action

    add("filters", "Fi&lters", lambda: area.show_page(filters),
        "The kernels of a convolution layer, with their weights", first)
    add("feature_maps", "Feature &Maps", lambda: area.show_page(maps),
        "What every layer makes of an input, and the network's answer", first)
    add("prediction", "&Prediction", lambda: _show_prediction(area, maps),
        "Class probabilities for the chosen or drawn input", first)
    add("draw", "&Draw an Input…", lambda: _draw(area, maps),
        "Draw a digit by hand and watch the prediction follow the pen", first)
    if first is not None and not first.isSeparator():
        menu.insertSeparator(first)
    menu.addSeparator()
    group = QActionGroup(menu)
    untrained = add("untrained", "Inspect the &Untrained Network", lambda: context.model_source.set_run_dir(None),
                    "Show the network as designed, with its starting weights")
    trained = add("trained", "Inspect the Trained Model", lambda: _inspect_last_run(context, controller),
                  "Show the trained model of the last run chosen")
    for action in (untrained, trained):
        action.setCheckable(True)
        group.addAction(action)
    add("open_run", "Open Training &Run…", lambda: controller.open_run(context.parent),
        "Inspect the trained model in a run's folder")

    def update(_run=None) -> None:
        run = context.model_source.run_dir
        last = controller.runs[0] if controller.runs else None
        trained.setText(f"Inspect the Trained Model ({last.name})" if last else "Inspect the Trained Model")
        trained.setEnabled(last is not None)
        (trained if run is not None else untrained).setChecked(True)

    context.model_source.changed.connect(update)
    controller.runsChanged.connect(update)
    update()
    return actions


def _show_prediction(area: InspectArea, maps: FeatureMapsPage) -> None:
    area.show_page(maps)
    maps.prediction.setFocus()


def _draw(area: InspectArea, maps: FeatureMapsPage) -> None:
    area.show_page(maps)
    maps.input_panel.focus_draw()


def _inspect_last_run(context: AppContext, controller: InspectController) -> None:
    if controller.runs:
        context.model_source.set_run_dir(controller.runs[0])
