"""The playground's pictures and signals, made without TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core import playground_inputs as inputs
from cnnstudio.core.playground import XO_GRIDS


def test_shifting_moves_the_picture_and_fills_the_uncovered_cells():
    image = np.arange(12.0).reshape(3, 4)
    moved = inputs.shifted(image, down=1, right=-2, fill=-1)
    np.testing.assert_array_equal(moved, [[-1, -1, -1, -1], [2, 3, -1, -1], [6, 7, -1, -1]])


def test_an_unshifted_grid_is_the_lecture_grid():
    np.testing.assert_array_equal(inputs.xo_grid("O"), XO_GRIDS["O"])


def test_the_nth_picture_of_a_digit_is_that_digit():
    image, label = inputs.mnist_digit(4, 10)
    assert label == 4 and image.shape == (28, 28)
    assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.5
    assert inputs.mnist_count(4) == 980 and inputs.mnist_count() == 10000


def test_a_picture_number_out_of_range_says_the_range():
    with pytest.raises(ValueError, match="from 0 to 979"):
        inputs.mnist_digit(4, 980)


def test_vertical_stripes_change_across_columns_only():
    image = inputs.stripes_picture(vertical=True, seed=3)
    assert np.ptp(image.mean(axis=0)) > 0.3 > np.ptp(image.mean(axis=1))


def test_the_test_signal_has_a_step_in_the_middle():
    signal = inputs.demo_signal(64, seed=1, noise=0.0)
    assert signal.shape == (64,)
    assert signal[32:].mean() - signal[:32].mean() == pytest.approx(1.0, abs=0.2)
