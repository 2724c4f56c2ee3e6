"""The Evaluation page's confusion matrix followed over the epochs of a run: the slider shows each epoch's
kept validation predictions, and a cell lists the images that entered or left it since the epoch before."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cnnstudio.core.classification import confusion_matrix
from tests.core.experiment_records import write_predictions
from tests.ui.test_explain_views import tiny_project

JOB_TIMEOUT = 120_000


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real 3-epoch run of a small CNN on the generated X-versus-O pictures."""
    from cnnstudio.ml.trainer import Trainer

    run = tmp_path_factory.mktemp("runs") / "xo"
    project = tiny_project()
    project.training = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 64, "epochs": 3,
                        "validation_split": 0.1, "seed": 0}
    Trainer(project, run_dir=run, evaluate_test=False).run()
    return run


@pytest.fixture
def staged(trained, tmp_path):
    """The run with predictions written by hand: after epoch 1 everything is an O; after epoch 2 the first
    ten X are still taken for O; after epoch 3 all are right."""
    run = tmp_path / "staged"
    shutil.copytree(trained, run)
    with np.load(trained / "val_predictions.npz") as kept:
        labels = kept["labels"].astype(np.int64)
    first_x = np.flatnonzero(labels == 1)[:10]
    second = labels.copy()
    second[first_x] = 0
    confidence = np.linspace(0.99, 0.5, len(labels))
    write_predictions(run, labels, [np.zeros_like(labels), second, labels], [confidence] * 3)
    return run, labels, first_x


def evaluation_page(window):
    page = window.features.explain.evaluation
    window.features.inspect.area.show_page(page)
    return page


def test_the_slider_shows_each_epochs_matrix_of_the_inspected_run(make_window, staged):
    run, labels, first_x = staged
    window = make_window(tiny_project())
    page = evaluation_page(window)
    over = page.over_epochs
    assert not over.isVisible()  # the untrained network has no epochs
    window.model_source.set_run_dir(run)
    assert over.isVisible() and over.slider.isVisible() and over.active
    assert over.slider.minimum() == 0 and over.slider.maximum() == 2 and over.epoch == 3
    np.testing.assert_array_equal(page.plot.confusion, confusion_matrix(labels, labels, 2))
    assert over.epoch_label.text() == "after epoch 3 of 3" and "Accuracy 100.0%" in page.summary.text()
    over.slider.setValue(0)
    np.testing.assert_array_equal(page.plot.confusion, [[np.sum(labels == 0), 0], [np.sum(labels == 1), 0]])
    assert over.epoch_label.text() == "after epoch 1 of 3" and "after epoch 1 of 3" in page.summary.text()
    assert page.plot.class_names == ("O", "X")
    over.go_to(2)
    expected = confusion_matrix(labels, labels, 2)
    expected[1, 1] -= 10
    expected[1, 0] += 10
    np.testing.assert_array_equal(page.plot.confusion, expected)
    assert not over.back_button.isVisible()  # nothing evaluated yet to go back to


def test_a_cell_lists_the_images_that_entered_or_left_it_since_the_epoch_before(make_window, staged, qtbot):
    run, labels, first_x = staged
    window = make_window(tiny_project())
    page = evaluation_page(window)
    window.model_source.set_run_dir(run)
    over = page.over_epochs
    over.go_to(2)
    QTest.mouseClick(page.plot.viewport(), Qt.MouseButton.LeftButton, pos=page.plot.cell_center(1, 0))
    left = [i for i in np.flatnonzero(labels == 1) if i not in set(first_x)]
    assert over.cell == (1, 0) and list(over.change.entered) == [] and sorted(over.change.left) == left
    assert page.cell_title.text() == (f"True X, predicted O after epoch 2: 10 images; since epoch 1, 0 entered and "
                                      f"{len(left)} left (now predicted X).")
    qtbot.waitUntil(lambda: page.thumbnails.count() == len(left), timeout=JOB_TIMEOUT)
    assert sorted(page.thumbnails.keys()) == left
    assert all(caption.startswith("− #") and caption.endswith("→ X") for caption in page.thumbnails.captions())
    QTest.mouseClick(page.plot.viewport(), Qt.MouseButton.LeftButton, pos=page.plot.cell_center(1, 1))
    assert sorted(over.change.entered) == left and list(over.change.left) == []
    qtbot.waitUntil(lambda: sorted(page.thumbnails.keys()) == left, timeout=JOB_TIMEOUT)
    confidence = np.linspace(0.99, 0.5, len(labels))
    assert page.thumbnails.keys() == sorted(left, key=lambda i: -confidence[i])  # most confident first
    assert page.thumbnails.captions()[0].startswith("+ #")
    over.go_to(3)  # the chosen cell follows the slider
    assert over.cell == (1, 1) and sorted(over.change.entered) == sorted(first_x.tolist())
    qtbot.waitUntil(lambda: sorted(page.thumbnails.keys()) == sorted(first_x.tolist()), timeout=JOB_TIMEOUT)


def test_a_listed_image_opens_in_the_explanation_views(make_window, staged, qtbot):
    run, labels, first_x = staged
    window = make_window(tiny_project())
    page = evaluation_page(window)
    window.model_source.set_run_dir(run)
    page.over_epochs.go_to(2)
    page.show_misclassified()
    assert page.cell_title.text().startswith("Misclassified after epoch 2: 10 images")
    qtbot.waitUntil(lambda: page.thumbnails.count() == 10, timeout=JOB_TIMEOUT)
    index = page.thumbnails.keys()[0]
    page.thumbnails.itemClicked.emit(page.thumbnails.item(0))
    chosen = window.context.current_input.value
    assert chosen.index == index and chosen.split == "validation" and chosen.label == 1
    assert "after epoch 2" in chosen.title
    assert window.features.inspect.area.currentWidget() is window.features.explain.saliency


def test_evaluating_shows_the_evaluation_and_the_slider_goes_back_to_the_epochs(make_window, trained, qtbot):
    window = make_window(tiny_project())
    page = evaluation_page(window)
    window.model_source.set_run_dir(trained)
    over = page.over_epochs
    assert over.active
    page.evaluate()
    qtbot.waitUntil(lambda: not page.bar.running, timeout=JOB_TIMEOUT)
    assert page.outcome is not None and not over.active
    np.testing.assert_array_equal(page.plot.confusion, page.outcome.evaluation.confusion)
    with np.load(trained / "val_predictions.npz") as kept:  # the final model predicts what the last epoch kept
        np.testing.assert_array_equal(page.outcome.evaluation.predictions, kept["epoch_3"])
    over.go_to(1)
    assert over.active and over.back_button.isVisible() and "after epoch 1" in page.summary.text()
    over.back_button.click()
    assert not over.active and not over.back_button.isVisible()
    np.testing.assert_array_equal(page.plot.confusion, page.outcome.evaluation.confusion)
    assert page.summary.text().startswith("<b>Accuracy")


def test_a_run_that_kept_no_predictions_says_so(make_window, staged):
    run, _, _ = staged
    (run / "val_predictions.npz").unlink()
    window = make_window(tiny_project())
    page = evaluation_page(window)
    window.model_source.set_run_dir(run)
    over = page.over_epochs
    assert over.isVisible() and not over.slider.isVisible() and not over.active
    assert "kept no validation predictions per epoch" in over.hint.text()
