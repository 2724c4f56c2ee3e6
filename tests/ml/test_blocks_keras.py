"""Blocks and frozen layers reach Keras: counts equal Keras's, the code has a function per block."""

from __future__ import annotations

import json

import keras
import numpy as np

from cnnstudio.cli import main
from cnnstudio.core import blocks
from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import Project, save_project
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.codegen import generate_model_code

from ..core.test_blocks import residual_network


def keras_counts(model: keras.Model) -> tuple[int, int]:
    return model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_frozen_layers_and_blocks_count_as_keras_counts_them():
    net = residual_network()
    net.set_trainable("stem", False)
    block = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    blocks.set_trainable(net, block.id, False)
    model = build_model(net, "frozen")
    result = analyze(net)
    assert (result.total_params, result.trainable_params) == keras_counts(model)
    assert not model.get_layer("bn_a").trainable and model.get_layer("out").trainable


def test_frozen_batch_normalization_keeps_its_statistics_while_training():
    net = residual_network()
    net.set_trainable("bn_a", False)
    model = build_model(net, "bn")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_layer("bn_a").get_weights()]
    x = np.random.default_rng(0).normal(5, 3, (8, 16, 16, 3)).astype("float32")
    model.fit(x, np.zeros(8), epochs=1, verbose=0)
    for old, new in zip(before, model.get_layer("bn_a").get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_the_code_has_a_function_per_block_and_builds_the_same_model():
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual")
    blocks.set_trainable(net, inner.id, False)
    code = generate_model_code(net, "blocks")
    assert "def branch(stem):" in code and "def residual(stem):" in code
    assert "    bn_a = branch(stem)" in code and "    relu = residual(stem)" in code
    namespace: dict = {"__name__": "generated"}
    exec(compile(code, "generated.py", "exec"), namespace)  # noqa: S102 - our own generated code
    from_code, built = namespace["build_model"](), build_model(net, "blocks")
    assert [layer.name for layer in from_code.layers] == [layer.name for layer in built.layers]
    assert keras_counts(from_code) == keras_counts(built)


def test_summary_shows_the_blocks_as_a_tree_with_their_totals(tmp_path, capsys):
    net = residual_network()
    inner = blocks.group(net, ["conv_a", "bn_a"], "Branch")
    outer = blocks.group(net, ["conv_a", "bn_a", "add", "relu"], "Residual", collapsed=True)
    blocks.set_trainable(net, inner.id, False)
    path = tmp_path / "tree.cnnproj"
    save_project(Project("Tree", net), path)
    assert main(["summary", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (residual,) = data["blocks"]
    assert residual["id"] == outer.id and residual["layers"] == ["add", "relu"] and residual["collapsed"]
    assert residual["params"] == 616 and residual["non_trainable_params"] == 616
    assert residual["output_shape"] == [16, 16, 8] and residual["receptive_field"] == [5, 5]
    assert residual["blocks"][0]["id"] == inner.id and not residual["blocks"][0]["trainable"]
    layers = {layer["id"]: layer for layer in data["layers"]}
    assert layers["conv_a"]["block"] == inner.id and layers["add"]["block"] == outer.id
    assert layers["conv_a"]["trainable"] is False and layers["stem"]["block"] is None
    assert main(["summary", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("[Residual]"))
    assert "collapsed block (frozen)" in lines[header] and lines[header + 1].startswith("  [Branch]")
    assert lines[header + 2].startswith("    conv_a") and "(frozen)" in lines[header + 2]


def test_the_output_of_a_nested_model_is_the_one_its_outer_model_reaches():
    """Live feature maps and inspection ask for a block's or a backbone's output inside the outer model."""
    import keras
    import numpy as np

    from cnnstudio.ml.builder import layer_output

    inner_in = keras.Input((8, 8, 3))
    inner = keras.Model(inner_in, keras.layers.Conv2D(4, 3, padding="same")(inner_in), name="block")
    outer_in = keras.Input((8, 8, 3))
    outer = keras.Model(outer_in, keras.layers.GlobalAveragePooling2D()(inner(outer_in)))
    probe = keras.Model(outer.inputs, layer_output(outer.get_layer("block")))
    assert probe.predict(np.zeros((2, 8, 8, 3)), verbose=0).shape == (2, 8, 8, 4)
