"""The small things that made the program look unfinished, each checked where a person saw it."""

from __future__ import annotations

import numpy as np

from cnnstudio.core.templates import load_template
from cnnstudio.ui import inspect as inspect_views
from cnnstudio.ui.inspect_area import InputImage

JOB_TIMEOUT = 240_000  # the first job of a session loads TensorFlow, on a busy machine too


def views(window) -> inspect_views.InspectViews:
    return window.features.inspect


def show_page(window, page) -> None:
    window.features.inspect.area.show_page(page)


def current_input(window):
    return window.context.current_input


def _drawn_maps(window, qtbot):
    page = views(window).feature_maps
    show_page(window, page)
    page.input_panel.focus_draw()
    views(window).canvas.stroke([(6, 6), (21, 6), (20, 9), (15, 16), (12, 23)])
    qtbot.waitUntil(lambda: page.analysis is not None and page.analysis.input.origin == "drawing"
                    and page.prediction.probabilities is not None, timeout=JOB_TIMEOUT)
    return page


def test_an_empty_drawing_canvas_shows_no_prediction(main_window, qtbot):
    page = _drawn_maps(main_window, qtbot)
    views(main_window).canvas.clear()
    qtbot.waitUntil(lambda: current_input(main_window).value is None, timeout=JOB_TIMEOUT)
    assert page.prediction.probabilities is None and page.prediction.plot.isHidden()
    assert "Draw something" in page.prediction.answer.text()
    assert "Nothing drawn yet" in page.input_panel.caption.text()


def test_a_new_network_starts_with_a_clean_drawing_canvas_and_status_bar(main_window, qtbot):
    page = _drawn_maps(main_window, qtbot)
    page.show_field("conv1", 0, 5, 5)
    main_window.editor.select(["conv1"])
    assert "conv1" in page.input_panel.field_label.text() and "conv1" in main_window.statusBar().currentMessage()
    main_window.document.replace_project(load_template("mlp"))  # as a lesson does
    assert views(main_window).canvas.is_blank()
    assert page.input_panel.field_label.text() == "" and page._selection is None
    assert "conv1" not in main_window.statusBar().currentMessage()


def test_a_drawing_chosen_by_a_lesson_is_not_replaced_by_the_canvas(main_window, qtbot):
    page = _drawn_maps(main_window, qtbot)
    letter = InputImage(np.ones((28, 28, 1), np.float32), "a drawn X", origin="drawing")
    current_input(main_window).set(letter)
    page.input_panel.reload()  # as after the model changes
    qtbot.waitUntil(lambda: page.analysis is not None and page.analysis.input is letter, timeout=JOB_TIMEOUT)
    assert current_input(main_window).value is letter


def test_the_validation_image_box_shows_the_image_shown(main_window):
    page = main_window.features.explain.saliency
    image = InputImage(np.zeros((28, 28, 1), np.float32), "validation image 628 (a 3)", label=3, split="validation",
                       index=628)
    current_input(main_window).set(image)
    assert page.picker.value() == 628


def test_the_evaluation_page_shows_no_empty_plot_before_evaluating(main_window):
    page = main_window.features.explain.evaluation
    show_page(main_window, page)
    assert not page.content.isVisibleTo(page)
    assert "Evaluate the model" in page.summary.text()


def test_the_accuracy_legend_moves_off_the_last_epochs(qtbot):
    from cnnstudio.ui.training.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 600)
    curves.show()
    qtbot.waitExposed(curves)
    # accuracy climbing to the top right, the validation curve stalling lower: both end on the right
    rows = [{"epoch": e, "loss": 2.0 / e, "accuracy": 1 - 0.5 / e, "val_loss": 2.2 / e, "val_accuracy": 0.9 - 0.4 / e,
             "learning_rate": 0.001} for e in range(1, 21)]
    curves.plot_history(rows)
    curves.fit_view()
    placer = curves.legends[1]
    qtbot.waitUntil(lambda: placer.place() == placer.corner and placer.corner != "")
    legend, view = curves.accuracy_plot.getPlotItem().legend, curves.accuracy_plot.getPlotItem().getViewBox()
    covered = view.mapSceneToView(legend.mapRectToScene(legend.boundingRect())).boundingRect()
    x, y = curves.val_accuracy.getData()
    inside = [(a, b) for a, b in zip(x, y) if covered.left() <= a <= covered.right()
              and min(covered.top(), covered.bottom()) <= b <= max(covered.top(), covered.bottom())]
    assert inside == []
    x, y = curves.epoch_accuracy.getData()
    assert not any(covered.left() <= a <= covered.right() and min(covered.top(), covered.bottom()) <= b
                   <= max(covered.top(), covered.bottom()) for a, b in zip(x, y))
