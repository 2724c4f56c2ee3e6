"""Importing Keras models: faithful networks (counts, shapes, weights), clear refusals, a run to inspect."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import get_spec
from cnnstudio.core.errors import UserError
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import TEMPLATE_NAMES, load_template
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.importer import import_model, save_imported_run
from cnnstudio.ml.runs import list_runs, read_metrics, read_run_info

L = keras.layers


def saved(model: keras.Model, path) -> str:
    model.save(path)
    return str(path)


def residual_model() -> keras.Model:
    """Skip connections (Add), a branch merged by Concatenate in a chosen order, mixed layer kinds."""
    image = keras.Input((16, 16, 3), name="image")
    stem = L.Conv2D(8, 3, padding="same", use_bias=False, name="stem")(image)
    stem = L.BatchNormalization(name="stem_bn")(stem)
    stem = L.ReLU(name="stem_relu")(stem)
    branch = L.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(stem)
    branch = L.DepthwiseConv2D(3, padding="same", name="depthwise")(branch)
    added = L.Add(name="skip_add")([stem, branch])
    side = L.ZeroPadding2D(((1, 0), (2, 1)), name="pad")(stem)
    side = L.Conv2D(4, (2, 4), name="side_conv")(side)
    joined = L.Concatenate(name="join")([side, added])
    pooled = L.GlobalAveragePooling2D(name="gap")(joined)
    out = L.Dense(10, activation="softmax", name="out")(L.Dropout(0.3, name="drop")(pooled))
    return keras.Model(image, out, name="residual_net")


def test_sequential_model_becomes_a_chain_with_only_non_default_settings(tmp_path):
    model = keras.Sequential([
        keras.Input((28, 28, 1), name="digits"),
        L.Conv2D(8, 3, activation="relu", kernel_initializer="he_normal",
                 kernel_regularizer=keras.regularizers.L2(0.001), name="conv"),
        L.MaxPooling2D(3, strides=2, name="pool"),
        L.MaxPooling2D(name="pool2"),
        L.Flatten(name="flat"),
        L.Dense(10, activation="softmax", name="probs"),
    ], name="small_cnn")
    imported = import_model(saved(model, tmp_path / "small.keras"))
    network = imported.network
    assert [(n.id, n.type) for n in network] == [("digits", "Input"), ("conv", "Conv2D"), ("pool", "MaxPooling2D"),
                                                 ("pool2", "MaxPooling2D"), ("flat", "Flatten"), ("probs", "Dense")]
    assert network.nodes["conv"].params == {"filters": 8, "kernel_size": 3, "activation": "relu",
                                            "kernel_initializer": "he_normal", "kernel_regularizer": {"l2": 0.001}}
    assert network.nodes["pool"].params == {"pool_size": 3, "strides": 2}
    assert network.nodes["pool2"].params == {}
    assert network.edges == [("digits", "conv"), ("conv", "pool"), ("pool", "pool2"), ("pool2", "flat"),
                             ("flat", "probs")]
    assert imported.name == "small_cnn"
    assert all(n.position is not None for n in network)


def test_functional_model_with_skip_connections_matches_keras_layer_by_layer(tmp_path):
    model = residual_model()
    imported = import_model(saved(model, tmp_path / "residual.keras"))
    analysis = analyze(imported.network)
    assert analysis.ok
    for layer in model.layers[1:]:
        info = analysis.layers[layer.name]
        assert info.params == layer.count_params(), layer.name
        assert info.output_shape == tuple(layer.output.shape[1:]), layer.name
    assert analysis.total_params == model.count_params()
    assert analysis.non_trainable_params == 16  # the batch normalization's moving mean and variance


def test_merging_layers_keep_the_order_of_their_inputs(tmp_path):
    imported = import_model(saved(residual_model(), tmp_path / "residual.keras"))
    assert imported.network.inputs_of("skip_add") == ["stem_relu", "depthwise"]
    assert imported.network.inputs_of("join") == ["side_conv", "skip_add"]


def test_imported_model_predicts_exactly_like_the_file(tmp_path):
    model = residual_model()
    x = np.random.default_rng(1).random((4, 16, 16, 3), dtype=np.float32)
    imported = import_model(saved(model, tmp_path / "residual.keras"))
    assert [layer.name for layer in imported.model.layers] == list(imported.network.nodes)
    np.testing.assert_allclose(imported.model.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_survives_build_save_import(tmp_path, name):
    project = load_template(name)
    imported = import_model(saved(build_model(project.network, project.name), tmp_path / f"{name}.keras"))
    before, after = project.network, imported.network
    assert sorted((n.id, n.type) for n in after) == sorted((n.id, n.type) for n in before)
    assert after.output_nodes() == before.output_nodes()
    for node in before:
        spec = get_spec(node.type)
        assert spec.resolve(after.nodes[node.id].params) == spec.resolve(node.params), node.id
        assert after.inputs_of(node.id) == before.inputs_of(node.id), node.id


def test_h5_file_gives_the_same_network_as_keras_file(tmp_path):
    model = residual_model()
    from_keras = import_model(saved(model, tmp_path / "m.keras"))
    from_h5 = import_model(saved(model, tmp_path / "m.h5"))
    assert from_h5.network.to_dict() == from_keras.network.to_dict()
    x = np.random.default_rng(2).random((2, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(from_h5.model.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_nested_models_become_blocks_with_their_weights(tmp_path):
    features = keras.Sequential([keras.Input((12, 12, 1)), L.Conv2D(4, 3, name="conv"), L.ReLU(name="relu")],
                                name="features")
    inner_in = keras.Input((100,))
    head = keras.Model(inner_in, L.Dense(3, name="conv")(inner_in), name="head")  # a name used twice
    image = keras.Input((12, 12, 1), name="image")
    out = head(L.Flatten(name="flat")(L.MaxPooling2D(name="pool")(features(image))))
    model = keras.Model(image, out)
    imported = import_model(saved(model, tmp_path / "nested.keras"))
    assert [n.id for n in imported.network] == ["image", "conv", "relu", "pool", "flat", "head_conv"]
    assert imported.network.edges[-1] == ("flat", "head_conv")
    assert {b.id: (b.name, b.members) for b in imported.network.blocks.values()} == {
        "features": ("features", ["conv", "relu"]), "head": ("head", ["head_conv"])}
    assert any("The nested model 'features' (2 layers) became the block 'features'" in note
               for note in imported.notes)
    x = np.random.default_rng(3).random((2, 12, 12, 1), dtype=np.float32)
    np.testing.assert_allclose(imported.model.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_unsupported_layers_are_all_named_in_one_message(tmp_path):
    seq = keras.Input((10, 4), name="seq")
    x = L.LSTM(8, return_sequences=True, name="lstm")(seq)
    x = L.GRU(4, name="gru")(x)
    model = keras.Model(seq, L.Dense(2, name="out")(x))
    with pytest.raises(UserError) as caught:
        import_model(saved(model, tmp_path / "rnn.keras"))
    message = str(caught.value)
    assert "does not support yet: LSTM 'lstm', GRU 'gru'" in message and "\n" not in message


def test_operations_written_in_model_code_become_the_layers_that_compute_the_same(tmp_path):
    x = keras.Input((4, 4, 3), name="x")
    d = L.Dense(3, name="d")(x)
    gate = keras.ops.relu6(d + 3.0) * (1.0 / 6.0)  # MobileNetV3's hard sigmoid
    y = 2.0 - keras.ops.silu(d * gate) + x - 1
    y = keras.ops.maximum(keras.ops.leaky_relu(y, negative_slope=0.1), -keras.ops.tanh(y))
    model = keras.Model(x, keras.ops.softmax(y, axis=1))
    imported = import_model(saved(model, tmp_path / "ops.keras"))
    kinds = [(n.type, n.params) for n in imported.network if n.type not in ("Input", "Dense")]
    assert sorted(kinds, key=repr) == sorted([
        ("Rescaling", {"scale": 1.0, "offset": 3.0}), ("Activation", {"activation": "relu6"}),
        ("Rescaling", {"scale": 1.0 / 6.0}), ("Multiply", {}), ("Activation", {"activation": "silu"}),
        ("Rescaling", {"scale": -1.0, "offset": 2.0}), ("Add", {}), ("Rescaling", {"scale": 1.0, "offset": -1.0}),
        ("LeakyReLU", {"negative_slope": 0.1}), ("Activation", {"activation": "tanh"}),
        ("Rescaling", {"scale": -1.0}), ("Maximum", {}), ("Softmax", {"axis": 1}),
    ], key=repr)
    sample = np.random.default_rng(5).normal(size=(3, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(imported.model(sample), model(sample))  # eager: the same float operations
    assert any("keras.ops call(s) in the model code became the layers" in note for note in imported.notes)


def test_operations_without_a_matching_layer_are_named_grouped(tmp_path):
    x = keras.Input((4,), name="x")
    y = L.Dense(4, name="d")(x) / 2.0
    model = keras.Model(x, keras.ops.exp(y / 3.0 + keras.ops.gelu(y)))
    with pytest.raises(UserError) as caught:
        import_model(saved(model, tmp_path / "ops.keras"))
    assert str(caught.value) == ("ops.keras uses layers CNN Studio does not support yet: keras.ops.true_divide x2, "
                                 "keras.ops.gelu 'gelu', keras.ops.exp 'exp'")


def test_lambda_model_is_refused_for_safety_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "code-ran"
    x = keras.Input((3,), name="x")
    touch = eval(f"lambda t: (__import__('pathlib').Path({str(marker)!r}).touch(), t * 2)[1]")  # noqa: S307
    y = L.Lambda(touch, name="lam")(x)
    path = saved(keras.Model(x, L.Dense(2, name="d")(y)), tmp_path / "lambda.keras")
    marker.unlink()  # building the model ran the lambda once
    with pytest.raises(UserError) as caught:
        import_model(path)
    assert "refused for safety" in str(caught.value) and "Lambda 'lam'" in str(caught.value)
    assert "Nothing was loaded or run" in str(caught.value)
    assert not marker.exists()
    keras.models.load_model(path, safe_mode=False)  # what safe mode prevents: loading runs the code
    assert marker.exists()


def test_lambda_in_an_h5_file_is_refused_too(tmp_path):
    x = keras.Input((3,), name="x")
    path = saved(keras.Model(x, L.Lambda(lambda t: t + 1, name="plus_one")(x)), tmp_path / "lambda.h5")
    with pytest.raises(UserError, match="refused for safety: Lambda 'plus_one'"):
        import_model(path)


def test_a_setting_cnnstudio_cannot_represent_is_refused_by_name(tmp_path):
    x = keras.Input((8,), name="x")
    model = keras.Model(x, L.Dense(4, kernel_constraint=keras.constraints.MaxNorm(2.0), name="capped")(x))
    with pytest.raises(UserError, match="Dense 'capped' uses kernel_constraint=MaxNorm"):
        import_model(saved(model, tmp_path / "constrained.keras"))


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("broken.keras", b"not a zip at all", "broken.keras is corrupt: it is not a valid .keras archive"),
    ("broken.h5", b"\x89HDF\r\n garbage", "damaged or not an HDF5 model file"),
    ("weights.txt", b"123", "not a Keras model file"),
])
def test_damaged_or_wrong_files_get_a_clear_message(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=expected):
        import_model(path)


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(UserError, match="no such model file"):
        import_model(tmp_path / "nowhere.keras")
    with pytest.raises(UserError, match="is a folder"):
        import_model(tmp_path)


def test_training_settings_and_dataset_come_from_the_file(tmp_path):
    model = keras.Sequential([keras.Input((32, 32, 3)), L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
    imported = import_model(saved(model, tmp_path / "colour.keras"))
    assert imported.name == "colour"  # Keras's automatic "sequential" name gives way to the file's
    assert imported.dataset["name"] == "cifar10"
    assert imported.training["optimizer"] == "sgd"
    assert imported.training["learning_rate"] == 0.05 and imported.training["momentum"] == 0.9
    assert imported.training["loss"] == "sparse_categorical_crossentropy"


def test_frozen_layers_and_seeds_are_mentioned_in_the_notes(tmp_path):
    dense = L.Dense(4, name="frozen")
    model = keras.Sequential([keras.Input((6,)), dense, L.Dropout(0.5, seed=7, name="drop")])
    dense.trainable = False
    notes = " ".join(import_model(saved(model, tmp_path / "notes.keras")).notes)
    assert "frozen in the file (frozen)" in notes and "random seed 7 is not kept" in notes


def test_saved_import_is_a_run_the_app_can_inspect(tmp_path):
    model = residual_model()
    imported = import_model(saved(model, tmp_path / "residual.keras"))
    runs = tmp_path / "runs"
    run = save_imported_run(imported, runs)
    assert run.parent == runs and list_runs(runs) == [run]
    info = read_run_info(run)
    assert info["status"] == "imported" and info["source"] == str((tmp_path / "residual.keras").resolve())
    assert read_metrics(run) == [] and (run / "metrics.csv").read_text().startswith("epoch,loss,accuracy")
    project = load_project(run / "project.cnnproj")
    assert project.network.to_dict() == imported.network.to_dict()
    reloaded = keras.models.load_model(run / "model.keras", safe_mode=True)
    x = np.random.default_rng(4).random((2, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert save_imported_run(imported, runs) != run  # a second import never overwrites the first


def test_cli_import_writes_an_editable_project(tmp_path, capsys):
    model_file = saved(residual_model(), tmp_path / "residual.keras")
    out = tmp_path / "residual.cnnproj"
    assert main(["import", model_file, "--out", str(out)]) == 0
    assert "imported 13 layers" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["format"] == "cnnstudio-project" and len(data["network"]["nodes"]) == 13
    assert main(["summary", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == residual_model().count_params()


def test_cli_import_of_a_refused_model_exits_2_with_one_error_line(tmp_path, capsys):
    x = keras.Input((3,), name="x")
    model_file = saved(keras.Model(x, L.Lambda(lambda t: t * 3, name="lam")(x)), tmp_path / "lam.keras")
    out = tmp_path / "lam.cnnproj"
    assert main(["import", model_file, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: lam.keras was refused for safety") and err.count("\n") == 1
    assert not out.exists()
