"""The playground's convolution arithmetic, checked by hand-computed cases (no TensorFlow)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cnnstudio
from cnnstudio.core.convolution import (
    KERNEL_PRESETS,
    XO_GRIDS,
    convolve2d,
    max_pool2d,
    multiply_and_sum_text,
    output_shape,
    pad_image,
    padding_amounts,
    relu,
    window_at,
)

FIVE_BY_FIVE = np.arange(25, dtype=float).reshape(5, 5)


# --- hand-computed results ---------------------------------------------------------


def test_valid_3x3_kernel_on_5x5_gives_3x3_of_window_sums():
    result = convolve2d(FIVE_BY_FIVE, np.ones((3, 3)))
    # Each window sum is 9 x its centre value (the image is a linear ramp).
    np.testing.assert_array_equal(result, 9 * FIVE_BY_FIVE[1:4, 1:4])


def test_kernel_is_not_flipped():
    image = np.array([[1.0, 2.0], [3.0, 4.0]])
    kernel = np.array([[1.0, 0.0], [0.0, 0.0]])  # picks the top-left pixel only
    assert convolve2d(image, kernel).tolist() == [[1.0]]


def test_small_case_computed_by_hand():
    image = [[1, 2, 0], [0, 1, 3], [2, 0, 1]]
    kernel = [[1, -1], [0, 2]]
    # top-left: 1-2+0+2=1, top-right: 2-0+0+6=8, bottom-left: 0-1+0+0=-1, bottom-right: 1-3+0+2=0
    assert convolve2d(image, kernel).tolist() == [[1.0, 8.0], [-1.0, 0.0]]


def test_same_padding_keeps_the_size_with_stride_1():
    result = convolve2d(FIVE_BY_FIVE, np.ones((3, 3)), padding="same")
    assert result.shape == (5, 5)
    assert result[0, 0] == 0 + 1 + 5 + 6  # corner sees only four real pixels


def test_same_padding_with_stride_2_rounds_the_size_up():
    result = convolve2d(FIVE_BY_FIVE, np.ones((3, 3)), stride=2, padding="same")
    assert result.shape == (3, 3)
    assert result[1, 1] == FIVE_BY_FIVE[1:4, 1:4].sum()


def test_same_padding_puts_the_odd_extra_zero_after():
    # 6 wide, kernel 2, stride 1: one zero in total, and TensorFlow puts it at the end.
    assert padding_amounts((6,), (2,), padding="same") == [(0, 1)]
    assert convolve2d([1, 2, 3, 4, 5, 6], [1, 10], padding="same").tolist() == [
        21,
        32,
        43,
        54,
        65,
        6,
    ]


def test_same_padding_with_stride_may_need_no_zeros():
    assert padding_amounts((4, 4), (2, 2), stride=2, padding="same") == [(0, 0), (0, 0)]
    assert output_shape((4, 4), (2, 2), stride=2, padding="same") == (2, 2)


def test_valid_stride_2_skips_positions():
    result = convolve2d(FIVE_BY_FIVE, np.ones((3, 3)), stride=2)
    np.testing.assert_array_equal(result, 9 * FIVE_BY_FIVE[1:4:2, 1:4:2])


def test_one_dimensional_signal():
    assert convolve2d([1, 2, 4, 7], [1, -1]).tolist() == [-1.0, -2.0, -3.0]
    assert convolve2d([1, 2, 4, 7], [-1, 0, 1], padding="same").tolist() == [
        2,
        3,
        5,
        -4,
    ]
    assert convolve2d([1, 2, 4, 7, 11], [1], stride=2).tolist() == [1, 4, 11]


def test_padding_name_ignores_case():
    np.testing.assert_array_equal(
        convolve2d(FIVE_BY_FIVE, np.ones((2, 2)), padding="SAME"),
        convolve2d(FIVE_BY_FIVE, np.ones((2, 2)), padding="same"),
    )


def test_output_shape_matches_the_result():
    for padding in ("valid", "same"):
        for stride in (1, 2, 3):
            result = convolve2d(
                np.ones((7, 4)), np.ones((3, 2)), stride=stride, padding=padding
            )
            assert (
                output_shape((7, 4), (3, 2), stride=stride, padding=padding)
                == result.shape
            )


def test_xo_lesson_numbers():
    # The lecture's first feature map starts 0.77 -0.11 0.11 0.33 0.55 -0.11 0.33.
    feature_map = convolve2d(XO_GRIDS["X"], KERNEL_PRESETS["diagonal \\"]) / 9
    np.testing.assert_allclose(
        feature_map[0], [7 / 9, -1 / 9, 1 / 9, 3 / 9, 5 / 9, -1 / 9, 3 / 9]
    )
    assert feature_map[1, 1] == 1.0  # a perfect match on the diagonal


# --- errors in plain words -----------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kernel", "options", "message"),
    [
        (np.ones((2, 2)), np.ones((3, 3)), {}, r"\(3, 3\).*\(2, 2\).*'valid'"),
        (np.ones(4), np.ones((2, 2)), {}, r"image is 1-D.*kernel is 2-D"),
        (np.ones((1, 2, 3)), np.ones((1, 1, 1)), {}, r"1-D .* or 2-D.*3-D"),
        (
            np.ones((3, 3)),
            np.ones((1, 1)),
            {"padding": "full"},
            r"'valid' or 'same'.*'full'",
        ),
        (np.ones((3, 3)), np.ones((1, 1)), {"padding": None}, r"'valid' or 'same'"),
        (np.ones((3, 3)), np.ones((1, 1)), {"stride": 0}, r"stride .*>= 1.*0"),
        (np.ones((3, 3)), np.ones((1, 1)), {"stride": 1.5}, r"stride .*1\.5"),
        (np.ones((3, 3)), np.ones((1, 1)), {"stride": True}, r"stride"),
        (np.ones((0, 3)), np.ones((1, 1)), {}, r"image is empty"),
        (np.ones((3, 3)), np.ones((1, 0)), {}, r"kernel is empty"),
        ([["a", "b"]], np.ones((1, 1)), {}, r"image must hold real numbers"),
    ],
)
def test_bad_input_raises_a_clear_value_error(image, kernel, options, message):
    with pytest.raises(ValueError, match=message):
        convolve2d(image, kernel, **options)


def test_window_outside_the_output_is_refused():
    with pytest.raises(ValueError, match=r"\(3, 0\).*\(3, 3\)"):
        window_at(FIVE_BY_FIVE, (3, 3), (3, 0))


def test_patch_and_kernel_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        multiply_and_sum_text(np.ones((2, 2)), np.ones((3, 3)))


def test_pool_window_larger_than_valid_input_is_refused():
    with pytest.raises(ValueError, match="pool window"):
        max_pool2d(np.ones((1, 4)), size=2)


# --- the step-through view ---------------------------------------------------------


def test_window_at_reports_the_corner_in_padded_coordinates():
    patch, corner = window_at(FIVE_BY_FIVE, (3, 3), (0, 0), stride=2, padding="same")
    assert corner == (0, 0)
    np.testing.assert_array_equal(patch, [[0, 0, 0], [0, 0, 1], [0, 5, 6]])
    patch, corner = window_at(FIVE_BY_FIVE, (3, 3), (1, 1), stride=2)
    assert corner == (2, 2)
    np.testing.assert_array_equal(patch, FIVE_BY_FIVE[2:5, 2:5])


def test_window_at_on_a_signal_takes_a_plain_index():
    patch, corner = window_at([1, 2, 3, 4, 5], (2,), 3)
    assert corner == (3,)
    assert patch.tolist() == [4, 5]


def test_pad_image_draws_the_zeros_keras_adds():
    padded = pad_image(np.ones((2, 3)), (3, 3), padding="same")
    assert padded.shape == (4, 5)
    assert padded.sum() == 6 and padded[0].sum() == 0 and padded[:, 0].sum() == 0


def test_multiply_and_sum_text_is_compact():
    text = multiply_and_sum_text([[0.0, 1.0], [2.5, -0.0]], [[1, -1], [2, 0.5]])
    assert text == "0*1 + 1*-1 + 2.5*2 + 0*0.5 = 4"


small_images = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 7), st.integers(1, 7)),
    elements=st.floats(-4, 4, allow_nan=False, width=32),
)


@settings(max_examples=60, deadline=None)
@given(
    image=small_images,
    kernel_rows=st.integers(1, 4),
    kernel_cols=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
    data=st.data(),
)
def test_every_window_and_its_sum_agree_with_convolve2d(
    image, kernel_rows, kernel_cols, stride, padding, data
):
    if padding == "valid" and (
        kernel_rows > image.shape[0] or kernel_cols > image.shape[1]
    ):
        kernel_rows, kernel_cols = (
            min(kernel_rows, image.shape[0]),
            min(kernel_cols, image.shape[1]),
        )
    kernel = data.draw(
        hnp.arrays(np.float64, (kernel_rows, kernel_cols), elements=st.integers(-3, 3))
    )
    result = convolve2d(image, kernel, stride=stride, padding=padding)
    before = [
        b
        for b, _ in padding_amounts(
            image.shape, kernel.shape, stride=stride, padding=padding
        )
    ]
    padded = pad_image(image, kernel.shape, stride=stride, padding=padding)
    for position in np.ndindex(result.shape):
        patch, corner = window_at(
            image, kernel.shape, position, stride=stride, padding=padding
        )
        assert corner == tuple(i * stride for i in position)
        np.testing.assert_array_equal(
            patch,
            padded[
                corner[0] : corner[0] + kernel_rows, corner[1] : corner[1] + kernel_cols
            ],
        )
        assert np.isclose((patch * kernel).sum(), result[position])
        text = multiply_and_sum_text(patch, kernel, digits=17)
        assert float(text.rsplit("= ", 1)[1]) == pytest.approx(
            result[position], abs=1e-9
        )
        assert len(re.findall(r"\*", text)) == kernel.size
        # The patch lines up with the original image where it is not padding.
        row, col = corner[0] - before[0], corner[1] - before[1]
        if (
            row >= 0
            and col >= 0
            and row + kernel_rows <= image.shape[0]
            and col + kernel_cols <= image.shape[1]
        ):
            np.testing.assert_array_equal(
                patch, image[row : row + kernel_rows, col : col + kernel_cols]
            )


# --- pooling and relu ------------------------------------------------------------------


def test_relu_zeroes_negatives_only():
    assert relu([[-2.0, 0.0, 3.5]]).tolist() == [[0.0, 0.0, 3.5]]


def test_max_pool_2x2_halves_and_takes_the_largest():
    pooled = max_pool2d(FIVE_BY_FIVE)
    assert pooled.tolist() == [[6.0, 8.0], [16.0, 18.0]]


@pytest.mark.parametrize(
    ("shape", "size", "stride", "padding", "expected"),
    [
        ((5, 5), 2, None, "valid", (2, 2)),
        ((5, 5), 2, None, "same", (3, 3)),
        ((6, 7), 3, 1, "valid", (4, 5)),
        ((6, 7), 3, 2, "same", (3, 4)),
        ((4, 9), (2, 3), None, "valid", (2, 3)),
        ((8,), 2, None, "valid", (4,)),
    ],
)
def test_max_pool_shapes(shape, size, stride, padding, expected):
    assert (
        max_pool2d(np.ones(shape), size=size, stride=stride, padding=padding).shape
        == expected
    )


def test_max_pool_same_padding_never_picks_the_padding():
    pooled = max_pool2d(-np.ones((3, 3)), padding="same")
    assert (pooled == -1).all()


# --- presets ---------------------------------------------------------------------------


def test_kernel_presets_hold_the_classic_kernels():
    for name in [
        "identity",
        "sobel horizontal",
        "sobel vertical",
        "sharpen",
        "box blur",
        "gaussian blur 3x3",
        "diagonal \\",
        "diagonal /",
        "X centre",
    ]:
        assert KERNEL_PRESETS[name].shape == (3, 3), name
    edge_kernels = [
        k for name, k in KERNEL_PRESETS.items() if name.startswith("edge detection")
    ]
    assert len(edge_kernels) == 3
    assert all(k.sum() == 0 for k in edge_kernels)
    assert KERNEL_PRESETS["box blur"].sum() == pytest.approx(1)
    assert KERNEL_PRESETS["gaussian blur 3x3"][1, 1] == 4 / 16
    np.testing.assert_array_equal(
        KERNEL_PRESETS["diagonal /"], KERNEL_PRESETS["diagonal \\"][:, ::-1]
    )
    one_d = [k for k in KERNEL_PRESETS.values() if k.ndim == 1]
    assert len(one_d) >= 3


def test_identity_preset_leaves_the_image_unchanged():
    np.testing.assert_array_equal(
        convolve2d(FIVE_BY_FIVE, KERNEL_PRESETS["identity"], padding="same"),
        FIVE_BY_FIVE,
    )


def test_presets_cannot_be_changed_in_place():
    with pytest.raises(ValueError):
        KERNEL_PRESETS["identity"][0, 0] = 5


def test_xo_grids_are_9x9_of_plus_and_minus_one():
    assert set(XO_GRIDS) >= {"X", "O", "X (shifted)"}
    for grid in XO_GRIDS.values():
        assert grid.shape == (9, 9)
        assert set(np.unique(grid)) == {-1.0, 1.0}
    x = XO_GRIDS["X"]
    np.testing.assert_array_equal(x, x.T)
    np.testing.assert_array_equal(x, x[:, ::-1])
    assert not np.array_equal(XO_GRIDS["X (shifted)"], x)


# --- the package ---------------------------------------------------------------------------


def test_package_exports_convolve2d_and_version():
    assert cnnstudio.convolve2d is convolve2d
    assert cnnstudio.__version__ == "0.1.0"


def test_importing_the_package_loads_no_tensorflow_keras_or_qt():
    heavy = ("tensorflow", "keras", "PySide6", "shiboken6", "pyqtgraph")
    check = (
        "import sys, cnnstudio, cnnstudio.core.convolution; "
        f"loaded = [m for m in {heavy!r} if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", check], check=True)
