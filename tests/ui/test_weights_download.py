"""Before training a network whose backbone asks for ImageNet weights, the window brings them into
Keras's cache as a job of its own: progress in the status, Stop cancels, offline without a cache
says so plainly. The weights come from a local server on 127.0.0.1 set as the mirror."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cnnstudio.core.project import Project, project_from_dict
from cnnstudio.ml.backbones import MIRROR_VARIABLE
from tests.http_server import serving

WAIT = 120000  # ms: TensorFlow's first import and a MobileNetV2 build on a slow machine
FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
SERVED = f"tensorflow/keras-applications/mobilenet_v2/{FILE}"


@pytest.fixture
def keras_home(tmp_path, in_worker):
    """Keras's cache in a temporary folder, where the window's jobs run (the worker process)."""
    (tmp_path / "keras").mkdir()
    in_worker(attributes=[("keras.src.backend.config:_KERAS_DIR", str(tmp_path / "keras"))])
    return tmp_path / "keras" / "models"


@pytest.fixture(scope="module")
def weights_bytes(tmp_path_factory) -> bytes:
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    path = tmp_path_factory.mktemp("weights") / FILE
    model = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
    return path.read_bytes()


def imagenet_project(tmp_path) -> Project:
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.random((12, 96, 96, 3), np.float32), y_train=np.arange(12) % 2,
             x_test=rng.random((4, 96, 96, 3), np.float32), y_test=np.arange(4) % 2)
    return project_from_dict({
        "format": "cnnstudio-project", "version": 2, "name": "imagenet",
        "network": {"nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [96, 96, 3]}},
            {"id": "base", "type": "MobileNetV2", "params": {"weights": "imagenet", "alpha": 0.35, "pooling": "avg"},
             "trainable": False},
            {"id": "out", "type": "Dense", "params": {"units": 2, "activation": "softmax"}}],
            "edges": [["image", "base"], ["base", "out"]]},
        "dataset": {"name": f"npz:{data}"},
        "training": {"epochs": 1, "batch_size": 4, "validation_split": 0.25}})


def _downloading(text: str) -> bool:
    return text.startswith("Downloading the ImageNet weights") and "Stop cancels" in text


def test_the_weights_download_with_progress_then_training_starts(make_window, qtbot, tmp_path, keras_home,
                                                                  weights_bytes, in_worker):
    with serving({SERVED: weights_bytes}) as served:
        in_worker(environ=[(MIRROR_VARIABLE, served.base.rstrip("/"))])
        w = make_window(imagenet_project(tmp_path))
        training = w.features.training
        statuses: list[str] = []
        training.status.connect(statuses.append)
        with qtbot.waitSignal(training.runFinished, timeout=WAIT):
            assert training.start()
    assert (keras_home / FILE).stat().st_size == len(weights_bytes)
    progress = [s for s in statuses if _downloading(s)]
    assert progress and "%" in progress[-1] and "MB" in progress[-1]
    assert served.requests == [SERVED]


def test_offline_without_a_cache_says_so_plainly(make_window, qtbot, tmp_path, keras_home, in_worker):
    in_worker(environ=[(MIRROR_VARIABLE, "http://127.0.0.1:9")])  # nothing listens there
    w = make_window(imagenet_project(tmp_path))
    training = w.features.training
    with qtbot.waitSignal(training.failed, timeout=WAIT) as failed:
        assert training.start()
    text = failed.args[0]
    assert text.startswith("Cannot train imagenet:") and "not on this computer and cannot be downloaded" in text
    assert "set weights to none" in text and not training.is_running


def test_stop_cancels_the_download_and_keeps_nothing(make_window, qtbot, tmp_path, keras_home, weights_bytes,
                                                    in_worker):
    with serving({SERVED: weights_bytes}, seconds_per_chunk=0.2) as served:
        in_worker(environ=[(MIRROR_VARIABLE, served.base.rstrip("/"))])
        w = make_window(imagenet_project(tmp_path))
        training = w.features.training
        with qtbot.waitSignal(training.status, timeout=WAIT, check_params_cb=_downloading):
            assert training.start()
        with qtbot.waitSignal(w.context.messages.shown, timeout=WAIT,
                              check_params_cb=lambda _severity, text: "weights was cancelled" in text):
            training.stop()
        qtbot.waitUntil(lambda: not training.is_running, timeout=WAIT)
    assert not (keras_home / FILE).exists()
    assert training.run_dir is None and not w.document.locked
