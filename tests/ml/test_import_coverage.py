"""Networks nobody on the team wrote import exactly: keras.applications and Keras's own examples.

Each model is saved as a .keras file and imported; the network's parameter counts and
output shapes equal Keras's, the rebuilt model predicts what the file's model predicts,
and the generated Python builds the same model again.
"""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras.src.applications import convnext, inception_resnet_v2

from cnnstudio.core.analysis import analyze
from cnnstudio.core.errors import UserError
from cnnstudio.ml.codegen import generate_model_code
from cnnstudio.ml.importer import import_model

from .keras_examples import EXAMPLES

L = keras.layers


def sample_for(model: keras.Model, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    samples = []
    for tensor in model.inputs:
        shape = (2, *[64 if s is None else s for s in tensor.shape[1:]])
        if "int" in str(tensor.dtype):
            samples.append(rng.integers(0, 50, size=shape).astype(str(tensor.dtype)))
        else:
            samples.append((255 * rng.random(shape)).astype("float32"))
    return samples


def assert_imported_exactly(model: keras.Model, path) -> object:
    """Counts, shapes and predictions of the imported network equal the model's; returns the import."""
    model.save(path)
    imported = import_model(path)
    analysis = analyze(imported.network)
    assert analysis.ok, analysis.errors[:3]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (analysis.total_params, analysis.trainable_params) == (model.count_params(), trainable)
    assert [tuple(t.shape[1:]) for t in imported.model.outputs] == [tuple(t.shape[1:]) for t in model.outputs]
    for node_id, info in analysis.layers.items():
        layer = imported.model.get_layer(node_id)
        assert info.params == layer.count_params(), node_id
        assert info.output_shape == tuple(layer.output.shape[1:]), node_id
    sample = sample_for(model)
    feed = sample[0] if len(sample) == 1 else sample
    expected = keras.ops.convert_to_numpy(model(feed, training=False))
    got = keras.ops.convert_to_numpy(imported.model(feed, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * max(1.0, float(np.max(np.abs(expected)))))
    return imported


def mini_convnext() -> keras.Model:
    """ConvNeXt's own builder, small: Normalization, LayerScale, StochasticDepth and `inputs + x` ops."""
    return convnext.ConvNeXt(depths=[1, 1, 2, 1], projection_dims=[8, 16, 24, 32], drop_path_rate=0.2,
                             input_shape=(32, 32, 3), weights=None, classes=5, name="convnext_mini")


def mini_inception_resnet() -> keras.Model:
    """InceptionResNetV2's own blocks on a small input: CustomScaleLayer joins each residual."""
    image = keras.Input((17, 17, 32))
    x = inception_resnet_v2.conv2d_bn(image, 320, 1)
    x = inception_resnet_v2.inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=1)
    x = inception_resnet_v2.inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=1)
    x = inception_resnet_v2.inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                                                   block_idx=1)
    return keras.Model(image, L.Dense(4)(L.GlobalAveragePooling2D()(x)), name="inception_resnet_mini")


APPLICATIONS = {
    "ConvNeXt": mini_convnext,
    "InceptionResNet blocks": mini_inception_resnet,
    "MobileNetV3Small": lambda: keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None,
                                                                    classes=5),
    "EfficientNetB0": lambda: keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=5),
    "EfficientNetV2B0": lambda: keras.applications.EfficientNetV2B0(input_shape=(32, 32, 3), weights=None,
                                                                    classes=5),
}


@pytest.mark.parametrize("name", APPLICATIONS)
def test_layers_the_applications_define_import_exactly(tmp_path, name):
    model = APPLICATIONS[name]()
    imported = assert_imported_exactly(model, tmp_path / "app.keras")
    kinds = {node.type for node in imported.network}
    wanted = {"ConvNeXt": {"LayerScale", "Normalization", "StochasticDepth", "Add"},
              "InceptionResNet blocks": {"CustomScaleLayer"}, "MobileNetV3Small": {"Rescaling", "Multiply"},
              "EfficientNetB0": {"Normalization", "Dropout"}, "EfficientNetV2B0": {"Normalization"}}[name]
    assert wanted <= kinds


def test_a_normalization_with_fixed_statistics_and_a_scale_per_channel_round_trips(tmp_path):
    image = keras.Input((8, 8, 3), name="image")
    x = L.Rescaling([1 / 0.229, 1 / 0.224, 1 / 0.225], name="per_channel")(image)
    x = L.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.05, 0.05, 0.06], name="imagenet")(x)
    adapted = L.Normalization(axis=-1, name="adapted")
    adapted.adapt(np.random.default_rng(0).normal(3, 2, (16, 8, 8, 3)).astype("float32"))
    model = keras.Model(image, L.Conv2D(2, 3, name="conv")(adapted(x)))
    imported = assert_imported_exactly(model, tmp_path / "norm.keras")
    assert imported.network.nodes["imagenet"].params == {"mean": [0.485, 0.456, 0.406],
                                                         "variance": [0.05, 0.05, 0.06]}
    assert analyze(imported.network).layers["adapted"].non_trainable == 7  # mean, variance per channel + count


@pytest.mark.parametrize("name", EXAMPLES)
def test_keras_examples_import_and_give_code_that_builds_them_again(tmp_path, name):
    model = EXAMPLES[name]()
    imported = assert_imported_exactly(model, tmp_path / f"{name}.keras")
    namespace: dict = {"__name__": "generated"}
    exec(compile(generate_model_code(imported.network, name), "generated.py", "exec"), namespace)  # noqa: S102
    again = namespace["build_model"]()
    assert again.count_params() == model.count_params()
    assert [tuple(t.shape[1:]) for t in again.outputs] == [tuple(t.shape[1:]) for t in model.outputs]


def test_a_text_model_keeps_its_integer_input_and_summarizes(tmp_path, capsys):
    from cnnstudio.cli import main
    from cnnstudio.core.project import save_project

    imported = import_model(_saved(EXAMPLES["text_classification_from_scratch"](), tmp_path / "text.keras"))
    (first,) = imported.network.input_nodes()
    assert imported.network.nodes[first].params == {"shape": [None], "dtype": "int64"}
    save_project(imported.project(), tmp_path / "text.cnnproj")
    assert main(["summary", str(tmp_path / "text.cnnproj"), "--json"]) == 0
    layers = {layer["type"]: layer for layer in json.loads(capsys.readouterr().out)["layers"]}
    assert layers["Embedding"]["output_shape"] == [None, 32] and layers["Embedding"]["params"] == 2000 * 32


def _saved(model: keras.Model, path) -> str:
    model.save(path)
    return str(path)


def test_unsupported_layers_are_grouped_in_one_short_line(tmp_path):
    with pytest.raises(UserError) as caught:
        import_model(_saved(_rnn(), tmp_path / "rnn.keras"))
    assert str(caught.value) == "rnn.keras uses layers CNN Studio does not support yet: LSTM x3, GRU 'gru'"


def _rnn() -> keras.Model:
    seq = keras.Input((10, 4), name="seq")
    x = seq
    for i in range(3):
        x = L.LSTM(4, return_sequences=True, name=f"lstm_{i}")(x)
    return keras.Model(seq, L.GRU(4, name="gru")(x))


@keras.saving.register_keras_serializable(package="someone")
class Scale(L.Layer):
    """A custom layer a model's author registered: its code lives in their program, not in the file."""

    def call(self, x):
        return x * 2.0


@keras.saving.register_keras_serializable(package="someone")
class LayerScale(L.Layer):
    """A custom layer that happens to share its name with Keras's own LayerScale."""

    def call(self, x):
        return x * 3.0


def test_custom_classes_are_refused_by_name_even_when_they_share_a_keras_name(tmp_path):
    x = keras.Input((4,), name="x")
    model = keras.Model(x, LayerScale(name="mine")(Scale(name="s2")(Scale(name="s1")(x))))
    with pytest.raises(UserError) as caught:
        import_model(_saved(model, tmp_path / "custom.keras"))
    assert str(caught.value) == ("custom.keras uses layers CNN Studio does not support yet: Scale x2, "
                                 "LayerScale (a custom layer of the same name) 'mine'")


def test_a_refusal_comes_before_tensorflow_is_imported(tmp_path):
    model_file = _saved(_rnn(), tmp_path / "rnn.keras")
    probe = (
        "import sys; from cnnstudio.cli import main;"
        f"rc = main(['import', {model_file!r}, '--out', {str(tmp_path / 'rnn.cnnproj')!r}]);"
        "assert rc == 2, rc; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("error: rnn.keras uses layers CNN Studio does not support yet: LSTM x3")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n in dir(keras.applications) if n[0].isupper()))
def test_every_keras_application_imports_exactly(tmp_path, name):
    assert_imported_exactly(getattr(keras.applications, name)(weights=None), tmp_path / f"{name}.keras")


def test_the_preview_draws_the_same_network_without_tensorflow(tmp_path):
    model_file = _saved(mini_convnext(), tmp_path / "convnext.keras")
    probe = (
        "import sys, json; from cnnstudio.ml.importer import preview_model;"
        f"p = preview_model({model_file!r});"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported';"
        "assert all(n.position is not None for n in p.network);"
        "print(json.dumps(p.network.to_dict()))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(import_model(model_file).network.to_dict()))


def test_an_imported_imagenet_model_summarizes_with_a_warning_that_it_does_not_fit_the_data(tmp_path, capsys):
    from cnnstudio.cli import main

    model_file = _saved(keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None),
                        tmp_path / "mobilenet.keras")
    project = tmp_path / "mobilenet.cnnproj"
    assert main(["import", model_file, "--out", str(project)]) == 0
    capsys.readouterr()
    assert main(["summary", str(project), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["total_params"] == keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), weights=None).count_params()
    assert "outputs 1000 values but the data has 10 classes" in err and "training refuses it" in err
    assert all(line.startswith("warning: ") for line in err.splitlines())


@pytest.mark.parametrize("shape", [(None,), (7, 7, None), (7, 7, 1), (7, 7, 4)])
def test_layer_scale_output_shape_is_the_one_keras_builds(shape):
    """A channel count not known yet (or one) broadcasts to projection_dim, as Keras's symbolic call does."""
    from cnnstudio.core.catalog import CATALOG

    spec = CATALOG["LayerScale"]
    inputs = keras.Input(shape)
    built = convnext.LayerScale(1e-6, 4)(inputs)
    assert spec.rule(spec.resolve({"init_values": 1e-6, "projection_dim": 4}), [shape]).output_shape \
        == tuple(built.shape[1:])
