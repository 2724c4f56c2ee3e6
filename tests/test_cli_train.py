"""`cnnstudio train`: the JSON line, the run directory, bad input (exit 2), and a killed run resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.project import save_project
from tests.ml.test_trainer import quadrant_arrays, tiny_project, write_quadrants

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


run_cli = run


@pytest.fixture(scope="module")
def project_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    path = folder / "quads.cnnproj"
    save_project(tiny_project("npz:" + str(write_quadrants(folder))), path)
    return path


def test_train_json_is_the_last_stdout_line(project_file, tmp_path, capsys):
    before = project_file.read_bytes()
    code, out, err = run(capsys, "train", str(project_file), "--epochs", "1", "--batch-size", "32",
                         "--run-dir", str(tmp_path / "run"), "--json")
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result) >= {"test_loss", "test_accuracy", "epochs", "seconds", "run_dir"}
    assert result["epochs"] == 1 and 0 <= result["test_accuracy"] <= 1 and result["seconds"] > 0
    assert result["run_dir"] == str(tmp_path / "run") and (tmp_path / "run" / "model.keras").is_file()
    assert "epoch 1/1 [" in err and "test accuracy" in err and "Traceback" not in err
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["settings"]["batch_size"] == 32 and info["settings"]["epochs"] == 1
    assert project_file.read_bytes() == before  # the input is never changed


def test_default_run_directory_is_beside_the_project(project_file, capsys):
    code, out, _ = run(capsys, "train", str(project_file), "--epochs", "1", "--json")
    assert code == 0
    run_dir = Path(json.loads(out.strip().splitlines()[-1])["run_dir"])
    assert run_dir.parent == project_file.parent / "runs" and run_dir.name.startswith("quads-")
    assert (run_dir / "metrics.csv").is_file()


def test_initial_weights_start_from_an_earlier_run(project_file, tmp_path, capsys):
    code, _, _ = run(capsys, "train", str(project_file), "--epochs", "1", "--run-dir", str(tmp_path / "first"))
    assert code == 0
    code, out, err = run(capsys, "train", str(project_file), "--epochs", "1", "--run-dir", str(tmp_path / "again"),
                         "--initial-weights", str(tmp_path / "first" / "model.keras"), "--json")
    assert code == 0 and "started from the weights of run first: 2 of 2 layers" in err
    info = json.loads((tmp_path / "again" / "run.json").read_text())
    assert info["initial_weights"]["layers_taken"] == 2 and json.loads(out.splitlines()[-1])["epochs"] == 1


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv, words", [
    (["lenet5", "--dataset", "imagenet"], ["unknown dataset 'imagenet'", "mnist-sample"]),
    (["lenet5", "--dataset", "cifar10"], ["28x28x1", "32x32x3", "set the Input shape to [32, 32, 3]"]),
    (["lenet5", "--epochs", "0"], ["--epochs is 0"]),
    (["lenet5", "--strategy", "multi-worker"], ["TF_CONFIG"]),
    (["lenet5", "--initial-weights", "missing.keras"], ["missing.keras: no such file"]),
])
def test_bad_input_exits_2_with_one_error_line(capsys, monkeypatch, argv, words):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code, out, err = run(capsys, "train", *argv)
    assert code == 2 and out == ""
    line = _one_error_line(err)
    for word in words:
        assert word in line


def test_folder_problems_exit_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", "lenet5", "--dataset", f"folder:{empty}")
    assert code == 2 and "has no subfolders" in _one_error_line(err)
    (empty / "cats").mkdir()
    code, _, err = run(capsys, "train", "lenet5", "--dataset", f"folder:{empty}")
    assert code == 2 and "only one class" in _one_error_line(err)


def test_labels_outputs_mismatch_and_too_large_exit_2(tmp_path, capsys):
    npz = "npz:" + str(write_quadrants(tmp_path))
    save_project(tiny_project(npz, units=10), tmp_path / "ten.cnnproj")
    code, _, err = run(capsys, "train", str(tmp_path / "ten.cnnproj"))
    assert code == 2 and "4 classes" in _one_error_line(err) and "'out'" in err
    huge = tiny_project(npz)
    for name in ("wide1", "wide2"):
        huge.network.add_node("Dense", {"units": 1_000_000}, node_id=name)
    huge.network.disconnect("flat", "out")
    for src, dst in (("flat", "wide1"), ("wide1", "wide2"), ("wide2", "out")):
        huge.network.connect(src, dst)
    save_project(huge, tmp_path / "huge.cnnproj")
    code, _, err = run(capsys, "train", str(tmp_path / "huge.cnnproj"))
    assert code == 2 and "too large to train here" in _one_error_line(err) and "GB" in err
    assert not (tmp_path / "runs").exists()  # refused before anything was written


def test_disk_full_exits_2_and_keeps_what_was_saved(project_file, tmp_path, capsys, monkeypatch):
    import errno

    from cnnstudio.core import files
    from cnnstudio.ml.training import checkpoints

    real = files.atomic_write_bytes

    def atomic_write_bytes(path, data, durable=True):
        if path.name == "last.npz" and (path.parent / "last.npz").exists():
            raise OSError(errno.ENOSPC, "No space left on device")  # full after the first epoch's checkpoint
        real(path, data, durable=durable)

    monkeypatch.setattr(files, "atomic_write_bytes", atomic_write_bytes)
    code, out, err = run(capsys, "train", str(project_file), "--epochs", "3", "--run-dir", str(tmp_path / "run"),
                         "--json")
    assert code == 2 and out == ""
    line = _one_error_line(err.strip().splitlines()[-1])
    assert "the disk is full" in line and "resume" in line
    assert checkpoints.Checkpoints(tmp_path / "run" / "checkpoints").load_state()["epoch"] == 1


def test_killed_mid_epoch_resumes_losing_at_most_one_epoch(tmp_path, capsys):
    x, y = quadrant_arrays(4000, 3)
    xt, yt = quadrant_arrays(200, 4)
    np.savez(tmp_path / "many.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    project = tmp_path / "many.cnnproj"
    save_project(tiny_project(f"npz:{tmp_path / 'many.npz'}", epochs=4, batch_size=8), project)
    run_dir = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "cnnstudio", "train", str(project), "--run-dir", str(run_dir)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        metrics = run_dir / "metrics.csv"
        deadline = time.monotonic() + 180
        while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 2):
            assert child.poll() is None and time.monotonic() < deadline, "training ended before it was killed"
            time.sleep(0.05)
        time.sleep(0.3)  # well into the next epoch
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    done = len(metrics.read_text().splitlines()) - 1
    assert 1 <= done < 4
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"  # whole, not half-written
    code, out, err = run(capsys, "train", str(project), "--run-dir", str(run_dir), "--json")
    assert code == 0 and f"after epoch {done} of 4" in err
    assert json.loads(out.strip().splitlines()[-1])["epochs"] == 4
    rows = metrics.read_text().splitlines()
    assert rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and [r.split(",")[0] for r in rows[1:]] == \
        ["1", "2", "3", "4"]


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs: a real disk that can fill up (mounting needs root, as tests and CI run here)."""
    import shutil

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small disk here ({done.stderr.decode().strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def test_a_disk_that_fills_up_is_an_error_naming_the_space_and_the_run_resumes(small_disk, tmp_path, capsys):
    """A real full disk: every file under its final name stays whole, run.json says interrupted,
    and after space is freed the same command goes on from the last whole checkpoint."""
    import shutil

    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
    from cnnstudio.ml.training.checkpoints import Checkpoints

    project = tiny_project("npz:" + str(write_quadrants(tmp_path)), epochs=3)
    filler = small_disk / "filler"

    def fill_after_first(report):
        if report.epoch == 1:  # leave one page: small files still fit, the next checkpoint does not
            trainer.record.wait_for_writes()  # epoch 1's files are written beside training: let them land
            free = shutil.disk_usage(small_disk).free
            with open(filler, "wb") as handle:
                handle.write(b"\0" * max(0, free - 4096))

    run = small_disk / "run"
    trainer = Trainer(project, run_dir=run, callbacks=TrainingCallbacks(on_epoch=fill_after_first))
    with pytest.raises(Exception) as caught:
        trainer.run()
    message = str(caught.value)
    assert type(caught.value).__name__ == "UserError", message
    assert "the disk is full: it needs about" in message and "KiB free" in message and "resume" in message
    assert not list(run.rglob(".*.tmp")) and not list(run.rglob(".*.keras"))  # no half-written file
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and "disk is full" in info["message"]
    assert Checkpoints(run / "checkpoints").load_state()["epoch"] == 1
    filler.unlink()  # the user frees some space and runs the same command again
    save_project(project, tmp_path / "tiny.cnnproj")
    code, out, err = run_cli(capsys, "train", str(tmp_path / "tiny.cnnproj"), "--run-dir", str(run), "--json")
    assert code == 0 and "after epoch 1 of 3" in err
    assert json.loads(out.strip().splitlines()[-1])["epochs"] == 3


def test_json_is_strict_and_a_nan_in_the_first_epoch_still_leaves_metrics_csv(tmp_path, capsys):
    x, y = quadrant_arrays(320, 1)
    x[::2] = 3e38  # half the images overflow the network: the loss is NaN from the first batches
    xt, yt = quadrant_arrays(40, 2)
    np.savez(tmp_path / "poisoned.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    save_project(tiny_project(f"npz:{tmp_path / 'poisoned.npz'}", epochs=2, normalization="none"),
                 tmp_path / "poisoned.cnnproj")
    code, out, err = run_cli(capsys, "train", str(tmp_path / "poisoned.cnnproj"), "--run-dir",
                             str(tmp_path / "run"), "--json")
    assert code == 0 and "NaN" in err
    result = json.loads(out.strip().splitlines()[-1], parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert result["stopped_reason"] == "diverged" and result["epochs"] == 0
    assert (tmp_path / "run" / "metrics.csv").read_text().splitlines() == ["epoch,loss,accuracy,val_loss,val_accuracy"]
