"""Strategies: TF_CONFIG and the chief; mirrored over two CPU devices; two workers on localhost.

The mirrored and multi-worker checks run in fresh processes: logical devices and
collective ops must be set up before TensorFlow starts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import save_project
from cnnstudio.ml import distribute
from tests.ml.test_trainer import tiny_project, write_quadrants

ROOT = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT), **extra)
    return env


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# ---------------------------------------------------------------------- TF_CONFIG (no TensorFlow)


def test_chief_is_worker_zero_or_the_chief_task():
    two = {"TF_CONFIG": tf_config([1, 2], 0)}
    assert distribute.cluster_task(two).is_chief and distribute.cluster_task(two).num_workers == 2
    assert not distribute.cluster_task({"TF_CONFIG": tf_config([1, 2], 1)}).is_chief
    with_chief = json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:1"]},
                             "task": {"type": "worker", "index": 0}})
    assert not distribute.cluster_task({"TF_CONFIG": with_chief}).is_chief
    assert distribute.cluster_task({}).is_chief  # a lone process


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ('{"cluster": {"worker": ["a:1"]}}', 'needs a "cluster" object and a "task"'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "is not in its cluster"),
])
def test_bad_tf_config_is_explained(text, words):
    with pytest.raises(UserError, match=words):
        distribute.cluster_task({"TF_CONFIG": text})


def test_multi_worker_without_tf_config_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="needs the TF_CONFIG environment variable"):
        distribute.make_strategy("multi-worker")
    with pytest.raises(UserError, match="unknown strategy"):
        distribute.make_strategy("tpu")


# ---------------------------------------------------------------------- in fresh processes

MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from cnnstudio.core.project import load_project
    from cnnstudio.ml.trainer import Trainer
    trainer = Trainer(load_project(sys.argv[1]), strategy="mirrored")
    result = trainer.run()
    print(json.dumps({"replicas": trainer.strategy.num_replicas_in_sync, "test_loss": result.test_loss,
                      "losses": [e.loss for e in result.history]}))
""")


def test_mirrored_over_two_cpu_devices_matches_one_device(tmp_path):
    from cnnstudio.ml.trainer import Trainer

    project = tiny_project("npz:" + str(write_quadrants(tmp_path)), epochs=1, batch_size=32)
    save_project(project, tmp_path / "tiny.cnnproj")
    child = subprocess.Popen([sys.executable, "-c", MIRRORED, str(tmp_path / "tiny.cnnproj")], cwd=tmp_path,
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        one_device = Trainer(project).run()  # meanwhile, here, on the default strategy
        out, err = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err[-3000:]
    mirrored = json.loads(out.strip().splitlines()[-1])
    assert mirrored["replicas"] == 2
    # Each replica takes half of every batch; the summed gradients equal one device's.
    assert mirrored["losses"] == pytest.approx([e.loss for e in one_device.history], rel=1e-5)
    assert mirrored["test_loss"] == pytest.approx(one_device.test_loss, rel=1e-5)


# `cnnstudio train` as a worker runs it, telling the test its final weights (a sum per array)
# and epoch losses in a file: evaluation is all-reduced, so equal test losses alone would not
# show that the workers hold the same model.
WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from cnnstudio.cli import main
    from cnnstudio.ml.trainer import Trainer

    def run_and_tell(trainer, run=Trainer.run):
        result = run(trainer)
        weights = [float(np.sum(np.abs(w), dtype=np.float64)) for w in trainer.model.get_weights()]
        with open(sys.argv[1], "w") as out:
            json.dump({"weights": weights, "losses": [e.loss for e in result.history]}, out)
        return result

    Trainer.run = run_and_tell
    sys.exit(main(sys.argv[2:]))
""")


def test_two_workers_train_together_and_only_the_chief_keeps_a_record(tmp_path):
    project = tiny_project("npz:" + str(write_quadrants(tmp_path)), epochs=1, batch_size=32)
    save_project(project, tmp_path / "tiny.cnnproj")
    ports = free_ports(2)
    run = tmp_path / "run"
    workers = []
    for index in range(2):
        home = tmp_path / f"worker{index}"
        home.mkdir()
        command = [sys.executable, "-c", WORKER, str(tmp_path / f"told{index}.json"), "train",
                   str(tmp_path / "tiny.cnnproj"), "--strategy", "multi-worker", "--run-dir", str(run), "--json"]
        workers.append(subprocess.Popen(command, cwd=home, env=child_env(TF_CONFIG=tf_config(ports, index)),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=240)
            assert worker.returncode == 0, err[-3000:]
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    chief, other = outputs
    told = [json.loads((tmp_path / f"told{i}.json").read_text()) for i in range(2)]
    assert told[0]["weights"] == pytest.approx(told[1]["weights"], rel=1e-6)  # one model, kept in step
    assert told[0]["losses"] == pytest.approx(told[1]["losses"], rel=1e-6) and told[0]["losses"][0] > 0
    assert chief["test_loss"] == pytest.approx(other["test_loss"], rel=1e-6)
    assert chief["epochs"] == other["epochs"] == 1
    assert chief["run_dir"] == str(run) and other["run_dir"] is None
    assert (run / "model.keras").is_file() and (run / "metrics.csv").read_text().count("\n") == 2
    info = json.loads((run / "run.json").read_text())
    assert info["strategy"]["name"] == "multi-worker" and info["strategy"]["workers"] == 2
    assert not any(any((tmp_path / f"worker{i}").iterdir()) for i in range(2))  # nothing written elsewhere
