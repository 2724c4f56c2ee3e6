"""Generated Keras code builds the very model CNN Studio builds; the script trains on the same data."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import CATALOG, UNSET
from cnnstudio.core.catalog.spec import BOOL, CHOICE, FACTOR, FLOAT, INT, INTS, REGULARIZER
from cnnstudio.core.errors import UserError
from cnnstudio.core.generated_images import draw_stripes, draw_x_vs_o
from cnnstudio.core.network import Network
from cnnstudio.core.templates import TEMPLATE_NAMES, load_template
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.codegen import generate_model_code, generate_script

ROOT = Path(__file__).resolve().parents[2]


def built_from_code(code: str):
    namespace: dict = {"__name__": "generated"}
    exec(compile(code, "generated.py", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["build_model"]()


def script_namespace(project) -> dict:
    """The script's functions and constants, without running its main()."""
    code = generate_script(project.network, name=project.name, dataset=project.dataset, training=project.training)
    namespace: dict = {"__name__": "generated_script"}
    exec(compile(code, "train.py", "exec"), namespace)  # noqa: S102
    return namespace


def start_script(script: Path, *args: str) -> subprocess.Popen:
    """Start an exported script in its own process (its folder as home), so that the test can train the
    app's side meanwhile: the two run side by side instead of one after the other."""
    folder = script.parent
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=folder,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(folder)})


def finish_script(child: subprocess.Popen, timeout: float = 300) -> subprocess.CompletedProcess:
    """Wait for a script started by `start_script` (killed if it runs past `timeout`)."""
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def same_models(a, b) -> None:
    assert a.name == b.name
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]
    for mine, theirs in zip(a.layers, b.layers, strict=True):
        assert type(mine) is type(theirs)
        assert mine.count_params() == theirs.count_params(), mine.name
        assert tuple(mine.output.shape) == tuple(theirs.output.shape), mine.name
        config, expected = mine.get_config(), theirs.get_config()
        for key in ("name", "dtype"):
            config.pop(key, None), expected.pop(key, None)
        assert config == expected, mine.name


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_model_code_builds_the_same_model_as_cnnstudio(name):
    project = load_template(name)
    same_models(built_from_code(generate_model_code(project.network, project.name)),
                build_model(project.network, project.name))


def test_model_code_spells_only_what_differs_from_keras_defaults():
    code = generate_model_code(load_template("resnet-mini").network, "Mini ResNet")
    assert 'layers.BatchNormalization(name="stem_bn")(stem_conv)' in code
    assert "strides=1" not in code  # the template spells it out; it is Keras's default
    assert 'input_ = keras.Input(shape=(28, 28, 1), name="input")' in code
    assert "layers.Add(name=\"block1_add\")([block1_bn2, stem_relu])" in code


def test_regularizers_are_written_as_keras_regularizers():
    network = Network()
    network.add_node("Input", {"shape": [8]}, node_id="x")
    network.add_node("Dense", {"units": 4, "kernel_regularizer": {"l2": 0.001}, "bias_regularizer": "l1",
                               "activity_regularizer": {"l1": 0.1, "l2": 0.2}}, node_id="d")
    network.connect("x", "d")
    code = generate_model_code(network, "reg")
    assert "kernel_regularizer=keras.regularizers.L2(0.001)" in code
    assert "bias_regularizer=keras.regularizers.L1(0.01)" in code
    assert "activity_regularizer=keras.regularizers.L1L2(l1=0.1, l2=0.2)" in code
    same_models(built_from_code(code), build_model(network, "reg"))


def test_several_inputs_and_outputs_keep_their_order():
    network = Network()
    for node_id, type_name, params in (("image", "Input", {"shape": [8, 8, 1]}), ("meta", "Input", {"shape": [3]}),
                                       ("flat", "Flatten", {}), ("join", "Concatenate", {}),
                                       ("score", "Dense", {"units": 1}), ("kind", "Dense", {"units": 4})):
        network.add_node(type_name, params, node_id=node_id)
    for src, dst in (("image", "flat"), ("meta", "join"), ("flat", "join"), ("join", "score"), ("join", "kind")):
        network.connect(src, dst)
    code = generate_model_code(network, "two heads")
    assert "inputs=[image, meta], outputs=[score, kind]" in code
    assert 'layers.Concatenate(name="join")([meta, flat])' in code
    same_models(built_from_code(code), build_model(network, "two heads"))


def random_value(param, rng: random.Random):
    """A value the catalog allows for `param` (a few kinds; None = leave it to Keras)."""
    if param.kind == CHOICE:
        return rng.choice([c for c in param.choices if c is not None])
    if param.kind == BOOL:
        return rng.random() < 0.5
    if param.kind == INT:
        return rng.randint(int(max(param.minimum or 1, 1)), int(min(param.maximum or 4, 4)))
    if param.kind == FLOAT:
        low, high = param.minimum or 0.0, param.maximum if param.maximum is not None else 2.0
        return round(rng.uniform(max(low, 0.0) + (1e-3 if param.above_minimum else 0.0), min(high, 2.0)), 3)
    if param.kind == INTS:
        return [rng.randint(1, 3) for _ in range(param.rank)] if rng.random() < 0.5 else rng.randint(1, 3)
    if param.kind == REGULARIZER:
        return rng.choice(["l1", "l2", {"l2": 0.003}, {"l1": 0.001, "l2": 0.002}])
    if param.kind == FACTOR and param.rank != 2:
        return rng.choice([0.1, [-0.2, 0.3]])
    return None


def random_networks(count: int):
    """Small valid networks around one random catalog layer with random settings."""
    rng = random.Random(7)
    shapes = {1: [12, 4], 2: [12, 12, 3]}
    made = 0
    while made < count:
        spec = rng.choice([s for s in CATALOG.values() if s.type != "Input"])
        rank = 1 if "1D" in spec.type else 2
        params = spec.initial_params()
        for param in spec.params:
            if rng.random() < 0.5 or param.required:
                value = random_value(param, rng)
                if value is not None:
                    params[param.name] = value
                elif param.default is UNSET and param.name not in params:
                    break
        network = Network()
        network.add_node("Input", {"shape": shapes[rank]}, node_id="x")
        inputs = ["x"]
        if spec.max_inputs != 1:
            network.add_node("Input", {"shape": shapes[rank]}, node_id="y")
            inputs.append("y")
        network.add_node(spec.type, params, node_id="layer")
        for src in inputs:
            network.connect(src, "layer")
        if analyze(network).ok:
            made += 1
            yield network


def test_random_catalog_networks_give_code_that_builds_the_same_model():
    for network in random_networks(60):
        code = generate_model_code(network, "random")
        same_models(built_from_code(code), build_model(network, "random"))


def test_random_catalog_networks_give_scripts_that_are_valid_python():
    compiled = 0
    for network in random_networks(80):
        try:
            script = generate_script(network, name="random", dataset={"name": "folder:/data/pictures"},
                                     training={"loss": "auto"})
        except UserError:  # e.g. two inputs, or an output no loss can score: refused in words
            continue
        compile(script, "random.py", "exec")
        compiled += 1
    assert compiled >= 10


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_script_is_valid_python(name):
    project = load_template(name)
    script = generate_script(project.network, name=project.name, dataset=project.dataset,
                             training=project.training)
    compile(script, f"train_{name}.py", "exec")
    assert script.startswith("#!/usr/bin/env python3\n\"\"\"Train ")
    assert "cnnstudio" not in re.sub(r"(?s)def bundled_file.*?return None\n", "", script).replace("CNN Studio", "")


def test_script_follows_the_projects_training_settings():
    project = load_template("lenet5")
    project.training.update(optimizer="sgd", momentum=0.9, learning_rate=0.05, schedule="step",
                            schedule_params={"every": 2, "factor": 0.1}, early_stopping=3,
                            loss="categorical_crossentropy", metrics=["accuracy", "top_k"], top_k=3,
                            class_weight="balanced", mixed_precision="bfloat16")
    project.dataset["permute_pixels"] = 5
    script = generate_script(project.network, name=project.name, dataset=project.dataset, training=project.training)
    for line in ('OPTIMIZER = "sgd"', "MOMENTUM = 0.9", 'SCHEDULE = "step"', "SCHEDULE_PARAMS = {'every': 2, 'factor': 0.1}",
                 "EARLY_STOPPING = 3", 'LOSS = "categorical_crossentropy"', "TOP_K = 3", "CLASS_WEIGHT = 'balanced'",
                 "MIXED_PRECISION = 'bfloat16'", "PERMUTE_PIXELS = 5", "LEARNING_RATE = 0.05"):
        assert f"\n{line}" in script, line
    namespace = script_namespace(project)
    rate = namespace["learning_rate_schedule"](0.05, "step", {"every": 2, "factor": 0.1}, 5, 10)
    assert namespace["rate_at"](rate, 20) == pytest.approx(0.005)


def test_script_carries_the_apps_training_code_unchanged():
    from cnnstudio.ml.codegen_script import training_source

    project = load_template("lenet5")
    script = generate_script(project.network, name=project.name, dataset=project.dataset, training=project.training)
    assert training_source().strip("\n") in script  # one source: the app's module, word for word
    assert "class EpochBatches(keras.utils.PyDataset)" in script and "def schedule_callbacks(" in script


def test_output_without_activation_trains_from_logits():
    project = load_template("lenet5")
    project.network.nodes["output"].params.pop("activation")
    script = generate_script(project.network, name="logits", dataset=project.dataset, training=project.training)
    assert "\nFROM_LOGITS = True" in script and '\nLOSS = "sparse_categorical_crossentropy"' in script


@pytest.mark.parametrize(("dataset", "draw"), [("x-vs-o", draw_x_vs_o), ("stripes", draw_stripes)])
def test_script_draws_the_same_pictures_as_cnnstudio(dataset, draw):
    project = load_template("edge-detector")
    project.dataset["name"] = dataset
    project.training["seed"] = 3
    (x_train, y_train), (x_test, y_test) = script_namespace(project)["load_data"]()
    assert x_train.shape == (2000, 28, 28) and x_test.shape == (500, 28, 28) and x_train.dtype == np.uint8
    expected_train = draw(2000, np.random.default_rng([3, 1]))
    expected_test = draw(500, np.random.default_rng([0x7E57, 2]))
    np.testing.assert_array_equal(x_train, expected_train[0])
    np.testing.assert_array_equal(y_train, expected_train[1])
    np.testing.assert_array_equal(x_test, expected_test[0])
    np.testing.assert_array_equal(y_test, expected_test[1])


def test_script_prepares_exactly_the_images_cnnstudio_trains_on():
    """Same split, same pixel shuffle, same standardization: the validation images agree to float precision."""
    from cnnstudio.ml.data import load_dataset

    project = load_template("edge-detector")
    project.dataset.update(name="x-vs-o", permute_pixels=11)
    project.training.update(normalization="standardize", seed=2, validation_split=0.2)
    script = script_namespace(project)
    (x_train, y_train), (x_test, _) = script["load_data"]()
    keep, take = script["stratified_split"](script["as_labels"](y_train), 0.2, 2)
    _, x_val, _ = script["prepare"](x_train[keep], x_train[take], x_test)
    dataset = load_dataset("x-vs-o", validation_split=0.2, seed=2, normalization="standardize", permute_pixels=11)
    expected, labels = dataset.arrays("validation")
    np.testing.assert_array_equal(y_train[take], labels)
    np.testing.assert_allclose(x_val, expected, atol=1e-5)


def test_networks_with_errors_are_refused_naming_the_problem():
    project = load_template("lenet5")
    project.network.nodes["conv2"].params["kernel_size"] = 50
    with pytest.raises(UserError, match="cannot be turned into code: conv2: kernel 50x50"):
        generate_model_code(project.network, project.name)
    with pytest.raises(UserError, match="conv2"):
        generate_script(project.network, name=project.name, dataset=project.dataset, training=project.training)


def test_generating_code_imports_no_tensorflow():
    probe = (
        "import sys\n"
        "from cnnstudio.core.templates import TEMPLATE_NAMES, load_template\n"
        "from cnnstudio.ml.codegen import generate_model_code, generate_script\n"
        "for name in TEMPLATE_NAMES:\n"
        "    p = load_template(name)\n"
        "    generate_model_code(p.network, p.name)\n"
        "    generate_script(p.network, name=p.name, dataset=p.dataset, training=p.training)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lenet5_script_trains_and_prints_its_test_accuracy(tmp_path):
    project = load_template("lenet5")
    script = tmp_path / "train_lenet5.py"
    script.write_text(generate_script(project.network, name=project.name, dataset=project.dataset,
                                      training=project.training))
    result = subprocess.run([sys.executable, str(script), "--epochs", "1", "--limit", "512", "--save",
                             str(tmp_path / "trained.keras")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "512 training, 800 validation and 2000 test images" in result.stdout
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert 0.2 < accuracy <= 1.0  # ten classes: far above guessing after one short epoch
    assert (tmp_path / "trained.keras").stat().st_size > 100_000


def test_names_and_paths_never_become_code():
    """A project name or data path crafted to close the docstring stays text in both outputs."""
    import ast

    project = load_template("mlp")
    hostile = 'evil""" + __import__("os").system("touch pwned") + """\\'
    project.dataset["name"] = 'npz:/tmp/x"""; import os; os.system("touch pwned"); """.npz'
    for code in (generate_model_code(project.network, hostile),
                 generate_script(project.network, name=hostile, dataset=project.dataset, training=project.training)):
        tree = ast.parse(code)
        assert isinstance(tree.body[0], ast.Expr) and "evil" in tree.body[0].value.value
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "system"]
        assert calls == []


def test_the_app_and_the_exported_script_train_to_the_same_weights(tmp_path):
    """Same project, same seed: the app's trainer and the standalone script end with the same weights
    (plateau rule and early stopping on, as both run the same training code)."""
    import keras

    from cnnstudio.ml.trainer import Trainer
    from tests.ml.test_trainer import tiny_project, write_quadrants

    project = tiny_project("npz:" + str(write_quadrants(tmp_path)), epochs=3, schedule="plateau",
                           schedule_params={"patience": 1}, early_stopping=2, class_weight="balanced")
    script = tmp_path / "train_tiny.py"
    script.write_text(generate_script(project.network, name=project.name, dataset=project.dataset,
                                      training=project.training))
    child = start_script(script, "--save", str(tmp_path / "script.keras"))
    try:
        trainer = Trainer(project)
        trainer.run()
    finally:
        result = finish_script(child)
    assert result.returncode == 0, result.stderr[-2000:]
    scripted = keras.models.load_model(tmp_path / "script.keras")
    for mine, theirs in zip(trainer.model.get_weights(), scripted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_script_draws_the_same_shapes_and_masks_as_cnnstudio():
    from cnnstudio.core.drawn_shapes import draw_shapes

    project = load_template("unet-mini")
    project.training["seed"] = 4
    script = script_namespace(project)
    assert script["TASK"] == "segmentation" and script["NUM_CLASSES"] == 4
    (x_train, y_train), (x_test, y_test) = script["load_data"]()
    expected_train = draw_shapes(2000, np.random.default_rng([4, 1]))
    expected_test = draw_shapes(500, np.random.default_rng([0x7E57, 2]))
    for got, expected in zip((x_train, y_train, x_test, y_test), (*expected_train, *expected_test), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("options", [{}, {"permute_pixels": 3, "image_size": [12, 12]}])
def test_script_prepares_the_same_pictures_and_masks_as_cnnstudio(tmp_path, options):
    from cnnstudio.ml.data import load_dataset
    from tests.task_data import segmentation_project, write_segmentation_npz

    data = "npz:" + str(write_segmentation_npz(tmp_path))
    shape = (12, 12, 1) if options else (16, 16, 1)
    project = segmentation_project(data, shape=shape, seed=5)
    project.dataset.update(options)
    script = script_namespace(project)
    (x_train, y_train), (x_test, _) = script["load_data"]()
    keep, take = script["stratified_split"](script["strata"](y_train), 0.2, 5)
    _, x_val, _ = script["prepare"](x_train[keep], x_train[take], x_test)
    y_val = script["prepare_masks"](script["as_targets"](y_train)[take])
    dataset = load_dataset(data, validation_split=0.2, seed=5, **options)
    expected, masks = dataset.arrays("validation")
    np.testing.assert_allclose(x_val, expected, atol=1e-5)
    np.testing.assert_array_equal(y_val, masks)


def test_script_reads_a_folder_of_pictures_and_masks_as_cnnstudio_does(tmp_path):
    from cnnstudio.ml.data import load_dataset
    from tests.task_data import segmentation_project, write_segmentation_folder

    data = write_segmentation_folder(tmp_path / "blobs")
    project = segmentation_project(f"folder:{data}")
    script = script_namespace(project)
    (x_train, y_train), (x_test, y_test) = script["load_data"]()
    keep, take = script["stratified_split"](script["strata"](y_train), 0.2, 0)
    dataset = load_dataset(f"folder:{data}", validation_split=0.2, seed=0)
    for split, x, y in (("train", x_train[keep], y_train[keep]), ("validation", x_train[take], y_train[take]),
                        ("test", x_test, y_test)):
        images, masks = dataset.arrays(split)
        np.testing.assert_allclose(script["prepare"](x, x[:0], x[:0])[0], images, atol=1e-6)
        np.testing.assert_array_equal(script["as_targets"](y), masks)


def _same_seed_project(kind: str, folder: Path):
    from tests.task_data import (
        dense_project,
        segmentation_project,
        write_multilabel_npz,
        write_regression_npz,
        write_segmentation_npz,
    )

    rules = {"epochs": 3, "schedule": "plateau", "schedule_params": {"patience": 1}, "early_stopping": 2}
    if kind == "segmentation":
        return segmentation_project("npz:" + str(write_segmentation_npz(folder)), **rules)
    if kind == "regression":
        return dense_project("npz:" + str(write_regression_npz(folder)), 2, None, **rules)
    return dense_project("npz:" + str(write_multilabel_npz(folder)), 3, "sigmoid", **rules)


@pytest.mark.parametrize("kind", ["segmentation", "regression", "multilabel"])
def test_the_app_and_the_exported_script_train_every_task_to_the_same_weights(tmp_path, kind):
    """Same project, same seed: the trainer and the standalone script learn masks, values or 0/1 labels with the
    same loss, metrics and rules, and end with the same weights and test figures."""
    import keras

    from cnnstudio.ml.trainer import Trainer

    project = _same_seed_project(kind, tmp_path)
    script = tmp_path / "train_task.py"
    script.write_text(generate_script(project.network, name=project.name, dataset=project.dataset,
                                      training=project.training))
    child = start_script(script, "--save", str(tmp_path / "script.keras"))
    try:
        trainer = Trainer(project)
        result = trainer.run()
    finally:
        completed = finish_script(child)
    assert result.task == kind
    assert completed.returncode == 0, completed.stderr[-2000:]
    scripted = keras.models.load_model(tmp_path / "script.keras")
    for mine, theirs in zip(trainer.model.get_weights(), scripted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    name, value = next(iter(result.test_metrics.items()))
    printed = float(re.search(rf"test {name}: ([0-9.]+)", completed.stdout).group(1))
    assert printed == pytest.approx(value, abs=1e-4)
