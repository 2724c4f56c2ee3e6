"""`cnnstudio experiment`: the grid of the issue end to end, bad keys and values (exit 2), budgets and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnstudio.cli import main
from cnnstudio.core.project import save_project
from tests.ml.test_trainer import tiny_project, write_quadrants


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def project_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    path = folder / "quads.cnnproj"
    save_project(tiny_project("npz:" + str(write_quadrants(folder)), epochs=1), path)
    return path


def test_the_lenet_grid_with_three_seeds_prints_table_verdicts_and_json(tmp_path, capsys):
    folder = tmp_path / "exp"
    code, out, err = run(capsys, "experiment", "lenet5", "--vary", "training.learning_rate=0.001,0.004",
                         "--vary", "conv1.filters=6,16", "--seeds", "3", "--epochs", "1", "--batches-per-epoch", "2",
                         "--experiment-dir", str(folder), "--json")
    assert code == 0, err
    lines = out.strip().splitlines()
    result = json.loads(lines[-1])
    assert len(result["runs"]) == 12 and sorted({r["seed"] for r in result["runs"]}) == [0, 1, 2]
    first = result["runs"][0]
    assert set(first) >= {"run_dir", "values", "seed", "test_accuracy", "test_loss", "seconds"}
    assert first["values"] == {"training.learning_rate": 0.001, "conv1.filters": 6}
    assert Path(first["run_dir"]) == folder / "run-001" and (folder / "run-001" / "model.keras").is_file()
    assert len(result["verdicts"]) == 3 and all("Welch's t-test" in v["details"] for v in result["verdicts"])
    table = "\n".join(lines[:-1])
    assert "learning_rate  conv1.filters  seed  status" in table and "verdicts:" in table
    assert result["verdicts"][0]["text"] in table and "settings, best first by test accuracy" in table
    assert "run 12/12" in err and "all 12 runs of the experiment are trained" in err and "Traceback" not in err
    saved = json.loads((folder / "experiment.json").read_text())
    assert saved["spec"]["seeds"] == 3 and all(r["status"] == "finished" for r in saved["runs"])


@pytest.mark.parametrize("argv, words", [
    (["--vary", "training.learnig_rate=0.1"], ["no training setting 'learnig_rate'", "learning_rate"]),
    (["--vary", "conv9.filters=4"], ["no layer 'conv9'", "layers: input, conv, flat, out"]),
    (["--vary", "conv.filters=4,abc"], ["with conv.filters=abc", "'filters' must be a whole number"]),
    (["--vary", "conv.kernel_size=3,9"], ["with conv.kernel_size=9"]),
    (["--vary", "training.learning_rate=-1"], ["with training.learning_rate=-1", "a number above 0"]),
    (["--vary", "dataset.name=mnist-sample"], ["with dataset.name=mnist-sample", "the data has 10 classes"]),
    (["--vary", "conv.filters"], ["write KEY=V1,V2"]),
    (["--vary", "conv.filters=2", "--seeds", "0"], ["--seeds is 0"]),
    (["--vary", "conv.filters=2", "--budget-runs", "0"], ["--budget-runs is 0"]),
    ([], ["nothing varies"]),
])
def test_bad_keys_and_values_are_one_error_line_and_train_nothing(project_file, tmp_path, capsys, argv, words):
    folder = tmp_path / "exp"
    code, out, err = run(capsys, "experiment", str(project_file), "--experiment-dir", str(folder), *argv)
    line = one_error_line(err)
    assert code == 2 and out == ""
    for word in words:
        assert word in line
    assert not folder.exists()


def test_a_budget_of_runs_then_resume_and_add_seeds(project_file, tmp_path, capsys):
    folder = tmp_path / "exp"
    code, out, err = run(capsys, "experiment", str(project_file), "--vary", "conv.filters=2,4",
                         "--budget-runs", "1", "--experiment-dir", str(folder), "--json")
    assert code == 0 and "the budget of 1 runs is spent; 1 runs are left" in err
    assert f"resume with: cnnstudio experiment {folder}" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert len(result["runs"]) == 1 and result["pending"] == 1 and result["verdicts"] == []
    code, out, err = run(capsys, "experiment", str(folder), "--seeds", "2", "--json")
    assert code == 0 and "added 2 runs" in err and "3 of 4 runs to train" in err
    result = json.loads(out.strip().splitlines()[-1])
    assert len(result["runs"]) == 4 and result["pending"] == 0 and len(result["verdicts"]) == 1
    assert [r["run_dir"] for r in result["runs"]] == [str(folder / f"run-00{i}") for i in range(1, 5)]


def test_an_explicit_list_of_settings(project_file, tmp_path, capsys):
    code, out, _ = run(capsys, "experiment", str(project_file), "--combination", "conv.filters=2",
                       "training.learning_rate=0.02", "--combination", "conv.filters=4",
                       "--experiment-dir", str(tmp_path / "exp"), "--json")
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and [r["values"] for r in result["runs"]] == [
        {"conv.filters": 2, "training.learning_rate": 0.02}, {"conv.filters": 4}]


def test_a_resumed_experiment_keeps_its_training_settings(project_file, tmp_path, capsys):
    folder = tmp_path / "exp"
    code, _, _ = run(capsys, "experiment", str(project_file), "--vary", "conv.filters=2", "--experiment-dir",
                     str(folder))
    assert code == 0
    code, _, err = run(capsys, "experiment", str(folder), "--epochs", "3")
    assert code == 2 and "--epochs cannot change an existing experiment" in one_error_line(err)
    code, _, err = run(capsys, "experiment", str(folder), "--vary", "out.units=4")
    assert code == 2 and "this experiment varies conv.filters, not out.units" in one_error_line(err)


def test_the_input_project_is_never_changed(project_file, tmp_path, capsys):
    before = project_file.read_bytes()
    code, _, _ = run(capsys, "experiment", str(project_file), "--vary", "conv.filters=3", "--epochs", "1",
                     "--experiment-dir", str(tmp_path / "exp"))
    assert code == 0 and project_file.read_bytes() == before
