"""The Dataset panel: choosing data, seeing it, preparing it, and making the network fit it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cnnstudio.core.templates import load_template
from cnnstudio.ml.jobs.requests import PingRequest

from ..http_server import serving
from . import jobs_for_tests

WAIT = 60000


@pytest.fixture
def panel_of(make_window, qtbot):
    """A window on a template, with its Dataset panel."""

    def make(template: str = "lenet5"):
        window = make_window(load_template(template))
        panel = window.features.datasets
        window.docks["dataset"].raise_()  # in front, as when a user opens it: it loads what it shows
        qtbot.waitUntil(lambda: panel._shown, timeout=3000)
        return window, panel

    return make


def _wait_loaded(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.loading and panel.preview is not None, timeout=WAIT)


def _write_npz(path, shape, classes=3, per_class=12):
    rng = np.random.default_rng(0)
    n = classes * per_class
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = np.repeat(np.arange(classes), per_class)
    np.savez(path, x_train=x, y_train=y)
    return f"npz:{path}"


def test_choosing_a_dataset_writes_the_project_and_shows_samples_counts_and_split_sizes(panel_of, qtbot):
    window, panel = panel_of()
    panel.chooser.choose("x-vs-o")
    _wait_loaded(qtbot, panel)
    assert window.document.project.dataset["name"] == "x-vs-o" and window.document.is_modified
    assert panel.samples.count == 32 and set(panel.samples.labels) <= {"O", "X"}
    counts = panel.counts.counts
    assert counts["train"].sum() == panel.preview.split_size("train") == 1800
    assert counts["validation"].sum() == 200 and counts["test"].sum() == 500
    assert "28x28 pixels, 1 channel" in panel.facts.text() and "Train 1,800 · validation 200 · test 500" in panel.facts.text()


def test_class_count_mismatch_offers_setting_the_output_units_and_the_fix_makes_the_network_valid(panel_of, qtbot):
    window, panel = panel_of("lenet5")
    panel.set_dataset("x-vs-o")
    assert "gives 10 values, but 'x-vs-o' has 2 classes" in panel.problems()[0].text
    button = panel.fit_box.fix_button("Set the output layer to 2 units")
    assert button is not None
    button.click()
    assert window.document.network.node("output").params["units"] == 2
    assert window.document.analysis().errors == [] and panel.problems() == []
    window.document.undo_stack.undo()
    assert window.document.network.node("output").params["units"] == 10


def test_image_shape_mismatch_offers_setting_the_input_and_the_fix_makes_the_network_valid(panel_of, qtbot, tmp_path):
    window, panel = panel_of("lenet5")
    panel.set_dataset(_write_npz(tmp_path / "colour.npz", (32, 32, 3), classes=10, per_class=3))
    problem = panel.problems()[0]
    assert problem.severity == "error" and "expects 28x28x1 images" in problem.text and "32x32x3" in problem.text
    assert [f.label for f in problem.fixes] == ["Set the Input to 32x32x3", "Load the images as 28x28 grayscale"]
    panel.fit_box.fix_button("Set the Input to 32x32x3").click()
    assert window.document.network.node("input").params["shape"] == [32, 32, 3]
    assert window.document.analysis().errors == [] and panel.problems() == []
    _wait_loaded(qtbot, panel)
    assert panel.preview.input_shape == (32, 32, 3)


def test_a_resizing_layer_fixes_a_size_mismatch_with_the_same_channels(panel_of, qtbot, tmp_path):
    window, panel = panel_of("lenet5")
    panel.set_dataset(_write_npz(tmp_path / "big.npz", (36, 36), classes=10, per_class=3))
    panel.fit_box.fix_button("Add a Resizing layer").click()
    network = window.document.network
    resizing = next(n for n in network if n.type == "Resizing")
    assert network.node("input").params["shape"] == [36, 36, 1]
    assert (resizing.params["height"], resizing.params["width"]) == (28, 28)
    assert network.outputs_of("input") == [resizing.id] and network.outputs_of(resizing.id) == ["conv1"]
    assert window.document.analysis().errors == [] and panel.problems() == []


def test_loading_the_images_at_the_networks_size_is_a_dataset_fix(panel_of, qtbot, tmp_path):
    window, panel = panel_of("lenet5")
    panel.set_dataset(_write_npz(tmp_path / "colour.npz", (32, 32, 3), classes=10, per_class=3))
    panel.fit_box.fix_button("Load the images as 28x28 grayscale").click()
    dataset = window.document.project.dataset
    assert dataset["image_size"] == [28, 28] and dataset["color_mode"] == "grayscale"
    assert window.document.network.node("input").params["shape"] == [28, 28, 1]
    assert panel.problems() == []
    _wait_loaded(qtbot, panel)
    assert panel.preview.input_shape == (28, 28, 1) and panel.samples.count == panel.preview.split_size("train")


def test_raw_pixel_values_suggest_a_rescaling_layer(panel_of, qtbot):
    window, panel = panel_of("mlp")
    panel.settings_form.normalization.setCurrentIndex(panel.settings_form.normalization.findData("none"))
    panel.settings_form.normalization.activated.emit(panel.settings_form.normalization.currentIndex())
    assert window.document.project.training["normalization"] == "none"
    [problem] = panel.problems()
    assert problem.severity == "warning" and "unscaled" in problem.text
    panel.fit_box.fix_button("Add a Rescaling layer").click()
    network = window.document.network
    rescaling = network.outputs_of("input")[0]
    assert network.node(rescaling).type == "Rescaling" and network.outputs_of(rescaling) == ["flatten"]
    assert abs(network.node(rescaling).params["scale"] - 1 / 255) < 1e-12
    assert panel.problems() == [] and window.document.analysis().errors == []
    # a per-channel scale (ImageNet's 1 / (255 * std) for each colour) divides the raw values too
    network.node(rescaling).params["scale"] = [1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)]
    assert panel.problems() == []
    network.node(rescaling).params["scale"] = [1.0, 2.0, 1.0]
    assert "unscaled" in panel.problems()[0].text


def test_data_settings_write_the_project_and_change_the_splits(panel_of, qtbot):
    window, panel = panel_of()
    panel.set_dataset("stripes")
    _wait_loaded(qtbot, panel)
    form = panel.settings_form
    form.validation.setValue(25)
    form.permute.click()
    form.permute_seed.setValue(7)
    project = window.document.project
    assert project.training["validation_split"] == 0.25 and project.dataset["permute_pixels"] == 7
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview.split_size("validation") == 500,
                    timeout=WAIT)
    assert panel.preview.split_size("train") == 1500
    form.permute.click()
    assert project.dataset["permute_pixels"] is None


def test_augmentation_boxes_add_layers_after_the_input_as_undoable_steps(panel_of, qtbot):
    window, panel = panel_of("lenet5")
    network, stack = window.document.network, window.document.undo_stack
    boxes = panel.augmentation.boxes
    boxes["RandomFlip"].click()
    boxes["RandomZoom"].click()
    flip, zoom = network.outputs_of("input")[0], None
    zoom = network.outputs_of(flip)[0]
    assert (network.node(flip).type, network.node(zoom).type) == ("RandomFlip", "RandomZoom")
    assert network.outputs_of(zoom) == ["conv1"] and window.document.analysis().errors == []
    assert boxes["RandomFlip"].isChecked() and boxes["RandomZoom"].isChecked()
    boxes["RandomFlip"].click()  # untick: taken out, its neighbours joined again
    assert network.outputs_of("input") == [zoom] and flip not in network
    assert not boxes["RandomFlip"].isChecked()
    stack.undo()
    assert network.outputs_of("input") == [flip] and boxes["RandomFlip"].isChecked()
    stack.undo()
    stack.undo()
    assert network.outputs_of("input") == ["conv1"] and not any(b.isChecked() for b in boxes.values())


def test_augmented_samples_come_from_the_networks_layers(panel_of, qtbot):
    window, panel = panel_of("lenet5")
    panel.set_dataset("stripes")
    _wait_loaded(qtbot, panel)
    panel.augmentation.boxes["RandomTranslation"].click()
    panel.show_augmented.setChecked(True)
    qtbot.waitUntil(lambda: panel.augmented_images is not None, timeout=WAIT)
    assert panel.augmented_images.shape == panel.preview.images.shape
    assert not np.allclose(panel.augmented_images, panel.preview.images)


def test_an_unusable_folder_is_refused_in_words_and_the_previous_dataset_kept(panel_of, tmp_path):
    window, panel = panel_of()
    assert panel.chooser.choose(f"folder:{tmp_path / 'missing'}") is False
    assert "does not exist" in panel.status.text() and not panel.status.isHidden()
    assert window.document.project.dataset["name"] == "mnist-sample" and panel.chooser.current == "mnist-sample"


@pytest.fixture
def slow_mnist(in_worker, tmp_path):
    """'mnist' not in Keras's (empty) cache, served by a real, slow HTTP server on 127.0.0.1 (set where the
    window's jobs run)."""
    from cnnstudio.ml.data import downloads

    with serving({"mnist.npz": b"x" * (20 << 20)}, seconds_per_chunk=0.02) as served:
        in_worker(environ=[("KERAS_HOME", str(tmp_path / "keras"))],
                  items=[("cnnstudio.ml.data.downloads:KERAS_FILES", "mnist",
                          (downloads.KerasFile("mnist.npz", served.base + "mnist.npz"),))])
        yield in_worker, tmp_path / "keras"


def test_a_download_without_network_fails_fast_and_offers_the_bundled_sample(panel_of, qtbot, slow_mnist):
    in_worker, _ = slow_mnist
    in_worker(attributes=[("cnnstudio.ml.data.downloads:host_reachable", jobs_for_tests.never_reachable)])
    window, panel = panel_of()
    start = time.monotonic()
    panel.chooser.choose("mnist")
    qtbot.waitUntil(lambda: not panel.status.isHidden() and not panel.loading, timeout=WAIT)
    assert time.monotonic() - start < 30  # TensorFlow's first import included
    assert "no network connection" in panel.status.text() and "mnist-sample" in panel.status.text()
    assert not panel.fallback_button.isHidden()
    panel.fallback_button.click()
    assert window.document.project.dataset["name"] == "mnist-sample"
    _wait_loaded(qtbot, panel)
    assert panel.status.isHidden()


def test_a_download_shows_its_progress_and_cancel_stops_it(panel_of, qtbot, slow_mnist):
    _downloads, cache = slow_mnist
    window, panel = panel_of()
    panel.chooser.choose("mnist")
    qtbot.waitUntil(lambda: not panel.progress_row.isHidden() and panel.progress.value() > 0, timeout=WAIT)
    assert not panel.cancel_button.isHidden() and "Downloading MNIST" in panel.progress.format()
    panel.cancel_button.click()
    assert panel.progress_row.isHidden() and "cancelled" in panel.status.text()
    done = []
    window.context.ml.run(PingRequest(True), on_result=done.append)  # runs once the download job has ended
    qtbot.waitUntil(lambda: done == [True], timeout=WAIT)
    assert not list(cache.rglob("mnist*")) and window.document.project.dataset["name"] == "mnist"
