"""Exports never remove what CNN Studio did not write, refuse bad destinations and inputs in one line,
and work for networks of every form: several inputs and outputs, per-pixel maps, augmentation, deep chains."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.errors import UserError
from cnnstudio.core.templates import load_template, template_path
from cnnstudio.ml import export as ml_export
from cnnstudio.ml.export import MARKER, export_model, predict_file, sample_inputs

FILE_FORMATS = {"keras": "m.keras", "tflite": "m.tflite", "onnx": "m.onnx"}
ALL_FORMATS = {**FILE_FORMATS, "savedmodel": "m_savedmodel"}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def small_model() -> keras.Model:
    x = keras.Input((6, 6, 1), name="image")
    y = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(x)
    y = keras.layers.Flatten(name="flat")(y)
    return keras.Model(x, keras.layers.Dense(3, activation="softmax", name="out")(y), name="small")


def two_in_two_out() -> keras.Model:
    image = keras.Input((8, 8, 1), name="image")
    extra = keras.Input((4,), name="extra")
    x = keras.layers.Flatten(name="flat")(keras.layers.Conv2D(3, 3, name="conv")(image))
    joined = keras.layers.Concatenate(name="joined")([x, keras.layers.Dense(5, name="side")(extra)])
    classes = keras.layers.Dense(3, activation="softmax", name="classes")(joined)
    value = keras.layers.Dense(1, name="value")(joined)
    return keras.Model([image, extra], [classes, value], name="two_by_two")


def unet_mini() -> keras.Model:
    """A small U-Net: its output is a per-pixel map of class scores, not a class vector."""
    x = keras.Input((16, 16, 1), name="image")
    down = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="down")(x)
    pooled = keras.layers.MaxPooling2D(name="pool")(down)
    middle = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="middle")(pooled)
    up = keras.layers.UpSampling2D(name="up")(middle)
    joined = keras.layers.Concatenate(name="skip")([up, down])
    out = keras.layers.Conv2D(3, 1, activation="softmax", name="mask")(joined)
    return keras.Model(x, out, name="unet_mini")


# ---------------------------------------------------------------- never lose a user's files


def test_savedmodel_export_refuses_a_folder_holding_other_files_and_keeps_them(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    code, _, err = run(capsys, "export", "lenet5", "--format", "savedmodel", "--out", folder)
    assert code == 2 and err.count("\n") == 1
    assert "holds other files, not a SavedModel CNN Studio wrote; nothing in it is replaced" in err
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"] and (folder / "thesis.tex").read_text() == "years of work"


def test_savedmodel_export_into_the_folder_holding_the_project_is_refused(tmp_path, capsys, monkeypatch):
    project = tmp_path / "lenet.cnnproj"
    project.write_text(template_path("lenet5").read_text())
    monkeypatch.chdir(tmp_path)
    for out in (tmp_path, "."):
        code, _, err = run(capsys, "export", project, "--format", "savedmodel", "--out", out)
        assert code == 2 and "a folder holding the input" in err and err.count("\n") == 1
    assert project.read_text() == template_path("lenet5").read_text()


def test_savedmodel_export_of_a_run_into_its_runs_folder_deletes_nothing(tmp_path, capsys):
    runs = tmp_path / "runs"
    run_dir = runs / "r1"
    keras_file = run_dir / "model.keras"
    run_dir.mkdir(parents=True)
    small_model().save(keras_file)
    (run_dir / "run.json").write_text("{}")
    (run_dir / "project.cnnproj").write_text(template_path("lenet5").read_text())
    (runs / "r2").mkdir()
    (runs / "r2" / "run.json").write_text("{}")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for out in (runs, run_dir, run_dir / "exported"):
        code, _, err = run(capsys, "export", run_dir, "--format", "savedmodel", "--out", out)
        assert code == 2 and ("holding the input" in err or "inside" in err or "is the input" in err)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_savedmodel_cnn_studio_wrote_is_replaced_and_an_empty_folder_is_used(tmp_path):
    model = small_model()
    out = tmp_path / "exported"
    out.mkdir()
    export_model(model, "savedmodel", out)  # an empty folder may be used
    assert json.loads((out / MARKER).read_text())["format"] == "savedmodel"
    export_model(model, "savedmodel", out)  # ours: replaced
    assert (out / "saved_model.pb").is_file()
    (out / "notes.txt").write_text("added by the user")
    with pytest.raises(UserError, match="holds other files"):
        export_model(model, "savedmodel", out)
    assert (out / "notes.txt").read_text() == "added by the user"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exported"]  # no temporary folders left


def test_export_into_an_unwritable_or_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    model = small_model()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(tmp_path) else real_access(path, mode))
    with pytest.raises(UserError, match="no permission to write in this folder"):
        export_model(model, "onnx", tmp_path / "m.onnx")
    monkeypatch.setattr(os, "access", real_access)

    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(UserError, match=r"could not write the keras export to .*m.keras: the disk is read-only"):
        export_model(model, "keras", tmp_path / "m.keras")
    assert list(tmp_path.iterdir()) == []


def test_export_with_out_dot_is_refused_without_touching_the_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    for fmt in ("onnx", "savedmodel", "python"):
        code, _, err = run(capsys, "export", "lenet5", "--format", fmt, "--out", ".")
        assert code == 2 and err.count("\n") == 1 and ("is a folder" in err or "holds other files" in err)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


# ---------------------------------------------------------------- networks of every form


@pytest.mark.parametrize("fmt", list(ALL_FORMATS))
def test_two_inputs_and_two_outputs_export_in_every_format(tmp_path, fmt):
    model = two_in_two_out()
    result = export_model(model, fmt, tmp_path / ALL_FORMATS[fmt])
    assert result.outputs == 2 and "over 2 outputs" in result.describe() or result.max_abs_diff == 0
    x = sample_inputs(model, n=5, seed=3)
    got = predict_file(fmt, result.path, {"image": x[0], "extra": x[1]})
    expected = model.predict(x, verbose=0)
    assert [g.shape for g in got] == [(5, 3), (5, 1)]
    for have, want in zip(got, expected):
        assert np.max(np.abs(have - want)) <= 1e-5


@pytest.mark.parametrize("fmt", list(ALL_FORMATS))
def test_a_unet_with_a_per_pixel_output_exports_in_every_format(tmp_path, fmt):
    model = unet_mini()
    result = export_model(model, fmt, tmp_path / ALL_FORMATS[fmt])
    x = sample_inputs(model, n=3, seed=1)[0]
    got = predict_file(fmt, result.path, x)
    assert got.shape == (3, 16, 16, 3)
    assert np.max(np.abs(got - model.predict(x, verbose=0))) <= 1e-5


def test_a_unet_project_exports_as_a_python_script_that_compiles(tmp_path, capsys):
    from cnnstudio.core.network import Network
    from cnnstudio.core.project import Project, save_project

    net = Network()
    for node_id, type_name, params in (
        ("image", "Input", {"shape": [16, 16, 1]}),
        ("down", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}),
        ("pool", "MaxPooling2D", {}),
        ("up", "UpSampling2D", {}),
        ("skip", "Concatenate", {}),
        ("mask", "Conv2D", {"filters": 3, "kernel_size": 1, "activation": "softmax"}),
    ):
        net.add_node(type_name, params, node_id=node_id)
    for src, dst in (("image", "down"), ("down", "pool"), ("pool", "up"), ("up", "skip"), ("down", "skip"),
                     ("skip", "mask")):
        net.connect(src, dst)
    path = tmp_path / "unet.cnnproj"
    save_project(Project("U-Net mini", net), path)
    for fmt, name in (("onnx", "unet.onnx"), ("tflite", "unet.tflite")):
        code, _, err = run(capsys, "export", path, "--format", fmt, "--out", tmp_path / name)
        assert code == 0, err
    code, _, err = run(capsys, "export", path, "--format", "python", "--out", tmp_path / "unet.py")
    if code == 0:
        compile((tmp_path / "unet.py").read_text(), "unet.py", "exec")
    else:  # a training script needs a dataset that fits; the message says why in one line
        assert code == 2 and err.count("\n") == 1


def test_a_two_input_two_output_project_exports_as_python_that_builds_the_same_model(tmp_path, capsys):
    from cnnstudio.core.network import Network
    from cnnstudio.core.project import Project, save_project
    from cnnstudio.ml.builder import build_model

    net = Network()
    for node_id, type_name, params in (
        ("image", "Input", {"shape": [8, 8, 1]}), ("extra", "Input", {"shape": [4]}),
        ("conv", "Conv2D", {"filters": 3, "kernel_size": 3}), ("flat", "Flatten", {}),
        ("side", "Dense", {"units": 5}), ("joined", "Concatenate", {}),
        ("classes", "Dense", {"units": 3, "activation": "softmax"}), ("value", "Dense", {"units": 1}),
    ):
        net.add_node(type_name, params, node_id=node_id)
    for src, dst in (("image", "conv"), ("conv", "flat"), ("extra", "side"), ("flat", "joined"),
                     ("side", "joined"), ("joined", "classes"), ("joined", "value")):
        net.connect(src, dst)
    path = tmp_path / "two.cnnproj"
    save_project(Project("Two by two", net), path)
    code, out, err = run(capsys, "export", path, "--format", "python", "--out", tmp_path / "two.py")
    assert code == 0, err
    text = (tmp_path / "two.py").read_text()
    assert "2 input(s) and 2 output(s)" in text and "leaves its training to you" in text
    scope: dict = {}
    exec(compile(text, "two.py", "exec"), scope)  # noqa: S102 - our own generated code
    built, expected = scope["build_model"](), build_model(net, "Two by two")
    assert [tuple(t.shape) for t in built.outputs] == [tuple(t.shape) for t in expected.outputs]
    assert built.count_params() == expected.count_params()


def test_augmentation_layers_are_left_out_of_onnx_and_tflite_files(tmp_path):
    x = keras.Input((8, 8, 1), name="image")
    y = keras.layers.RandomFlip("horizontal", name="flip")(x)
    y = keras.layers.RandomRotation(0.1, name="turn")(y)
    y = keras.layers.Conv2D(2, 3, name="conv")(y)
    model = keras.Model(x, keras.layers.Dense(2, name="out")(keras.layers.Flatten(name="flat")(y)))
    for fmt, name in (("onnx", "aug.onnx"), ("tflite", "aug.tflite"), ("savedmodel", "aug_sm")):
        result = export_model(model, fmt, tmp_path / name)
        images = sample_inputs(model, n=4, seed=2)[0]
        assert np.max(np.abs(predict_file(fmt, result.path, images) - model.predict(images, verbose=0))) <= 1e-5
    assert {type(layer).__name__ for layer in keras.models.load_model(
        export_model(model, "keras", tmp_path / "aug.keras").path).layers} >= {"RandomFlip", "RandomRotation"}


def test_a_chain_deeper_than_pythons_recursion_limit_exports(tmp_path, capsys):
    """A 3,000-layer chain hit Keras's recursive graph walk; here the same at a smaller scale."""
    from cnnstudio.core.network import Network
    from cnnstudio.core.project import Project, save_project
    from cnnstudio.ml.builder import build_model

    net = Network()
    net.add_node("Input", {"shape": [4]}, node_id="input")
    previous = "input"
    for i in range(260):
        net.add_node("Dense", {"units": 4}, node_id=f"d{i}")
        net.connect(previous, f"d{i}")
        previous = f"d{i}"
    path = tmp_path / "chain.cnnproj"
    save_project(Project("chain", net), path)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # as 1,000 is for a 3,000-layer chain
    try:
        with pytest.raises(RecursionError):
            build_model(net)
        code, _, err = run(capsys, "export", path, "--format", "keras", "--out", tmp_path / "chain.keras")
    finally:
        sys.setrecursionlimit(limit)
    assert code == 0, err
    assert len(keras.models.load_model(tmp_path / "chain.keras").layers) == 261


def test_an_empty_network_is_refused_in_one_line(tmp_path, capsys):
    data = json.loads(template_path("lenet5").read_text())
    data["network"] = {"nodes": [], "edges": []}
    path = tmp_path / "empty.cnnproj"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "export", path, "--format", "onnx", "--out", tmp_path / "e.onnx")
    assert code == 2 and err == "error: the network is empty; add an Input and some layers first\n"


def test_a_model_too_big_for_memory_is_refused_before_it_is_built(tmp_path, capsys, monkeypatch):
    from cnnstudio.ml.training import memory

    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 100 * 10**6)  # 100 MB free
    data = json.loads(template_path("lenet5").read_text())
    data["network"] = {"nodes": [{"id": "x", "type": "Input", "params": {"shape": [1000]}},
                                 {"id": "wide", "type": "Dense", "params": {"units": 20000}},
                                 {"id": "out", "type": "Dense", "params": {"units": 10}}],
                       "edges": [["x", "wide"], ["wide", "out"]]}
    path = tmp_path / "wide.cnnproj"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "export", path, "--format", "keras", "--out", tmp_path / "w.keras")
    assert code == 2 and err.count("\n") == 1
    assert "too large to export here: its 20,220,010 parameters need about 0.6 GB" in err and "only 0.1 GB is free" in err
    assert not (tmp_path / "w.keras").exists()


# ---------------------------------------------------------------- the check fits real networks


def test_the_check_is_relative_to_the_output_scale_and_a_larger_difference_can_be_accepted(tmp_path, capsys,
                                                                                          monkeypatch):
    model = small_model()
    real = ml_export.predict_file

    def off_by_a_little(fmt, path, x):  # 0.2% of the output's scale: more than the default allows
        got = real(fmt, path, x)
        return got + 0.002 * np.max(np.abs(got))

    monkeypatch.setattr(ml_export, "predict_file", off_by_a_little)
    with pytest.raises(ml_export.PredictionMismatch, match="largest difference 0.002 of the output's scale.*"
                                                           "allowed 0.001.*tolerance of 0.01"):
        export_model(model, "onnx", tmp_path / "m.onnx")
    result = export_model(model, "onnx", tmp_path / "m.onnx", tolerance=0.01)
    assert abs(result.difference - 0.002) < 1e-4 and "allowed 0.01" in result.describe()
    model.save(tmp_path / "small.keras")
    code, _, err = run(capsys, "export", tmp_path / "small.keras", "--format", "onnx", "--out", tmp_path / "c.onnx")
    assert code == 2  # a .keras file is not a project


def test_cli_tolerance_is_passed_to_the_check(tmp_path, capsys, monkeypatch):
    real = ml_export.predict_file
    monkeypatch.setattr(ml_export, "predict_file", lambda fmt, path, x: real(fmt, path, x) * 1.005)
    out = tmp_path / "lenet.onnx"
    code, _, err = run(capsys, "export", "lenet5", "--format", "onnx", "--out", out)
    assert code == 2 and "--tolerance" not in err and "tolerance of 0.01" in err and not out.exists()
    code, _, err = run(capsys, "export", "lenet5", "--format", "onnx", "--out", out, "--tolerance", "0.01")
    assert code == 0 and "allowed 0.01" in err and out.exists()
    code, _, err = run(capsys, "export", "lenet5", "--format", "onnx", "--out", out, "--tolerance", "-1")
    assert code == 2 and "--tolerance is -1" in err


# ---------------------------------------------------------------- imported models keep their weights


def trained_file(tmp_path):
    model = small_model()
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    path = tmp_path / "trained.keras"
    model.save(path)
    return model, path


def test_cli_import_keeps_the_trained_weights_and_export_of_the_project_exports_them(tmp_path, capsys):
    model, path = trained_file(tmp_path)
    project = tmp_path / "imported.cnnproj"
    code, _, err = run(capsys, "import", path, "--out", project)
    assert code == 0 and "the trained weights are in the run" in err
    recorded = json.loads(project.read_text())["imported_weights"]
    assert recorded.startswith("runs/") and (tmp_path / recorded).is_file()
    code, _, err = run(capsys, "export", project, "--format", "onnx", "--out", tmp_path / "out.onnx")
    assert code == 0 and "exporting the trained weights imported into this project" in err
    x = sample_inputs(model, n=6, seed=5)[0]
    assert np.max(np.abs(predict_file("onnx", tmp_path / "out.onnx", x) - model.predict(x, verbose=0))) <= 1e-5


def test_export_of_an_imported_project_whose_network_changed_says_it_is_untrained(tmp_path, capsys):
    _, path = trained_file(tmp_path)
    project = tmp_path / "imported.cnnproj"
    assert run(capsys, "import", path, "--out", project)[0] == 0
    data = json.loads(project.read_text())
    out_node = next(n for n in data["network"]["nodes"] if n["id"] == "out")
    out_node["params"]["units"] = 5
    project.write_text(json.dumps(data))
    code, _, err = run(capsys, "export", project, "--format", "keras", "--out", tmp_path / "changed.keras")
    assert code == 0 and "weights no longer fit out" in err and "exporting the untrained network" in err


# ---------------------------------------------------------------- hostile and broken model files


def test_a_corrupt_model_file_is_called_corrupt(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    (run_dir / "project.cnnproj").write_text(template_path("lenet5").read_text())
    (run_dir / "model.keras").write_bytes(b"PK\x03\x04 this is not a zip any more")
    code, _, err = run(capsys, "export", run_dir, "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert code == 2 and "corrupt" in err and "File not found" not in err and err.count("\n") == 1


def test_a_config_that_would_inflate_to_gigabytes_is_refused_before_inflating(tmp_path, capsys):
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        with archive.open("config.json", "w", force_zip64=True) as handle:
            chunk = b" " * 2**20
            for _ in range(100):  # 100 MB of spaces: a few hundred KB compressed
                handle.write(chunk)
    assert bomb.stat().st_size < 2**20
    code, _, err = run(capsys, "import", bomb, "--out", tmp_path / "b.cnnproj")
    assert code == 2 and "config.json would inflate to 100 MB" in err


def test_a_pipe_given_as_a_model_file_is_refused(tmp_path, capsys):
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "import", fifo, "--out", tmp_path / "p.cnnproj")
    assert code == 2 and "not a regular file" in err


def test_keras_errors_of_many_lines_become_one_error_line(tmp_path, capsys, monkeypatch):
    from cnnstudio.commands import export as export_command

    def many_lines(args):
        raise UserError("cannot load the model x.keras: Could not locate class 'Custom'.\n\nMake sure the "
                        "custom classes are decorated\n    with `@keras.saving.register_keras_serializable()`")

    monkeypatch.setattr(export_command, "run", many_lines)
    code, _, err = run(capsys, "export", "lenet5", "--format", "onnx", "--out", tmp_path / "m.onnx")
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: cannot load the model x.keras")
    assert "register_keras_serializable()" in err


def test_a_project_named_with_a_nul_still_gives_a_script_that_compiles(tmp_path, capsys):
    data = json.loads(template_path("lenet5").read_text())
    data["name"] = "digits\x00\ud800 \"\"\" end\\"
    path = tmp_path / "nul.cnnproj"
    path.write_text(json.dumps(data))
    code, _, err = run(capsys, "export", path, "--format", "python", "--out", tmp_path / "nul.py")
    assert code == 0, err
    compile((tmp_path / "nul.py").read_bytes(), "nul.py", "exec")


def test_summary_into_a_closed_pipe_ends_quietly(tmp_path):
    from cnnstudio.core.network import Network
    from cnnstudio.core.project import Project, save_project

    net = Network()  # its summary (about 200 KB) is more than a pipe holds, so the write meets the closed pipe
    net.add_node("Input", {"shape": [4]}, node_id="input")
    previous = "input"
    for i in range(1500):
        net.add_node("Dense", {"units": 4 if i < 1499 else 10}, node_id=f"dense_layer_{i}")
        net.connect(previous, f"dense_layer_{i}")
        previous = f"dense_layer_{i}"
    path = tmp_path / "long.cnnproj"
    save_project(Project("long", net), path)
    command = (f"'{sys.executable}' -m cnnstudio summary '{path}' --json | head -c 200 >/dev/null; "
               "echo status ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "status 0" and done.stderr == ""


def test_an_untrained_lenet5_still_exports(tmp_path, capsys):
    code, _, err = run(capsys, "export", "lenet5", "--format", "tflite", "--out", tmp_path / "l.tflite")
    assert code == 0 and "exporting the untrained network (weights drawn with seed 0)" in err
    assert load_template("lenet5").name == "LeNet-5"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ResNet50", "InceptionV3"])
def test_real_networks_pass_the_default_check_in_onnx_and_tflite(tmp_path, name):
    """Float32 runtimes disagree by about 1e-6 of the output's scale on these (benchmarks/export_checks.py)."""
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None)
    inputs = [x * 255 for x in sample_inputs(model, n=2)]
    for fmt, file_name in (("onnx", "m.onnx"), ("tflite", "m.tflite")):
        result = export_model(model, fmt, tmp_path / file_name, inputs=inputs)
        assert result.difference <= 1e-4, (fmt, result.describe())


def test_a_project_with_an_integer_learning_rate_gets_its_optimizer():
    from cnnstudio.core.project import project_from_dict
    from cnnstudio.ml.training.callbacks import make_optimizer
    from cnnstudio.ml.training.settings import TrainingSettings

    data = json.loads(template_path("lenet5").read_text())
    data["training"]["learning_rate"] = 1
    settings = TrainingSettings.from_project(project_from_dict(data))
    optimizer = make_optimizer(settings.optimizer, settings.learning_rate)
    assert float(np.asarray(optimizer.learning_rate)) == 1.0


def test_initial_weights_from_a_file_keras_cannot_rebuild_is_one_line(tmp_path):
    from cnnstudio.ml.training.initial_weights import copy_matching_weights

    @keras.saving.register_keras_serializable(package="elsewhere")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2

    x = keras.Input((3,))
    keras.Model(x, keras.layers.Dense(2)(Doubler()(x))).save(tmp_path / "custom.keras")
    keras.saving.get_custom_objects().clear()  # as in a program that does not have the class
    with pytest.raises(UserError) as info:
        copy_matching_weights(small_model(), tmp_path / "custom.keras")
    assert "\n" not in str(info.value) and str(info.value).startswith("cannot start from the weights of")
