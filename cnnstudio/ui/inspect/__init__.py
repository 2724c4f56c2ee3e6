"""Looking inside the network: its filters, what every layer makes of an input (chosen from the
dataset, opened from a picture or drawn by hand) and the network's answer.

``install(window)`` adds the Filters and Feature Maps pages to the Inspect tab and an
"Inspect" menu; ``window.inspect_views`` gives access to them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup

from ..inspect_area import inspect_area, show_page
from .controller import InspectController
from .feature_maps_view import FeatureMapsPage
from .filters_view import FiltersPage

if TYPE_CHECKING:
    from ..main_window import MainWindow


@dataclass
class InspectViews:
    controller: InspectController
    filters: FiltersPage
    feature_maps: FeatureMapsPage
    actions: dict[str, QAction]

    @property
    def prediction(self):
        return self.feature_maps.prediction

    @property
    def canvas(self):
        return self.feature_maps.input_panel.pad.canvas


def install(window: MainWindow) -> InspectViews:
    controller = InspectController(window)
    area = inspect_area(window)
    filters = FiltersPage(controller, area)
    maps = FeatureMapsPage(controller, area)
    area.insertTab(0, filters, "Filters")
    area.insertTab(1, maps, "Feature Maps")
    area.setCurrentIndex(0)
    views = InspectViews(controller, filters, maps, _menu(window, controller, filters, maps))
    window.inspect_views = views
    return views


def _menu(window: MainWindow, controller: InspectController, filters: FiltersPage,
          maps: FeatureMapsPage) -> dict[str, QAction]:
    menu = window.menu("&Inspect")
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

    add("filters", "Fi&lters", lambda: show_page(window, filters),
        "The kernels of a convolution layer, with their weights", first)
    add("feature_maps", "Feature &Maps", lambda: show_page(window, maps),
        "What every layer makes of an input, and the network's answer", first)
    add("prediction", "&Prediction", lambda: _show_prediction(window, maps),
        "Class probabilities for the chosen or drawn input", first)
    add("draw", "&Draw an Input…", lambda: _draw(window, maps),
        "Draw a digit by hand and watch the prediction follow the pen", first)
    if first is not None and not first.isSeparator():
        menu.insertSeparator(first)
    menu.addSeparator()
    group = QActionGroup(menu)
    untrained = add("untrained", "Inspect the &Untrained Network", lambda: window.model_source.set_run_dir(None),
                    "Show the network as designed, with its starting weights")
    trained = add("trained", "Inspect the Trained Model", lambda: _inspect_last_run(window, controller),
                  "Show the trained model of the last run chosen")
    for action in (untrained, trained):
        action.setCheckable(True)
        group.addAction(action)
    add("open_run", "Open Training &Run…", lambda: controller.open_run(window),
        "Inspect the trained model in a run's folder")

    def update(_run=None) -> None:
        run = window.model_source.run_dir
        last = controller.runs[0] if controller.runs else None
        trained.setText(f"Inspect the Trained Model ({last.name})" if last else "Inspect the Trained Model")
        trained.setEnabled(last is not None)
        (trained if run is not None else untrained).setChecked(True)

    window.model_source.changed.connect(update)
    controller.runsChanged.connect(update)
    update()
    return actions


def _show_prediction(window: MainWindow, maps: FeatureMapsPage) -> None:
    show_page(window, maps)
    maps.prediction.setFocus()


def _draw(window: MainWindow, maps: FeatureMapsPage) -> None:
    show_page(window, maps)
    maps.input_panel.focus_draw()


def _inspect_last_run(window: MainWindow, controller: InspectController) -> None:
    if controller.runs:
        window.model_source.set_run_dir(controller.runs[0])
