"""`cnnstudio train --backend`: JAX end to end without TensorFlow, exports from its run, bad choices."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnnstudio.cli import main

ROOT = Path(__file__).resolve().parents[1]

# A machine with JAX but no TensorFlow (as the GPU machines it is proven on): importing it fails.
WITHOUT_TENSORFLOW = textwrap.dedent("""
    import importlib.abc, json, sys

    class NoTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ImportError("no TensorFlow on this machine")

    sys.meta_path.insert(0, NoTensorFlow())
    from cnnstudio.cli import main
    code = main(sys.argv[1:])
    print(json.dumps({"tensorflow_loaded": any(m.split(".")[0] == "tensorflow" for m in sys.modules)}))
    sys.exit(code)
""")


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    run = tmp_path_factory.mktemp("jax") / "run"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(run.parent), "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, "train", "lenet5", "--backend", "jax",
                           "--epochs", "1", "--run-dir", str(run), "--json"],
                          capture_output=True, text=True, cwd=run.parent, env=env, timeout=600)
    return run, done


def test_lenet5_trains_on_jax_without_tensorflow(jax_run):
    run, done = jax_run
    assert done.returncode == 0, done.stderr[-3000:]
    result, probe = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert probe == {"tensorflow_loaded": False}
    assert result["epochs"] == 1 and result["test_accuracy"] > 0.8 and result["run_dir"] == str(run)
    info = json.loads((run / "run.json").read_text())
    assert info["backend"] == "jax" and info["status"] == "finished" and "tensorflow" not in info["strategy"]
    for name in ("model.keras", "metrics.csv", "val_predictions.npz", "checkpoints/last.npz"):
        assert (run / name).is_file(), name
    assert sorted(p.parent.name for p in run.glob("logs/*/events.out.tfevents.*")) == ["train", "validation"]


def test_a_model_trained_on_jax_exports_to_savedmodel(jax_run, tmp_path, capsys):
    run, done = jax_run
    assert done.returncode == 0, done.stderr[-3000:]
    code = main(["export", str(run), "--format", "savedmodel", "--out", str(tmp_path / "saved")])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / "saved" / "saved_model.pb").is_file()


def test_a_backend_that_is_not_installed_names_the_extra(capsys, monkeypatch):
    from cnnstudio.ml import backend

    monkeypatch.setattr(backend, "installed", lambda name: name != "torch")
    code = main(["train", "lenet5", "--backend", "torch", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "pip install 'cnnstudio[torch]'" in _one_error_line(err)


def test_tf_distribute_strategies_need_the_tensorflow_backend(capsys):
    code = main(["train", "lenet5", "--backend", "jax", "--strategy", "mirrored", "--epochs", "1"])
    _, err = capsys.readouterr()
    assert code == 2 and "--strategy mirrored needs the TensorFlow backend" in _one_error_line(err)


def test_the_default_backend_is_tensorflow_or_keras_backend():
    from cnnstudio.ml.backend import default_backend

    assert default_backend({}) == "tensorflow"
    assert default_backend({"KERAS_BACKEND": "jax"}) == "jax"
    assert default_backend({"KERAS_BACKEND": "nonsense"}) == "tensorflow"


def test_the_backend_chosen_in_preferences_is_used_when_none_is_asked_for(monkeypatch, tmp_path):
    from cnnstudio.core.user_settings import BACKEND, preferred_backend, set_setting
    from cnnstudio.ml.backend import default_backend

    monkeypatch.setenv("CNNSTUDIO_CONFIG_DIR", str(tmp_path))
    assert preferred_backend() is None and default_backend({}) == "tensorflow"
    set_setting(BACKEND, "jax")
    assert json.loads((tmp_path / "settings.json").read_text())["backend"] == "jax"
    assert default_backend({}) == "jax"
    assert default_backend({"KERAS_BACKEND": "tensorflow"}) == "tensorflow"  # the environment wins
    (tmp_path / "settings.json").write_text("{not json")
    assert default_backend({}) == "tensorflow"  # an unreadable file means nothing was chosen
