"""The looking-inside views (Filters, Feature Maps with the drawing canvas, Prediction): the numbers
they show are the model's own, clicks and strokes lead where they should, bad pictures are explained."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QImage, QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cnnstudio.core.images import read_image  # noqa: E402
from cnnstudio.core.receptive import field_box  # noqa: E402
from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ui import inspect as inspect_views  # noqa: E402
from cnnstudio.ui import saving  # noqa: E402

JOB_TIMEOUT = 60_000


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """A LeNet-5 run folder (model.keras + project.cnnproj) trained for a few steps on mnist-sample."""
    import keras

    from cnnstudio.core.project import save_project
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.data import load_dataset

    project = load_template("lenet5")
    keras.utils.set_random_seed(1)
    model = build_model(project.network, project.name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = load_dataset("mnist-sample", validation_split=0.1).arrays("train")
    model.fit(x[:640], y[:640], batch_size=64, epochs=1, verbose=0)
    run_dir = tmp_path_factory.mktemp("runs") / "lenet5-test-run"
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    save_project(project, run_dir / "project.cnnproj")
    return run_dir


@pytest.fixture(scope="module")
def lenet_model(lenet_run):
    import keras

    return keras.models.load_model(lenet_run / "model.keras", safe_mode=True)


def views(window) -> inspect_views.InspectViews:
    return window.features.inspect


@pytest.fixture
def inspected(main_window, lenet_run):
    """The window inspecting the trained run."""
    main_window.model_source.set_run_dir(lenet_run)
    return main_window


def filters_of(window, qtbot, layer: str | None = None):
    page = views(window).filters
    window.features.inspect.area.show_page(page)
    if layer is not None:
        qtbot.waitUntil(lambda: page.layer_combo.findData(layer) >= 0, timeout=JOB_TIMEOUT)
        page.layer_combo.setCurrentIndex(page.layer_combo.findData(layer))
        page.request()
        qtbot.waitUntil(lambda: page.kernels is not None and page.kernels.layer == layer, timeout=JOB_TIMEOUT)
    else:
        qtbot.waitUntil(lambda: page.picture is not None, timeout=JOB_TIMEOUT)
    return page


def maps_of(window, qtbot):
    page = views(window).feature_maps
    window.features.inspect.area.show_page(page)
    qtbot.waitUntil(lambda: page.analysis is not None and page.analysis.activations is not None,
                    timeout=JOB_TIMEOUT)
    return page


def choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


# -- filters --------------------------------------------------------------------------------------
def test_filter_tiles_equal_the_kernel_weights_of_the_trained_model(inspected, qtbot, lenet_model):
    page = filters_of(inspected, qtbot, "conv2")
    kernel = lenet_model.get_layer("conv2").kernel.numpy()  # (5, 5, 6, 16)
    choose(page.mode_combo, "per_channel")
    picture = page.picture
    assert picture.layout.rows == 16 and picture.layout.columns == 6
    for f, c in ((0, 0), (3, 2), (15, 5)):
        index = f * 6 + c
        np.testing.assert_allclose(picture.values[index], kernel[:, :, c, f], rtol=1e-6)
        assert picture.at(*picture.layout.pixel(index, 2.5, 1.5)) == (index, f, 2, 1)
    np.testing.assert_array_equal(page.image.image, picture.rgba())
    assert "lenet5-test-run" in page.caption.text()


def test_averaged_filters_are_the_mean_over_input_channels(inspected, qtbot, lenet_model):
    page = filters_of(inspected, qtbot, "conv2")
    choose(page.mode_combo, "average")
    kernel = lenet_model.get_layer("conv2").kernel.numpy()
    np.testing.assert_allclose(page.picture.values, kernel.mean(axis=2).transpose(2, 0, 1), rtol=1e-5, atol=1e-7)
    assert len(page.picture.values) == 16


def test_the_shared_scale_is_centred_on_zero_and_per_filter_scales_differ(inspected, qtbot, lenet_model):
    page = filters_of(inspected, qtbot, "conv1")
    kernel = lenet_model.get_layer("conv1").kernel.numpy()
    choose(page.scale_combo, True)
    assert page.colorbar.levels() == pytest.approx((-np.abs(kernel).max(), np.abs(kernel).max()), rel=1e-5)
    choose(page.scale_combo, False)
    expected = np.abs(kernel.reshape(-1, 6)).max(axis=0)
    np.testing.assert_allclose(page.picture.scale, expected, rtol=1e-6)


def test_clicking_a_filter_enlarges_it_with_its_numbers_and_bias(inspected, qtbot, lenet_model):
    page = filters_of(inspected, qtbot, "conv1")
    layer = lenet_model.get_layer("conv1")
    scene = page.image.mapToScene(QPointF(*page.picture.layout.pixel(4, 2.5, 2.5)))
    viewport = page.plot.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=page.plot.mapFromScene(scene))
    qtbot.waitUntil(lambda: page.detail.filter_index == 4, timeout=5000)
    np.testing.assert_allclose(page.detail.kernel, layer.kernel.numpy()[:, :, 0, 4], rtol=1e-6)
    assert len(page.detail._texts) == 25
    assert f"bias {float(layer.bias.numpy()[4]):+.4f}" in page.detail.figures.text()


def test_exported_filters_load_back_with_the_same_numbers(inspected, qtbot, lenet_model, tmp_path, monkeypatch):
    from cnnstudio.ml.inspection import load_filters

    page = filters_of(inspected, qtbot, "conv2")
    choose(page.mode_combo, "per_channel")
    monkeypatch.setattr(saving, "ask_save_path", lambda *a: tmp_path / "conv2.npz")
    page.export_npz()
    loaded = load_filters(tmp_path / "conv2.npz")
    layer = lenet_model.get_layer("conv2")
    np.testing.assert_allclose(loaded.kernels, layer.kernel.numpy().transpose(3, 0, 1, 2), rtol=1e-6)
    np.testing.assert_allclose(loaded.biases, layer.bias.numpy(), rtol=1e-6)
    assert loaded.layer == "conv2" and loaded.mode == "per_channel"
    monkeypatch.setattr(saving, "ask_save_path", lambda *a: tmp_path / "filters.png")
    page.export_png()
    assert QImage(str(tmp_path / "filters.png")).width() > 100


def test_a_training_snapshot_redraws_the_watched_layer_live(inspected, qtbot):
    from cnnstudio.ml.training.reporting import Snapshot

    page = filters_of(inspected, qtbot, "conv1")
    kernel = np.random.default_rng(0).normal(size=(5, 5, 1, 6)).astype(np.float32)
    page.show_snapshot(Snapshot(2, 17, {"conv1": [kernel, np.arange(6, dtype=np.float32)]}, {}))
    np.testing.assert_allclose(page.picture.values, kernel[:, :, 0, :].transpose(2, 0, 1))
    assert "live" in page.caption.text() and "epoch 2, batch 17" in page.caption.text()
    page.show_snapshot(Snapshot(2, 18, {"other": [kernel]}, {}))  # another layer: nothing changes
    assert "batch 17" in page.caption.text()
    training = getattr(inspected, "training", None)
    if training is not None:  # the window's training controller is listened to
        page.follow_training()
        training.snapshot.emit(Snapshot(3, 5, {"conv1": [-kernel, np.zeros(6, np.float32)]}, {}))
        np.testing.assert_allclose(page.picture.values, -kernel[:, :, 0, :].transpose(2, 0, 1))
        assert "epoch 3, batch 5" in page.caption.text()


def test_a_view_held_up_by_the_busy_ml_worker_says_so(inspected, qtbot, tmp_path):
    from .jobs_for_tests import WaitAtGate

    page = filters_of(inspected, qtbot)
    gate = tmp_path / "gate"
    inspected.context.ml.run(WaitAtGate(str(gate)))
    page.request()
    qtbot.waitUntil(lambda: page.model_bar.status.text() in ("working…", "waiting for training to finish…"),
                    timeout=5000)
    gate.touch()
    qtbot.waitUntil(lambda: page.model_bar.status.text() == "", timeout=JOB_TIMEOUT)


def test_a_network_without_convolutions_says_it_has_no_filters(make_window, qtbot):
    window = make_window(load_template("mlp"))
    page = views(window).filters
    window.features.inspect.area.show_page(page)
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=JOB_TIMEOUT)
    assert "no convolution layer" in page.banner.text()


# -- feature maps ---------------------------------------------------------------------------------
def test_feature_map_rows_are_made_when_the_page_is_first_seen(inspected, qtbot):
    """A new model (a run that just ended) must not stall the window building plots nobody sees."""
    page = views(inspected).feature_maps
    filters_of(inspected, qtbot)  # another page in front reads the model
    qtbot.waitUntil(lambda: views(inspected).controller.facts is not None, timeout=JOB_TIMEOUT)
    assert not page.isVisible() and page.rows == {}
    maps_of(inspected, qtbot)
    assert {"conv1", "pool1", "conv2", "fc1"} <= set(page.rows)


def test_feature_maps_shown_equal_a_keras_submodel_outputs(inspected, qtbot, lenet_model):
    import keras

    page = maps_of(inspected, qtbot)
    image = page.analysis.input.image
    names = ["conv1", "pool1", "conv2", "pool2", "fc1", "output"]
    sub = keras.Model(lenet_model.inputs, [lenet_model.get_layer(n).output for n in names])
    outputs = dict(zip(names, (o[0] for o in sub.predict(image[None], verbose=0))))
    for name in ("conv1", "pool1", "conv2", "pool2"):
        row = page.rows[name]
        expected = np.moveaxis(outputs[name], -1, 0)[row.order]
        np.testing.assert_allclose(row.shown_maps(), expected, rtol=1e-4, atol=1e-5)
        strength = outputs[name].reshape(-1, outputs[name].shape[-1]).mean(axis=0)
        assert np.all(np.diff(strength[row.order]) <= 1e-6)  # busiest first
    np.testing.assert_allclose(page.rows["fc1"].values, outputs["fc1"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(page.prediction.probabilities, outputs["output"], rtol=1e-4, atol=1e-6)
    assert "10×10×16" in page.rows["conv2"].header.text()


def test_an_input_chosen_elsewhere_is_shown_when_the_view_comes_up(inspected, qtbot):
    from cnnstudio.ui.inspect_area import InputImage

    page = maps_of(inspected, qtbot)
    inspected.features.inspect.area.show_page(views(inspected).filters)
    chosen = InputImage(np.full((28, 28, 1), 0.5, np.float32), "grey square", origin="file")
    inspected.context.current_input.set(chosen)
    inspected.features.inspect.area.show_page(page)
    qtbot.waitUntil(lambda: page.analysis.input is chosen and page.analysis.activations is not None,
                    timeout=JOB_TIMEOUT)
    assert "grey square" in page.input_panel.caption.text()


def test_clicking_a_map_position_marks_core_receptive_field(inspected, qtbot):
    page = maps_of(inspected, qtbot)
    row = page.rows["conv2"]
    channel = int(row.order[3])
    at = row.view.to_widget(*row.layout_.pixel(3, 3.5, 4.5))  # the fourth map shown, row 3, column 4
    QTest.mouseClick(row.view, Qt.MouseButton.LeftButton, pos=at.toPoint())
    network = load_template("lenet5").network
    assert page.input_panel.field_box() == field_box(network, "conv2", 3, 4) == (4, 6, 18, 20)
    assert row.selected == (channel, 3, 4)
    assert "14×14 pixels" in page.input_panel.field_label.text()


def test_drawing_strokes_change_the_input_and_the_prediction_arrives(inspected, qtbot):
    page = maps_of(inspected, qtbot)
    page.input_panel.focus_draw()
    canvas = views(inspected).canvas
    qtbot.waitUntil(lambda: inspected.context.current_input.value is None, timeout=JOB_TIMEOUT)  # blank: no input
    rect = canvas.image_rect()
    points = [QPointF(rect.left() + rect.width() * (0.3 + 0.05 * i), rect.top() + rect.height() * (0.2 + 0.07 * i))
              for i in range(8)]
    send = QApplication.sendEvent
    left = Qt.MouseButton.LeftButton
    send(canvas, QMouseEvent(QEvent.Type.MouseButtonPress, points[0], points[0], left, left,
                             Qt.KeyboardModifier.NoModifier))
    for point in points[1:]:
        send(canvas, QMouseEvent(QEvent.Type.MouseMove, point, point, Qt.MouseButton.NoButton, left,
                                 Qt.KeyboardModifier.NoModifier))
    send(canvas, QMouseEvent(QEvent.Type.MouseButtonRelease, points[-1], points[-1], left,
                             Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: inspected.context.current_input.value is not None
                    and inspected.context.current_input.value.image.sum() > 5, timeout=JOB_TIMEOUT)
    drawn = inspected.context.current_input.value
    assert drawn.origin == "drawing" and drawn.image.shape == (28, 28, 1)
    np.testing.assert_allclose(drawn.image[..., 0], canvas.drawing() / 255.0, atol=1e-6)
    qtbot.waitUntil(lambda: page.analysis.input is drawn and page.prediction.probabilities is not None,
                    timeout=JOB_TIMEOUT)
    assert page.prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    canvas.stroke([(5, 5), (20, 5)])  # another stroke: the input follows
    qtbot.waitUntil(lambda: inspected.context.current_input.value is not drawn, timeout=JOB_TIMEOUT)


def test_a_picture_of_another_size_and_colour_is_converted_to_the_network_input(inspected, qtbot, tmp_path):
    from cnnstudio.ml.data import load_dataset

    page = maps_of(inspected, qtbot)
    picture = QImage(50, 40, QImage.Format.Format_RGB888)
    picture.fill(Qt.GlobalColor.black)
    for x in range(10, 40):
        for y in range(15, 22):
            picture.setPixelColor(x, y, Qt.GlobalColor.yellow)
    path = tmp_path / "bar.png"
    assert picture.save(str(path))
    assert page.input_panel.open_picture(path)
    qtbot.waitUntil(lambda: inspected.context.current_input.value.origin == "file", timeout=JOB_TIMEOUT)
    shown = inspected.context.current_input.value
    assert shown.image.shape == (28, 28, 1) and shown.title == "bar.png"
    raw = read_image(path)
    expected = load_dataset("mnist-sample", validation_split=0.1).prepare(raw[None])[0]
    np.testing.assert_allclose(shown.image, expected, atol=1e-6)
    qtbot.waitUntil(lambda: page.analysis.input is shown, timeout=JOB_TIMEOUT)
    assert "converted from 50×40 colour to 28×28 grey" in page.input_panel.caption.text()


def test_a_corrupt_picture_gives_a_clear_message_and_keeps_the_input(inspected, qtbot, tmp_path):
    page = maps_of(inspected, qtbot)
    before = inspected.context.current_input.value
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a picture")
    assert not page.input_panel.open_picture(path)
    assert page.banner.isVisible()
    assert "broken.png is not a picture CNN Studio can read" in page.banner.text()
    assert inspected.context.current_input.value is before


def test_only_misclassified_lists_exactly_the_images_the_model_gets_wrong(inspected, qtbot, lenet_model):
    from cnnstudio.ml.data import load_dataset

    page = maps_of(inspected, qtbot)
    browser = page.input_panel.browser
    browser.wrong_box.setChecked(True)
    qtbot.waitUntil(lambda: "validation" in page.controller.misclassified, timeout=JOB_TIMEOUT)
    x, y = load_dataset("mnist-sample", validation_split=0.1).arrays("validation")
    wrong = np.flatnonzero(lenet_model.predict(x, verbose=0).argmax(axis=1) != y)
    np.testing.assert_array_equal(browser.positions, wrong)
    qtbot.waitUntil(lambda: inspected.context.current_input.value.index == wrong[0], timeout=JOB_TIMEOUT)


def test_exported_activations_hold_every_layer(inspected, qtbot, tmp_path, monkeypatch):
    from cnnstudio.ml.inspection import load_activations

    page = maps_of(inspected, qtbot)
    monkeypatch.setattr(saving, "ask_save_path", lambda *a: tmp_path / "maps.npz")
    page.export_npz()
    loaded = load_activations(tmp_path / "maps.npz")
    assert set(loaded) >= {"conv1", "pool1", "conv2", "fc1", "output"}
    np.testing.assert_allclose(loaded["conv1"], page.analysis.activations["conv1"])


# -- which model ----------------------------------------------------------------------------------
def test_the_inspect_menu_switches_between_the_untrained_network_and_the_run(inspected, qtbot, lenet_run):
    page = filters_of(inspected, qtbot)
    actions = views(inspected).actions
    actions["untrained"].trigger()
    assert inspected.model_source.run_dir is None
    qtbot.waitUntil(lambda: "untrained network" in page.caption.text(), timeout=JOB_TIMEOUT)
    assert actions["trained"].isEnabled() and lenet_run.name in actions["trained"].text()
    actions["trained"].trigger()
    assert inspected.model_source.run_dir == lenet_run
    qtbot.waitUntil(lambda: lenet_run.name in page.caption.text(), timeout=JOB_TIMEOUT)


# -- the arithmetic behind the pictures -----------------------------------------------------------
def test_every_value_of_a_tiled_grid_is_found_back_under_its_pixel():
    from cnnstudio.ui.inspect.tiles import TileLayout, tile

    values = np.arange(7 * 3 * 4, dtype=np.float32).reshape(7, 3, 4)
    layout = TileLayout(7, 3, 4, columns=3, gap=2, cell=5)
    image = tile(values, layout)
    assert image.shape == (layout.height, layout.width) == (3 * 15 + 2 * 2, 3 * 20 + 2 * 2)
    for index, row, col in ((0, 0, 0), (4, 2, 3), (6, 1, 2)):
        x, y = layout.pixel(index, row + 0.5, col + 0.5)
        assert layout.locate(x, y) == (index, row, col)
        assert image[int(y), int(x)] == values[index, row, col]
    assert layout.locate(20.5, 1) is None and np.isnan(image[1, 20])  # the gap between tiles


def test_centring_like_mnist_fits_the_drawing_in_20_pixels_and_centres_its_mass(qapp):
    from cnnstudio.ui.inspect.draw_canvas import FINE, centre_like_mnist

    fine = np.zeros((28 * FINE, 28 * FINE), np.uint8)
    fine[10:260, 30:90] = 255  # a tall bar in the top-left corner
    out = centre_like_mnist(fine, (28, 28)).astype(np.float64)
    rows = np.flatnonzero(out.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20
    ys, xs = np.indices(out.shape)
    assert abs((ys * out).sum() / out.sum() - 13.5) <= 0.5 and abs((xs * out).sum() / out.sum() - 13.5) <= 0.5


def test_a_picture_dropped_on_the_page_becomes_the_input(inspected, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QUrl
    from PySide6.QtGui import QDropEvent

    page = maps_of(inspected, qtbot)
    path = tmp_path / "dot.png"
    picture = QImage(28, 28, QImage.Format.Format_Grayscale8)
    picture.fill(0)
    picture.setPixel(14, 14, 0xFFFFFFFF)
    assert picture.save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    page.dropEvent(event)
    qtbot.waitUntil(lambda: inspected.context.current_input.value.title == "dot.png", timeout=JOB_TIMEOUT)
    assert inspected.context.current_input.value.image[14, 14, 0] == pytest.approx(1.0)
