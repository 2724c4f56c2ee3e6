"""The confusion matrix over epochs from a run's kept validation predictions, and per-class scores."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.classification import class_scores, confusion_matrix
from cnnstudio.core.confusion_time import ConfusionTimeline
from cnnstudio.core.errors import UserError
from cnnstudio.core.runs import read_val_predictions
from tests.core.experiment_records import write_predictions

LABELS = [0, 0, 1, 1, 2, 2]
EPOCH_1 = [0, 1, 1, 0, 1, 2]
EPOCH_2 = [0, 0, 1, 1, 1, 1]
CONF_2 = [0.9, 0.6, 0.8, 0.7, 0.95, 0.55]


@pytest.fixture
def run(tmp_path):
    return write_predictions(tmp_path, LABELS, [EPOCH_1, EPOCH_2], [[0.5] * 6, CONF_2])


def test_confusion_matrix_and_scores():
    confusion = confusion_matrix(np.array(LABELS), np.array(EPOCH_2), 3)
    assert confusion.tolist() == [[2, 0, 0], [0, 2, 0], [0, 2, 0]]
    scores = class_scores(confusion)
    assert scores.precision.tolist() == [1.0, 0.5, 0.0] and scores.recall.tolist() == [1.0, 1.0, 0.0]
    assert scores.f1 == pytest.approx([1.0, 2 / 3, 0.0]) and scores.support.tolist() == [2, 2, 2]
    assert scores.accuracy == pytest.approx(4 / 6) and scores.macro_f1 == pytest.approx(5 / 9)


def test_predictions_are_read_per_epoch(run):
    predictions = read_val_predictions(run)
    assert predictions.epochs == [1, 2] and predictions.labels.tolist() == LABELS
    assert predictions.correct(2).tolist() == [True, True, True, True, False, False]
    assert predictions.confidence[2] == pytest.approx(CONF_2, abs=1e-3)
    with pytest.raises(UserError, match="no validation predictions for epoch 3"):
        predictions.at(3)
    assert read_val_predictions(run / "nowhere") is None


def test_the_matrix_can_be_scrubbed_over_epochs(run):
    timeline = ConfusionTimeline.of_run(run)
    assert timeline.num_classes == 3 and timeline.epochs == [1, 2]
    assert timeline.matrix(1).tolist() == [[1, 1, 0], [1, 1, 0], [0, 1, 1]]
    assert timeline.matrices().shape == (2, 3, 3) and timeline.matrices()[1].sum() == 6


def test_a_cell_shows_the_images_that_entered_and_left_it(run):
    timeline = ConfusionTimeline.of_run(run, num_classes=3)
    change = timeline.cell(2, true_class=2, predicted_class=1)
    assert change.images.tolist() == [4, 5] and change.entered.tolist() == [5] and change.left.tolist() == []
    change = timeline.cell(2, true_class=0, predicted_class=1)
    assert change.images.tolist() == [] and change.left.tolist() == [1] and change.left_to.tolist() == [0]
    first = timeline.cell(1, true_class=0, predicted_class=0)
    assert first.entered.tolist() == first.images.tolist() == [0]
    confident = timeline.cell(2, true_class=1, predicted_class=1)
    assert confident.images.tolist() == [2, 3]  # most confident first (0.8, 0.7)
    with pytest.raises(UserError, match="not a cell"):
        timeline.cell(1, 3, 0)


def test_a_run_without_predictions_says_why(tmp_path):
    with pytest.raises(UserError, match="kept no validation predictions"):
        ConfusionTimeline.of_run(tmp_path)
