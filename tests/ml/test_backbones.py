"""Pretrained backbones: core's figures equal Keras's, preprocessing inside, ImageNet weights through
Keras's own cache (tested offline: the weights file is written into a temporary KERAS_HOME)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config
from keras.src.legacy.saving import legacy_h5_format

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import get_spec
from cnnstudio.core.catalog.backbone_table import TABLE
from cnnstudio.core.catalog.backbones import variant_key
from cnnstudio.core.errors import ProjectError, UserError
from cnnstudio.core.network import Network
from cnnstudio.core.project import project_from_dict
from cnnstudio.ml.backbones import MIRROR_VARIABLE, WeightsCancelled, WeightsHooks, download_weights
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.codegen import generate_model_code

MOBILENET_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"


def backbone_network(family: str, size: int, *, frozen: bool = False, head: bool = True, **params) -> Network:
    net = Network()
    net.add_node("Input", {"shape": [size, size, 3]}, node_id="image")
    net.add_node(family, {"weights": None, **params}, node_id="base")
    net.connect("image", "base")
    if head:
        net.add_node("Dense", {"units": 5, "activation": "softmax"}, node_id="head")
        net.connect("base", "head")
    net.set_trainable("base", not frozen)
    return net


def keras_counts(model: keras.Model) -> tuple[int, int]:
    return model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize(("family", "size", "frozen", "params"), [
    ("MobileNetV2", 96, False, {"alpha": 0.35, "pooling": "avg"}),
    ("MobileNetV2", 96, True, {"alpha": 0.35, "pooling": "avg"}),
    ("MobileNetV3Small", 64, True, {"pooling": "max", "minimalistic": True}),
    ("EfficientNetB0", 224, False, {"include_top": True, "classes": 7}),
    ("ResNet50", 64, True, {"pooling": "avg"}),
    ("DenseNet121", 48, False, {"pooling": "avg"}),
])
def test_core_counts_and_shapes_equal_keras(family, size, frozen, params):
    net = backbone_network(family, size, frozen=frozen, **params)
    result = analyze(net)
    assert result.ok, result.errors
    model = build_model(net, "backbone")
    assert (result.total_params, result.trainable_params) == keras_counts(model)
    assert result.layers["base"].output_shape == tuple(model.get_layer("base").output.shape[1:])


@pytest.mark.parametrize("family", sorted(TABLE))
def test_every_backbone_gives_its_feature_maps_at_its_default_size(family):
    facts = TABLE[family]
    net = backbone_network(family, facts["default"], head=False)
    info = analyze(net).layers["base"]
    variant = facts["variants"][variant_key(family, get_spec(family).resolve({}))]
    assert info.output_shape[-1] == variant["channels"] and info.output_shape[0] >= 1
    assert info.params == variant["params"] + (9 if facts["preprocessing"] == "caffe" else 0)


def test_a_backbone_below_its_minimum_size_names_the_minimum():
    (problem,) = analyze(backbone_network("InceptionV3", 64)).errors
    assert problem.node == "base" and "needs an input of at least 75x75, but this one is 64x64" in problem.message


def test_the_layers_put_before_a_backbone_let_it_take_small_grey_pictures():
    """What the window puts before a dropped backbone (core/backbone_input.py): 28x28 grey pictures reach
    MobileNetV2 resized to 32x32 with the grey channel repeated as red, green and blue by fixed weights
    (training through the window: tests/ui/test_backbone_drop.py)."""
    from cnnstudio.core.backbone_input import input_layers

    net = Network()
    net.add_node("Input", {"shape": [28, 28, 1]}, node_id="image")
    previous = "image"
    for index, layer in enumerate(input_layers("MobileNetV2", {}, (28, 28, 1))):
        node = net.add_node(layer.type, layer.params, node_id=f"fit{index}")
        node.trainable = layer.trainable
        net.connect(previous, node.id)
        previous = node.id
    for node_id, type_name, params in (("base", "MobileNetV2", {"weights": None, "alpha": 0.35, "pooling": "avg"}),
                                       ("out", "Dense", {"units": 2, "activation": "softmax"})):
        net.add_node(type_name, params, node_id=node_id)
        net.connect(previous, node_id)
        previous = node_id
    assert analyze(net).ok
    model = build_model(net, "grey")
    grey = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    seen = keras.Model(model.inputs[0], model.get_layer("fit1").output)(grey)
    assert seen.shape == (4, 32, 32, 3)
    np.testing.assert_allclose(seen[..., 0], seen[..., 2])  # the same grey in every channel
    assert np.all(model.get_layer("fit1").get_weights()[0] == 1.0) and not model.get_layer("fit1").trainable
    assert model(grey).shape == (4, 2)


def test_cnnstudio_train_names_the_minimum_and_the_layers_to_add_for_small_grey_pictures(tmp_path, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.project import save_project

    project = project_from_dict({
        "format": "cnnstudio-project", "version": 2, "name": "grey",
        "network": {"nodes": [{"id": "image", "type": "Input", "params": {"shape": [28, 28, 1]}},
                              {"id": "base", "type": "MobileNetV2", "params": {"weights": None, "pooling": "avg"}},
                              {"id": "out", "type": "Dense", "params": {"units": 10, "activation": "softmax"}}],
                    "edges": [["image", "base"], ["base", "out"]]},
        "dataset": {"name": "mnist-sample"}})
    path = tmp_path / "grey.cnnproj"
    save_project(project, path)
    assert main(["train", str(path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: grey.cnnproj: node 'base': MobileNetV2 needs an input of at least 32x32")
    assert "3 channels, but this input has 1" in line and "a Resizing layer (height and width 32 or more)" in line
    assert "kernel_initializer 'ones'" in line


def test_unknown_backbones_and_arguments_are_refused_like_unknown_layers():
    nodes = [{"id": "image", "type": "Input", "params": {"shape": [96, 96, 3]}},
             {"id": "base", "type": "MobileNetV2", "params": {"alpha": 0.35, "depth": 3}}]
    data = {"format": "cnnstudio-project", "version": 2, "name": "x",
            "network": {"nodes": nodes, "edges": [["image", "base"]]}}
    with pytest.raises(ProjectError, match="MobileNetV2 has no parameter 'depth'"):
        project_from_dict(data, "bad.cnnproj")
    nodes[1] = {"id": "base", "type": "MobileNetV9", "params": {}}
    with pytest.raises(ProjectError, match="unknown layer type 'MobileNetV9'"):
        project_from_dict(data, "bad.cnnproj")


def test_preprocessing_is_inside_the_model(tmp_path):
    net = backbone_network("ResNet50", 64, head=False, pooling="avg")
    model = build_model(net, "caffe")
    pixels = np.random.default_rng(0).random((2, 64, 64, 3)).astype("float32")  # scaled to [0, 1]
    base = model.get_layer("base").layers[-1]  # the application itself
    expected = base(keras.applications.resnet50.preprocess_input(pixels * 255.0))
    np.testing.assert_allclose(model(pixels), expected, rtol=1e-4, atol=1e-4)
    path = tmp_path / "caffe.keras"
    model.save(path)  # and it travels with the model
    np.testing.assert_allclose(keras.models.load_model(path)(pixels), model(pixels), atol=1e-5)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A fresh Keras cache (what KERAS_HOME points at), empty unless a test writes into it."""
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras when its home is not writable
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "keras"))
    return tmp_path / "keras" / "models"


def cached_weights(folder: Path) -> Path:
    """The weights file Keras expects for MobileNetV2 (alpha 0.35, 96x96, no top), made from random weights."""
    folder.mkdir(parents=True, exist_ok=True)
    model = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    path = folder / MOBILENET_FILE
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return path


def imagenet_network() -> Network:
    net = backbone_network("MobileNetV2", 96, frozen=True, alpha=0.35, pooling="avg")
    net.set_param("base", "weights", "imagenet")
    return net


def test_weights_come_from_the_keras_cache_without_a_connection(keras_home, monkeypatch):
    monkeypatch.setenv(MIRROR_VARIABLE, "http://127.0.0.1:9")  # nothing there: any download would fail
    path = cached_weights(keras_home)
    model = build_model(imagenet_network(), "cached")
    reference = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    reference.load_weights(path)
    base = model.get_layer("base").layers[-1]
    for mine, theirs in zip(base.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_without_a_connection_and_without_a_cache_the_error_says_so(keras_home, monkeypatch):
    monkeypatch.setenv(MIRROR_VARIABLE, "http://127.0.0.1:9")
    with pytest.raises(UserError) as caught:
        build_model(imagenet_network(), "offline")
    message = str(caught.value)
    assert "ImageNet weights of MobileNetV2 are not on this computer and cannot be downloaded" in message
    assert "connect to the internet once" in message and "or set weights to none" in message


def test_a_damaged_weights_file_in_the_cache_is_named_with_what_to_do(keras_home):
    keras_home.mkdir()
    (keras_home / MOBILENET_FILE).write_bytes(b"not an HDF5 file")
    with pytest.raises(UserError, match=rf"weights file .*{MOBILENET_FILE} is damaged .*delete it and CNN Studio "
                                        "downloads it again"):
        build_model(imagenet_network(), "damaged")


@pytest.fixture
def weights_server(tmp_path, monkeypatch):
    """A local server holding the weights file where Keras's storage would, set as the mirror."""
    folder = tmp_path / "served" / "tensorflow" / "keras-applications" / "mobilenet_v2"
    cached_weights(folder)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "served"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(MIRROR_VARIABLE, f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    thread.join()


def test_a_download_reports_its_progress_and_lands_in_the_keras_cache(keras_home, weights_server):
    seen: list[tuple[str, int, int | None]] = []
    build_model(imagenet_network(), "download", hooks=WeightsHooks(progress=lambda *a: seen.append(a)))
    total = (keras_home / MOBILENET_FILE).stat().st_size
    assert seen and all(name == MOBILENET_FILE and size == total for name, _, size in seen)
    assert seen[-1][1] == total and [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)


def test_a_window_can_fetch_the_weights_before_training(keras_home, weights_server):
    assert download_weights(imagenet_network()) == ["base"]
    assert (keras_home / MOBILENET_FILE).exists()


def test_a_cancelled_download_leaves_nothing_in_the_cache(keras_home, weights_server):
    with pytest.raises(WeightsCancelled):
        build_model(imagenet_network(), "cancelled", hooks=WeightsHooks(cancelled=lambda: True))
    assert not (keras_home / MOBILENET_FILE).exists()


def test_the_code_builds_the_backbone_as_cnnstudio_does():
    net = backbone_network("ResNet50", 64, frozen=True, pooling="avg")
    code = generate_model_code(net, "resnet")
    assert "def make_base():" in code and "keras.applications.ResNet50(" in code
    namespace: dict = {"__name__": "generated"}
    exec(compile(code, "generated.py", "exec"), namespace)  # noqa: S102 - our own generated code
    from_code, built = namespace["build_model"](), build_model(net, "resnet")
    assert keras_counts(from_code) == keras_counts(built)
    pixels = np.random.default_rng(1).random((1, 64, 64, 3)).astype("float32")
    from_code.set_weights(built.get_weights())
    np.testing.assert_allclose(from_code(pixels), built(pixels), atol=1e-6)
