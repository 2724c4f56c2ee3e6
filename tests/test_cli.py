"""The command line contract: summary, new, templates, datasets, exit statuses."""

import json
import subprocess
import sys

import pytest

from cnnstudio.cli import main
from cnnstudio.core.templates import TEMPLATE_NAMES


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_json_for_lenet5_is_exact(capsys):
    code, out, _ = run(capsys, "summary", "lenet5", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "LeNet-5"
    assert data["total_params"] == 61706 == data["trainable_params"]
    assert data["non_trainable_params"] == 0
    assert data["layers"][1] == {"id": "conv1", "type": "Conv2D", "output_shape": [28, 28, 6],
                                 "weights": 150, "biases": 6, "params": 156, "receptive_field": [5, 5],
                                 "trainable": True, "block": None}  # the last two: additions of version 2
    assert data["layers"][5]["receptive_field"] is None


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_summary_table_for_every_template(capsys, name):
    code, out, _ = run(capsys, "summary", name)
    assert code == 0
    assert "Total params:" in out and "receptive field" in out


def test_new_then_summary_of_the_file(capsys, tmp_path):
    out_file = tmp_path / "mine.cnnproj"
    assert run(capsys, "new", "mlp", "--out", str(out_file))[0] == 0
    code, out, _ = run(capsys, "summary", str(out_file), "--json")
    assert json.loads(out)["total_params"] == 669706
    code, _, err = run(capsys, "new", "mlp", "--out", str(out_file))
    assert code == 2 and err.startswith("error: ") and "already exists" in err


def test_templates_and_datasets_are_listed(capsys):
    code, out, _ = run(capsys, "templates")
    assert code == 0 and all(name in out for name in TEMPLATE_NAMES)
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and "mnist-sample" in out and "stripes" in out


def test_impossible_network_exits_2_naming_file_and_node(capsys, tmp_path):
    data = json.loads(subprocess_free_template("lenet5"))
    data["network"]["nodes"][0]["params"]["shape"] = [3, 3, 1]
    path = tmp_path / "tiny.cnnproj"
    path.write_text(json.dumps(data))
    code, out, err = run(capsys, "summary", str(path))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: tiny.cnnproj: node 'conv2': kernel 5x5 does not fit a 1x1 input")


def _project_file(tmp_path, name, nodes, edges, dataset="mnist-sample"):
    data = json.loads(subprocess_free_template("lenet5"))
    data["name"] = name
    data["network"] = {"nodes": nodes, "edges": edges}
    data["dataset"]["name"] = dataset
    path = tmp_path / f"{name}.cnnproj"
    path.write_text(json.dumps(data))
    return path


def test_the_homework_network_summarizes_to_32x32x8_and_608_with_a_data_fit_warning(capsys, tmp_path):
    path = _project_file(tmp_path, "homework", [
        {"id": "image", "type": "Input", "params": {"shape": [64, 64, 3]}},
        {"id": "conv", "type": "Conv2D", "params": {"filters": 8, "kernel_size": 5, "strides": 2,
                                                      "padding": "same"}},
    ], [["image", "conv"]])
    code, out, err = run(capsys, "summary", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["layers"][1]["output_shape"] == [32, 32, 8] and data["total_params"] == 608
    (line,) = err.splitlines()
    assert line.startswith("warning: conv: a classifier's output must be a flat vector")
    assert "does not fit the dataset 'mnist-sample': training refuses it" in line
    code, out, err = run(capsys, "summary", str(path))
    assert code == 0 and "32x32x8" in out and "Total params: 608" in out and err.startswith("warning: ")


def test_summary_of_two_inputs_and_two_outputs_that_are_not_class_vectors(capsys, tmp_path):
    path = _project_file(tmp_path, "two-by-two", [
        {"id": "image", "type": "Input", "params": {"shape": [16, 16, 3]}},
        {"id": "extra", "type": "Input", "params": {"shape": [4]}},
        {"id": "mask", "type": "Conv2D", "params": {"filters": 2, "kernel_size": 3, "padding": "same"}},
        {"id": "value", "type": "Dense", "params": {"units": 1}},
    ], [["image", "mask"], ["extra", "value"]], dataset="npz:nowhere.npz")
    code, out, err = run(capsys, "summary", str(path), "--json")
    assert code == 0 and err == ""
    assert [layer["output_shape"] for layer in json.loads(out)["layers"]] == [[16, 16, 3], [4], [16, 16, 2], [1]]


def subprocess_free_template(name):
    from cnnstudio.core.templates import template_path

    return template_path(name).read_text()


@pytest.mark.parametrize("argv, expected", [
    (["summary", "nope.cnnproj"], "no such project file"),
    (["summary", "not-a-template"], "neither a project file nor a template"),
    (["summary"], "the following arguments are required"),
    (["frobnicate", "x"], "unknown command"),
    (["new", "nothing", "--out", "x.cnnproj"], "no template named 'nothing'"),
])
def test_bad_input_gives_one_error_line_and_status_2(capsys, argv, expected):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err
    assert "Traceback" not in err


def test_summary_does_not_import_tensorflow_and_module_entry_point_works():
    code = (
        "import sys; from cnnstudio.cli import main; rc = main(['summary', 'resnet-mini', '--json']);"
        "assert rc == 0; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported';"
        "assert 'PySide6' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "summary", "lenet5", "--json"],
                            capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1])["total_params"] == 61706


def test_train_still_refuses_a_network_that_does_not_fit_its_data(capsys, tmp_path):
    path = _project_file(tmp_path, "homework", [
        {"id": "image", "type": "Input", "params": {"shape": [28, 28, 1]}},
        {"id": "conv", "type": "Conv2D", "params": {"filters": 8, "kernel_size": 5, "strides": 2,
                                                      "padding": "same"}},
    ], [["image", "conv"]])
    code, _, err = run(capsys, "train", str(path), "--epochs", "1", "--run-dir", str(tmp_path / "run"))
    assert code == 2 and err.count("error:") == 1
    assert "node 'conv': a classifier's output must be a flat vector" in err


def test_new_into_a_missing_folder_is_a_clear_error(capsys, tmp_path):
    code, _, err = run(capsys, "new", "lenet5", "--out", str(tmp_path / "nowhere" / "p.cnnproj"))
    assert code == 2 and err.count("\n") == 1 and "no such folder" in err


def test_new_into_a_folder_without_write_permission_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    code, _, err = run(capsys, "new", "lenet5", "--out", str(tmp_path / "p.cnnproj"))
    assert code == 2 and "no permission to write in this folder" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("errno_name, expected", [("ENOSPC", "the disk is full"), ("EROFS", "the disk is read-only"),
                                                  ("EACCES", "there is no permission to write there")])
def test_new_on_a_full_or_read_only_disk_is_a_clear_error_and_leaves_nothing(capsys, tmp_path, monkeypatch,
                                                                              errno_name, expected):
    import errno
    import os

    def failing_replace(src, dst):
        raise OSError(getattr(errno, errno_name), os.strerror(getattr(errno, errno_name)))

    monkeypatch.setattr(os, "replace", failing_replace)
    code, _, err = run(capsys, "new", "lenet5", "--out", str(tmp_path / "p.cnnproj"))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: could not write the project to ")
    assert expected in err
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_fuzz_mutated_project_files_never_give_an_internal_error(tmp_path_factory):
    """summary of a damaged file: a table (0) or one error line (2), never an internal fault (1)."""
    import contextlib
    import io

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.core.test_project import ALL_PATHS, LENET, _json_values

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(ALL_PATHS), _json_values())
    def check(path, value):
        data = json.loads(json.dumps(LENET))
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        file = tmp_path_factory.mktemp("fuzz") / "f.cnnproj"
        file.write_text(json.dumps(data))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["summary", str(file), "--json"])
        assert code in (0, 2), err.getvalue()
        if code == 2:
            assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("error: ")

    check()
