"""The convolution playground shows exactly what convolve2d computes, which is what Keras computes."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QImage

from cnnstudio.core.convolution import convolve2d, max_pool2d
from cnnstudio.core.playground import KERNEL_PRESETS, XO_GRIDS
from cnnstudio.core.playground_inputs import mnist_digit
from cnnstudio.ui.playground import PICTURE, SIGNAL, PlaygroundView


@pytest.fixture
def view(qtbot) -> PlaygroundView:
    """The playground on its own (it needs nothing from the window), on the X with the \\ diagonal."""
    playground = PlaygroundView()
    qtbot.addWidget(playground)
    playground.resize(1200, 800)
    playground.show()
    qtbot.waitExposed(playground)
    playground.image_source.choose("grid:X")
    playground.kernel_editor.choose_preset("diagonal \\")
    return playground


def test_the_window_has_a_playground_tab_and_a_menu_action(main_window):
    main_window.tabs.setCurrentIndex(0)
    main_window.findChild(QAction, "action_playground").trigger()
    assert main_window.tabs.currentWidget().objectName() == "playgroundView"
    assert main_window.tabs.tabText(main_window.tabs.currentIndex()) == "Playground"
    assert main_window.tabs.currentWidget() is main_window.features.playground


def shown(plot) -> np.ndarray:
    """The array a GridPlot's image item draws."""
    return np.asarray(plot.image_item.image, dtype=np.float64)


def keras_conv(image: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    import keras
    layer_type = keras.layers.Conv2D if image.ndim == 2 else keras.layers.Conv1D
    layer = layer_type(1, kernel.shape, strides=stride, padding=padding, use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel.reshape(*kernel.shape, 1, 1).astype("float32")])
    output = keras.ops.convert_to_numpy(layer(image.reshape(1, *image.shape, 1).astype("float32")))
    return output[0, ..., 0].astype(np.float64)


def total_of(calculation: str) -> float:
    return float(calculation.rsplit("=", 1)[1])


def products_of(calculation: str) -> float:
    """Recompute the written multiply-and-sum from its terms."""
    terms = re.findall(r"\(?(-?[\d.e+-]+)\)?×\(?(-?[\d.e+-]+)\)?", calculation.rsplit("=", 1)[0])
    return sum(float(a) * float(b) for a, b in terms)


def test_the_feature_map_shown_equals_convolve2d_and_a_keras_conv2d(view):
    kernel = KERNEL_PRESETS["diagonal \\"]
    expected = convolve2d(XO_GRIDS["X"], kernel)
    np.testing.assert_array_equal(shown(view.feature_plot), expected)
    np.testing.assert_allclose(shown(view.feature_plot), keras_conv(XO_GRIDS["X"], kernel, 1, "valid"), atol=1e-5)


def test_stride_and_same_padding_on_a_digit_match_keras(view):
    view.image_source.choose("mnist")
    view.image_source.digit.setCurrentIndex(view.image_source.digit.findData(7))
    view.image_source.digit_index.setValue(3)
    view.kernel_editor.choose_preset("sobel vertical")
    view.stride.setValue(2)
    view.set_padding("same")
    digit, label = mnist_digit(7, 3)
    assert label == 7
    np.testing.assert_array_equal(view.outcome.experiment.image, digit)
    result = shown(view.feature_plot)
    assert result.shape == (14, 14)
    np.testing.assert_allclose(result, convolve2d(digit, KERNEL_PRESETS["sobel vertical"], stride=2, padding="same"))
    np.testing.assert_allclose(result, keras_conv(digit, KERNEL_PRESETS["sobel vertical"], 2, "same"), atol=1e-5)


def test_stepping_frames_the_window_and_its_multiply_and_sum_equals_the_output_cell(view):
    view.go_to(10)  # 7x7 output: row 1, column 3
    assert view.input_plot.highlighted() == QRectF(3, 1, 3, 3)
    assert view.feature_plot.highlighted() == QRectF(3, 1, 1, 1)
    text = view.calculation.text()
    cell = view.outcome.feature_map[1, 3]
    assert total_of(text) == pytest.approx(cell)
    assert products_of(text) == pytest.approx(cell)
    assert text.count("×") == 9
    assert "row 1, column 3" in view.heading.text()


def test_next_and_last_move_one_position_at_a_time(view, qtbot):
    view.go_to(0)
    qtbot.mouseClick(view.stepper.next, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.stepper.next, Qt.MouseButton.LeftButton)
    assert view.stepper.position == 2
    assert view.input_plot.highlighted() == QRectF(2, 0, 3, 3)
    qtbot.mouseClick(view.stepper.last, Qt.MouseButton.LeftButton)
    assert view.stepper.position == 48
    assert view.feature_plot.highlighted() == QRectF(6, 6, 1, 1)


def test_play_steps_on_by_itself_and_stops_at_the_end(view, qtbot):
    view.stepper.speed.setCurrentText("fast")
    view.go_to(45)
    view.stepper.toggle_play()
    qtbot.waitUntil(lambda: not view.stepper.timer.isActive(), timeout=3000)
    assert view.stepper.position == 48


def test_same_padding_frames_the_window_over_the_zeros(view):
    view.set_padding("same")
    view.go_to(0)
    assert view.outcome.padded.shape == (11, 11)
    assert view.input_plot.highlighted() == QRectF(-1, -1, 3, 3)
    patch, _ = view.outcome.window(0)
    assert np.all(patch[0] == 0) and np.all(patch[:, 0] == 0)


def test_relu_and_max_pooling_match_numpy(view):
    view.pool_size.setValue(3)
    view.pool_stride.setValue(2)
    feature_map = convolve2d(XO_GRIDS["X"], KERNEL_PRESETS["diagonal \\"])
    after_relu = np.maximum(feature_map, 0)
    np.testing.assert_array_equal(shown(view.relu_plot), after_relu)
    windows = np.array([[after_relu[r:r + 3, c:c + 3].max() for c in range(0, 5, 2)] for r in range(0, 5, 2)])
    np.testing.assert_array_equal(shown(view.pool_plot), windows)
    np.testing.assert_array_equal(windows, max_pool2d(after_relu, 3, 2))


def test_typed_kernel_values_are_used(view, qtbot):
    cell = view.kernel_editor.cells[0][2]
    cell.selectAll()
    qtbot.keyClicks(cell, "2.5")
    kernel = np.array(KERNEL_PRESETS["diagonal \\"])
    kernel[0, 2] = 2.5
    np.testing.assert_allclose(view.kernel_editor.kernel(), kernel)
    np.testing.assert_allclose(shown(view.feature_plot), convolve2d(XO_GRIDS["X"], kernel))
    assert view.kernel_editor.preset.currentText().startswith("Custom")


def test_a_preset_keeps_its_exact_values(view):
    view.kernel_editor.choose_preset("box blur")
    np.testing.assert_array_equal(view.kernel_editor.kernel(), np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(shown(view.feature_plot), convolve2d(XO_GRIDS["X"], np.full((3, 3), 1 / 9)))


def test_a_5x5_kernel_keeps_the_numbers_that_fit(view):
    view.kernel_editor.resize_kernel(5, 5)
    kernel = view.kernel_editor.kernel()
    assert kernel.shape == (5, 5)
    np.testing.assert_array_equal(kernel[:3, :3], KERNEL_PRESETS["diagonal \\"])
    assert not kernel[3:].any() and not kernel[:, 3:].any()
    assert shown(view.feature_plot).shape == (5, 5)


def test_signal_mode_equals_numpy_correlate_and_a_keras_conv1d(view):
    view.set_mode(SIGNAL)
    view.kernel_editor.choose_preset("edge [-1, 0, 1]")
    signal = view.current_input()
    assert signal.ndim == 1 and len(signal) == 48
    kernel = np.array([-1.0, 0.0, 1.0])
    result = view.feature_curve.values
    np.testing.assert_allclose(result, np.correlate(signal, kernel, mode="valid"))
    np.testing.assert_allclose(result, keras_conv(signal, kernel, 1, "valid"), atol=1e-5)
    view.go_to(5)
    assert view.input_curve.region.getRegion() == pytest.approx((5 - 0.45, 7 + 0.45))
    assert total_of(view.calculation.text()) == pytest.approx(result[5], abs=1e-3)


def test_signal_from_a_row_of_the_picture(view):
    view.set_mode(SIGNAL)
    view.signal_source.choose("row")
    view.signal_source.row.setValue(4)
    np.testing.assert_array_equal(view.current_input(), XO_GRIDS["X"][4])
    assert view.image_source.isVisible()
    view.set_mode(PICTURE)
    assert view.kernel_editor.kernel().ndim == 2


def test_values_are_written_in_the_cells_of_a_small_grid(view):
    assert view.input_plot.values_item.values.shape == (9, 9)
    assert view.pool_plot.values_item.values.shape == view.outcome.pooled.shape


def test_a_kernel_larger_than_the_image_explains_the_problem(view, tmp_path):
    small = QImage(5, 5, QImage.Format.Format_Grayscale8)
    small.fill(QColor(255, 255, 255))
    small.save(str(tmp_path / "small.png"))
    assert view.image_source.open_file(tmp_path / "small.png")
    view.kernel_editor.set_kernel(np.ones((7, 7)))
    assert "does not fit inside the image" in view.problem and "padding 'same'" in view.problem
    assert view.outcome is None and view.stepper.count == 0
    view.set_padding("same")
    assert view.problem == ""
    np.testing.assert_array_equal(shown(view.feature_plot), convolve2d(np.ones((5, 5)), np.ones((7, 7)), padding="same"))


def test_a_pool_larger_than_the_feature_map_explains_the_problem(view):
    view.kernel_editor.set_kernel(np.ones((7, 7)))  # 3x3 feature map
    view.pool_size.setValue(4)
    assert "pooling window does not fit" in view.problem and "smaller pool size" in view.problem
    assert view.outcome is not None and view.outcome.pooled is None


def test_a_shifted_x_is_moved_with_background_filled_in(view):
    view.image_source.shift_right.setValue(1)
    image = view.outcome.experiment.image
    np.testing.assert_array_equal(image[:, 1:], XO_GRIDS["X"][:, :-1])
    assert np.all(image[:, 0] == -1)


def test_a_colour_picture_file_is_turned_to_grey(view, tmp_path):
    picture = QImage(20, 10, QImage.Format.Format_RGB32)
    picture.fill(QColor(255, 0, 0))
    for column in range(10, 20):
        for row in range(10):
            picture.setPixelColor(column, row, QColor(255, 255, 255))
    path = tmp_path / "red-and-white.png"
    assert picture.save(str(path))
    assert view.image_source.open_file(path)
    image = view.outcome.experiment.image
    assert image.shape == (10, 20)
    assert np.all(image[:, 10:] == 1.0)  # white
    assert np.all(image[:, :10] == image[0, 0]) and 0.2 < image[0, 0] < 0.6  # red: one middle grey


def test_a_file_that_is_not_a_picture_gets_a_clear_message(view, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a picture")
    before = view.outcome.experiment.image.copy()
    assert not view.image_source.open_file(path)
    assert "broken.png is not a picture CNN Studio can read" in view.problem
    np.testing.assert_array_equal(view.outcome.experiment.image, before)


def test_export_png_saves_the_views(view, tmp_path):
    path = tmp_path / "playground.png"
    assert view.export_png(path)
    saved = QImage(str(path))
    assert saved.width() > 300 and saved.height() > 300


def test_hovering_a_cell_tells_its_value(view):
    view_box = view.feature_plot.plot.getPlotItem().getViewBox()
    view.feature_plot._hover(view_box.mapViewToScene(QPointF(3.5, 1.5)))  # column 3, row 1
    expected = convolve2d(XO_GRIDS["X"], KERNEL_PRESETS["diagonal \\"])[1, 3]
    assert view.feature_plot.caption.text() == f"row 1, column 3: <b>{expected:g}</b>"


def test_the_pooled_cell_that_takes_in_the_current_output_is_framed(view):
    view.go_to(7 * 3 + 5)  # output row 3, column 5: pooling window row 1, column 2
    assert view.pool_plot.highlighted() == QRectF(2, 1, 1, 1)
    view.go_to(7 * 6 + 6)  # row 6, column 6: left out by 2x2 pooling of a 7x7 map
    assert view.pool_plot.highlighted() is None


def test_plots_follow_a_switch_to_dark_and_back_to_light(main_window):
    from PySide6.QtWidgets import QApplication

    from cnnstudio.ui.playground.plots import GridPlot

    plots = main_window.findChildren(GridPlot)
    assert plots
    main_window.set_appearance("dark")
    QApplication.processEvents()
    dark = {p.plot.backgroundBrush().color().lightness() for p in plots}
    main_window.set_appearance("light")
    QApplication.processEvents()
    light = {p.plot.backgroundBrush().color().lightness() for p in plots}
    assert max(dark) < 100 and min(light) > 200
