"""The trainer's behaviour on the JAX backend, in a process without TensorFlow: reports, snapshots,
the same curve after a resume, NaN stops that keep good weights, stop by request."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ml.test_trainer import write_quadrants

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import importlib.abc, json, os, sys
    os.environ["KERAS_BACKEND"] = "jax"

    class NoTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ImportError("no TensorFlow here")

    sys.meta_path.insert(0, NoTensorFlow())
    import numpy as np
    from cnnstudio.ml.data.arrays import ArrayDataset
    from cnnstudio.ml.data.options import LoadOptions
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
    from tests.ml.test_trainer import quadrant_arrays, tiny_project

    npz, folder = sys.argv[1], sys.argv[2]
    told = {}
    got = {"batches": [], "epochs": [], "snapshots": []}
    reference = Trainer(tiny_project(npz), report_every=0.0, snapshot_every=0.0, snapshot_layers=["conv"],
                        callbacks=TrainingCallbacks(on_batch=got["batches"].append, on_epoch=got["epochs"].append,
                                                    on_snapshot=got["snapshots"].append)).run()
    told["reference"] = [e.loss for e in reference.history]
    told["batches"] = len(got["batches"])
    told["last_batch_is_epoch_mean"] = abs(got["batches"][15].loss - got["epochs"][0].loss) < 1e-6
    told["snapshot_weights_moved"] = not np.array_equal(got["snapshots"][0].weights["conv"][0],
                                                        got["snapshots"][-1].weights["conv"][0])

    class Crash(Exception):
        pass

    def crash(report):
        raise Crash

    try:
        Trainer(tiny_project(npz), run_dir=folder + "/run", callbacks=TrainingCallbacks(on_epoch=crash)).run()
    except Crash:
        pass
    told["resumed"] = [e.loss for e in Trainer(tiny_project(npz), run_dir=folder + "/run").run().history]

    x, y = quadrant_arrays(320, 1)
    x[200:] = 3e38
    xt, yt = quadrant_arrays(40, 2)
    data = ArrayDataset.from_arrays("poisoned", ("a", "b", "c", "d"), x, y, xt, yt,
                                    LoadOptions(validation_split=0.0, normalization="none"))
    project = tiny_project("npz:unused.npz", epochs=3, validation_split=0.0, normalization="none")
    trainer = Trainer(project, dataset=data)
    diverged = trainer.run()
    told["diverged"] = diverged.stopped_reason
    told["weights_finite"] = all(bool(np.isfinite(w).all()) for w in trainer.model.get_weights())

    def stop_at_5(report):
        if report.batch == 5:
            stopper.stop()

    stopper = Trainer(tiny_project(npz, epochs=3), report_every=0.0, callbacks=TrainingCallbacks(on_batch=stop_at_5))
    told["stopped"] = stopper.run().stopped_reason
    told["tensorflow_loaded"] = any(m.split(".")[0] == "tensorflow" for m in sys.modules)
    print(json.dumps(told))
""")


@pytest.fixture(scope="module")
def on_jax(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("jax")
    npz = "npz:" + str(write_quadrants(folder))
    done = subprocess.run([sys.executable, "-c", CHILD, npz, str(folder)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": str(folder),
                                                      "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reports_and_snapshots_on_jax(on_jax):
    assert on_jax["batches"] == 32 and on_jax["last_batch_is_epoch_mean"] and on_jax["snapshot_weights_moved"]
    assert on_jax["reference"][1] < on_jax["reference"][0]
    assert not on_jax["tensorflow_loaded"]


def test_a_resumed_run_follows_the_unbroken_curve_on_jax(on_jax):
    assert on_jax["resumed"] == pytest.approx(on_jax["reference"], rel=1e-5)


def test_nan_and_stop_on_jax(on_jax):
    assert on_jax["diverged"] == "diverged" and on_jax["weights_finite"]
    assert on_jax["stopped"] == "stopped"
