"""The explanation views (Evaluation, Saliency & Grad-CAM, What filters respond to): what they show
matches what the network computed, clicks lead where they should, long jobs can be cancelled."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from cnnstudio.core.network import Network  # noqa: E402
from cnnstudio.core.project import Project  # noqa: E402
from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ui import explain  # noqa: E402
from cnnstudio.ui.inspect_area import InputImage  # noqa: E402

JOB_TIMEOUT = 60_000


def views(window) -> explain.ExplainViews:
    """The window's three pages."""
    return window.features.explain


def tiny_project(dataset: str = "x-vs-o") -> Project:
    """A small CNN for a two-class generated dataset: evaluates its 200 validation images in moments."""
    network = Network()
    previous = network.add_node("Input", {"shape": [28, 28, 1]}, node_id="input").id
    for type_name, params, node_id in (
        ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}, "conv"),
        ("MaxPooling2D", {"pool_size": 2}, "pool"),
        ("Flatten", {}, "flat"),
        ("Dense", {"units": 2, "activation": "softmax"}, "output"),
    ):
        network.add_node(type_name, params, node_id=node_id)
        network.connect(previous, node_id)
        previous = node_id
    return Project("Tiny", network, dataset={"name": dataset, "permute_pixels": None})


def evaluated(window, qtbot, split: str = "validation"):
    page = views(window).evaluation
    window.features.inspect.area.show_page(page)
    page.choose_split(split)
    page.evaluate()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    assert page.outcome is not None, page.bar.status.text()
    return page


@pytest.fixture(scope="module")
def xo_validation():
    from cnnstudio.ml.data import load_dataset
    from cnnstudio.ml.training.preparation import dataset_options
    from cnnstudio.ml.training.settings import TrainingSettings

    project = tiny_project()
    data = load_dataset("x-vs-o", **dataset_options(project, TrainingSettings.from_project(project)))
    return data.arrays("validation")


# ---------------------------------------------------------------- evaluation


def test_confusion_matrix_shown_sums_to_the_split_size_and_equals_the_evaluation(make_window, qtbot, xo_validation):
    window = make_window(tiny_project())
    page = evaluated(window, qtbot)
    x, y = xo_validation
    shown = page.plot.confusion
    evaluation = page.outcome.evaluation
    assert shown.sum() == len(y) == 200
    np.testing.assert_array_equal(evaluation.labels, y)  # the split's own labels, in order
    expected = np.zeros((2, 2), np.int64)
    np.add.at(expected, (y, evaluation.predictions), 1)
    np.testing.assert_array_equal(shown, expected)
    np.testing.assert_array_equal(shown, evaluation.confusion)
    assert [[page.plot.cell_text(r, c) for c in range(2)] for r in range(2)] == [[str(v) for v in row]
                                                                               for row in expected]
    assert f"{evaluation.accuracy:.1%}" in page.summary.text()
    assert page.table.values("Class") == ["O", "X"]
    assert page.table.values("Recall") == [f"{v:.3f}" for v in evaluation.recall]


def test_clicking_a_cell_lists_exactly_its_images_and_opening_one_sets_the_current_input(
        make_window, qtbot, xo_validation):
    window = make_window(tiny_project())
    page = evaluated(window, qtbot)
    evaluation = page.outcome.evaluation
    true, predicted = max(((t, p) for t in range(2) for p in range(2)), key=lambda c: evaluation.confusion[c])
    QTest.mouseClick(page.plot.viewport(), Qt.MouseButton.LeftButton, pos=page.plot.cell_center(true, predicted))
    expected = list(evaluation.cell_indices(true, predicted))
    assert page.cell == (true, predicted)
    assert page.thumbnails.keys() == expected[:len(page.thumbnails.keys())] and len(expected) > 0
    assert len(page.thumbnails.keys()) == min(len(expected), 240)
    confidence = evaluation.confidence[page.thumbnails.keys()]
    assert np.all(np.diff(confidence) <= 1e-7)  # most confident first

    grid = page.thumbnails
    second = grid.item(min(1, grid.count() - 1))
    QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualItemRect(second).center())
    chosen = window.context.current_input.value
    index = grid.keys()[min(1, grid.count() - 1)]
    assert (chosen.split, chosen.index, chosen.label) == ("validation", index, int(xo_validation[1][index]))
    np.testing.assert_array_equal(chosen.image, xo_validation[0][index])
    assert window.features.inspect.area.currentWidget() is views(window).saliency


def test_show_misclassified_lists_every_mistake(make_window, qtbot):
    window = make_window(tiny_project())
    page = evaluated(window, qtbot)
    page.misclassified_button.click()
    evaluation = page.outcome.evaluation
    wrong = int(evaluation.count - np.trace(evaluation.confusion))
    assert sorted(page.thumbnails.keys()) == sorted(np.flatnonzero(evaluation.labels != evaluation.predictions))
    assert len(page.thumbnails.keys()) == wrong


def test_the_test_split_needs_an_explicit_choice_with_a_warning(make_window, qtbot):
    window = make_window(tiny_project())
    page = views(window).evaluation
    assert page.chosen_split == "validation" and page.warning.isHidden()
    window.actions_["evaluate_test"].trigger()
    assert page.chosen_split == "test" and page.warning.isVisible()
    assert "final estimate" in page.warning.text() and not page.bar.running  # nothing runs until confirmed
    assert page.bar.run_button.text() == "Evaluate on test split"
    page.bar.run_button.click()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    assert page.outcome.split == "test" and page.plot.confusion.sum() == 500
    assert page.chosen_split == "validation" and page.warning.isHidden()  # no stray second look


def test_evaluation_exports_csv_and_png(make_window, qtbot, tmp_path):
    window = make_window(tiny_project())
    page = evaluated(window, qtbot)
    with open(page.export_csv(str(tmp_path / "e.csv")), newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1] == ["true \\ predicted", "O", "X"]
    assert [[int(v) for v in row[1:]] for row in rows[2:4]] == page.outcome.evaluation.confusion.tolist()
    assert rows[5] == ["class", "precision", "recall", "f1", "support"]
    png = page.export_png(str(tmp_path / "matrix"))
    assert png.endswith("matrix.png") and (tmp_path / "matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_export_buttons_ask_where_and_say_what_was_written_or_why_not(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = make_window(tiny_project())
    page = evaluated(window, qtbot)
    chosen = [str(tmp_path / "chosen.csv")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (chosen[0], "")))
    page.export_csv_button.click()
    assert (tmp_path / "chosen.csv").exists()
    assert "chosen.csv" in window.statusBar().currentMessage()
    chosen[0] = str(tmp_path / "chosen.csv" / "matrix.png")  # a file where a folder should be
    page.export_png_button.click()
    assert (tmp_path / "chosen.csv").is_file()
    assert window.statusBar().currentMessage().startswith("Could not export to")


# ---------------------------------------------------------------- saliency


@pytest.fixture(scope="module")
def left_half_run(tmp_path_factory):
    """A run folder with a fixed-weight network whose class is 1 when the LEFT half holds ink.

    A 3x3 averaging convolution marks ink; the output layer sums the marks of the left
    half only (the right half has zero weights), against a threshold."""
    import keras

    inputs = keras.Input((16, 16, 1))
    ink = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="ink")(inputs)
    flat = keras.layers.Flatten()(ink)
    outputs = keras.layers.Dense(2, activation="softmax", name="output")(flat)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[..., 0, 0] = 1 / 9
    kernel[..., 0, 1] = -1 / 9
    model.get_layer("ink").set_weights([kernel, np.zeros(2, np.float32)])
    weights = np.zeros((16, 16, 2, 2), np.float32)
    weights[:, :8, 0, 1] = 1.0  # class 1 counts ink in the left half only
    model.get_layer("output").set_weights([weights.reshape(-1, 2), np.array([4.0, 0.0], np.float32)])
    run = tmp_path_factory.mktemp("left-half-run")
    model.save(run / "model.keras")
    return run


def square_image(left: bool, right: bool) -> np.ndarray:
    image = np.zeros((16, 16, 1), np.float32)
    if left:
        image[5:10, 2:6] = 1.0
    if right:
        image[5:10, 10:14] = 1.0
    return image


def explained(window, qtbot, run_dir, image: np.ndarray, method: str):
    page = views(window).saliency
    window.model_source.set_run_dir(run_dir)
    window.features.inspect.area.show_page(page)
    page.set_method(method)
    page.explanation = None
    window.context.current_input.set(InputImage(image, "squares", origin="drawing"))
    qtbot.waitUntil(lambda: page.explanation is not None and page.explanation.method == method,
                    timeout=JOB_TIMEOUT)
    return page


def halves(values: np.ndarray) -> tuple[float, float]:
    return float(values[:, :8].mean()), float(values[:, 8:].mean())


def test_grad_cam_shown_for_a_left_half_model_is_brighter_on_the_left(make_window, qtbot, left_half_run):
    window = make_window()
    page = explained(window, qtbot, left_half_run, square_image(left=True, right=False), "grad-cam")
    assert page.explanation.predicted == 1 and page.explanation.layer == "ink"
    left, right = halves(page.heat_item.image)
    assert left > 0.1 and right < 0.2 * left
    shown = page.overlay_item.image
    change = np.abs(shown - np.repeat(square_image(True, False), 3, axis=-1)).mean(axis=-1)
    left_change, right_change = halves(change)
    assert left_change > 5 * max(right_change, 1e-6)
    assert "Predicted <b>1</b>" in page.status.text()


def test_hirescam_lights_only_the_half_the_class_depends_on(make_window, qtbot, left_half_run):
    window = make_window()
    page = explained(window, qtbot, left_half_run, square_image(left=True, right=True), "hires-cam")
    left, right = halves(page.heat_item.image)
    assert left > 0.1 and right < 0.05 * left  # the right square is there, but the class ignores it


def test_opacity_changes_only_the_overlay(make_window, qtbot, left_half_run):
    window = make_window()
    page = explained(window, qtbot, left_half_run, square_image(left=True, right=False), "grad-cam")
    heat, before = page.heat_item.image.copy(), page.overlay_item.image.copy()
    page.opacity.setValue(0)
    np.testing.assert_allclose(page.overlay_item.image, np.repeat(square_image(True, False), 3, axis=-1))
    np.testing.assert_array_equal(page.heat_item.image, heat)
    assert not np.allclose(before, page.overlay_item.image)


def test_the_saliency_views_export_as_a_sharp_png(make_window, qtbot, left_half_run, tmp_path):
    from PySide6.QtGui import QImage

    window = make_window()
    page = explained(window, qtbot, left_half_run, square_image(left=True, right=False), "grad-cam")
    saved = QImage(page.export_png(str(tmp_path / "saliency.png")))
    assert saved.width() == 2 * page.canvas.width() and saved.height() == 2 * page.canvas.height()


def test_every_method_works_on_a_functional_network_with_skips(make_window, qtbot):
    window = make_window(load_template("resnet-mini"))
    page = views(window).saliency
    page.samples.setValue(4)
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    for method in ("gradient", "smoothgrad", "grad-cam", "hires-cam"):
        page = explained(window, qtbot, None, image, method)
        assert page.heat_item.image.shape == (28, 28) and page.heat_item.image.max() > 0, method
    assert page.explanation.layer == "block3_out"


def test_choosing_a_class_explains_that_class(make_window, qtbot, left_half_run):
    window = make_window()
    page = explained(window, qtbot, left_half_run, square_image(left=True, right=False), "gradient")
    page.explanation = None
    page.target.setCurrentIndex(page.target.findData(0))
    qtbot.waitUntil(lambda: page.explanation is not None, timeout=JOB_TIMEOUT)
    assert page.explanation.class_index == 0 and page.explanation.predicted == 1
    assert "explaining <b>0</b>" in page.status.text()


# ---------------------------------------------------------------- what a filter responds to


def maximize_page(window, qtbot):
    page = views(window).maximize
    window.features.inspect.area.show_page(page)
    qtbot.waitUntil(lambda: page.layer.count() > 0, timeout=JOB_TIMEOUT)
    return page


def test_activation_maximization_raises_each_filters_activation_above_noise(main_window, qtbot):
    page = maximize_page(main_window, qtbot)
    page.set_layer("conv1")
    page.first.setValue(3)
    page.steps.setValue(24)
    page.bar.run_button.click()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    outcome = page.outcome
    assert list(outcome.targets) == [0, 1, 2] and outcome.steps == 24 and not outcome.cancelled
    assert np.all(outcome.objective > outcome.start_objective)
    assert page.grid.count() == 3 and page.grid.captions()[0].startswith("filter 0\n")
    assert "for 3 of 3" in page.summary.text()


def test_a_chosen_output_class_is_grown_until_the_network_favours_it(main_window, qtbot):
    page = maximize_page(main_window, qtbot)
    page.kind.setCurrentIndex(page.kind.findData("classes"))
    page.chosen.setText("3")
    page.steps.setValue(32)
    page.bar.run_button.click()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    outcome = page.outcome
    assert outcome.kind == "classes" and list(outcome.targets) == [3]
    assert outcome.objective[0] > outcome.start_objective[0]
    assert page.grid.captions()[0].startswith("class 3\n") and page.grid.keys() == [3]


def test_cancel_stops_maximization_and_the_page_says_so(main_window, qtbot):
    page = maximize_page(main_window, qtbot)
    page.steps.setValue(100_000)
    page.first.setValue(2)
    page.bar.run_button.click()
    qtbot.waitUntil(lambda: "steps" in page.bar.progress.format(), timeout=JOB_TIMEOUT)
    page.bar.cancel_button.click()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    assert page.outcome.cancelled and 0 < page.outcome.steps < 100_000
    assert page.bar.status.text().startswith(f"Cancelled after {page.outcome.steps} of 100000 steps")
    assert page.grid.count() == 2 and page.bar.run_button.isEnabled()


def test_closing_the_window_stops_a_long_maximization(make_window, qtbot):
    window = make_window()
    page = maximize_page(window, qtbot)
    page.steps.setValue(100_000)
    page.first.setValue(1)
    page.bar.run_button.click()
    qtbot.waitUntil(lambda: "steps" in page.bar.progress.format(), timeout=JOB_TIMEOUT)
    job = page.bar.job
    window.close()
    assert job.cancelled and window.ml_transport.shutdown(timeout_ms=0)  # its jobs in the worker have ended


def test_chosen_filters_are_parsed_in_plain_words():
    from cnnstudio.core.errors import UserError
    from cnnstudio.ui.explain.maximize_page import parse_indices

    assert parse_indices("0, 3, 8-10") == [0, 3, 8, 9, 10] and parse_indices(" all ") is None
    with pytest.raises(UserError, match="0 to 5"):
        parse_indices("2, 6", count=6)
    with pytest.raises(UserError, match="not a number"):
        parse_indices("two")
