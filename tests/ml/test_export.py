"""Exports give the trained model's predictions in their own runtimes; failures leave nothing behind."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from cnnstudio.cli import main
from cnnstudio.core.errors import UserError
from cnnstudio.core.templates import load_template
from cnnstudio.ml.export import QUANTIZED_TOLERANCE, TOLERANCE, export_model, predict_file

FORMATS = {"keras": "model.keras", "savedmodel": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """LeNet-5 trained briefly on the MNIST sample, its run directory, and 100 test images."""
    from cnnstudio.ml.trainer import Trainer, TrainingSettings

    project = load_template("lenet5")
    settings = TrainingSettings.from_project(project, epochs=1, max_steps_per_epoch=40, validation_split=0.0)
    run = tmp_path_factory.mktemp("runs") / "lenet5"
    trainer = Trainer(project, settings=settings, run_dir=run, evaluate_test=False)
    trainer.run()
    images, _ = trainer.dataset.samples(100, "test", seed=0)
    return trainer.model, run, images


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_predicts_like_the_trained_model(trained, tmp_path, fmt):
    model, _, images = trained
    out = tmp_path / FORMATS[fmt]
    result = export_model(model, fmt, out, inputs=images[:8])
    assert result.path == out and out.exists() and result.size_bytes > 0
    expected = model.predict(images, verbose=0)
    got = predict_file(fmt, out, images)
    assert got.shape == expected.shape == (100, 10)
    # Relative to the output's scale (probabilities: at most 1); a small network agrees far closer.
    assert np.max(np.abs(got - expected)) <= TOLERANCE * np.max(np.abs(expected)) and TOLERANCE == 1e-3
    assert np.max(np.abs(got - expected)) <= 1e-5
    described = result.describe()
    assert result.difference <= 1e-4 and ("of the output's scale" in described or "identical" in described)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary leftovers


@pytest.mark.parametrize("mode", ["float16", "dynamic"])
def test_quantized_tflite_is_smaller_and_close(trained, tmp_path, mode):
    model, _, images = trained
    result = export_model(model, "tflite", tmp_path / "small.tflite", quantize=mode, inputs=images[:8])
    assert result.float32_size_bytes and result.size_bytes < 0.6 * result.float32_size_bytes
    assert f"{mode} quantized" in result.describe()
    expected = model.predict(images, verbose=0)
    got = predict_file("tflite", result.path, images)
    # Quantization rounds the weights: probabilities stay within 0.05, the answers almost always agree.
    assert np.max(np.abs(got - expected)) <= QUANTIZED_TOLERANCE
    assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.97


def test_a_failed_check_writes_nothing_and_keeps_the_old_file(trained, tmp_path, monkeypatch):
    from cnnstudio.ml import export

    model, _, images = trained
    out = tmp_path / "model.onnx"
    out.write_bytes(b"the earlier export")
    monkeypatch.setattr(export, "predict_file", lambda fmt, path, x: np.zeros((len(x), 10), np.float32))
    with pytest.raises(UserError, match="does not give the same predictions.*nothing was written. If that "
                                        "difference is acceptable, allow it with a tolerance of"):
        export_model(model, "onnx", out, inputs=images[:4])
    assert out.read_bytes() == b"the earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_export_refuses_bad_destinations(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(UserError, match=r"must end in \.keras"):
        export_model(model, "keras", tmp_path / "model.h5")
    with pytest.raises(UserError, match="no such folder"):
        export_model(model, "onnx", tmp_path / "missing" / "model.onnx")
    with pytest.raises(UserError, match="only available for the tflite format"):
        export_model(model, "onnx", tmp_path / "m.onnx", quantize="dynamic")


# ---------------------------------------------------------------------- the command


def test_cli_exports_the_trained_model_of_a_run(trained, tmp_path, capsys):
    model, run, images = trained
    out = tmp_path / "digits.tflite"
    assert main(["export", str(run), "--format", "tflite", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "wrote tflite model" in err and str(out) in err
    got = predict_file("tflite", out, images)
    assert np.max(np.abs(got - model.predict(images, verbose=0))) <= 1e-5


def test_cli_exports_an_untrained_project_and_never_overwrites_inputs(trained, tmp_path, capsys):
    import keras

    _, run, _ = trained
    out = tmp_path / "fresh.keras"
    assert main(["export", "lenet5", "--format", "keras", "--out", str(out)]) == 0
    capsys.readouterr()
    fresh = keras.models.load_model(out)
    assert fresh.count_params() == 61706
    before = (run / "model.keras").read_bytes()
    code = main(["export", str(run), "--format", "keras", "--out", str(run / "model.keras")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "never changed" in err
    assert (run / "model.keras").read_bytes() == before


def test_cli_export_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    code = main(["export", str(tmp_path), "--format", "onnx", "--out", str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not a run directory" in err


def test_cli_exported_python_script_builds_the_model_that_was_trained(trained, tmp_path, capsys):
    model, run, images = trained
    out = tmp_path / "train_lenet5.py"
    assert main(["export", str(run), "--format", "python", "--out", str(out)]) == 0
    spec = importlib.util.spec_from_file_location("train_lenet5", out)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # defines build_model() and the rest; trains only when run as a program
    rebuilt = script.build_model()
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    got = rebuilt.predict(images, verbose=0)
    assert np.max(np.abs(got - model.predict(images, verbose=0))) <= 1e-5


def test_cli_exports_the_last_checkpoint_of_a_run_that_did_not_finish(tmp_path, capsys):
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks
    from tests.ml.test_trainer import tiny_project, write_quadrants

    class Killed(Exception):
        pass

    checkpointed = []

    def killed_after_the_first_epoch(report):
        checkpointed.extend(trainer.model.get_weights())
        raise Killed

    project = tiny_project("npz:" + str(write_quadrants(tmp_path)), epochs=3, max_steps_per_epoch=4)
    run = tmp_path / "run"
    trainer = Trainer(project, run_dir=run, callbacks=TrainingCallbacks(on_epoch=killed_after_the_first_epoch))
    with pytest.raises(Killed):
        trainer.run()
    assert not (run / "model.keras").exists()
    out = tmp_path / "unfinished.onnx"
    assert main(["export", str(run), "--format", "onnx", "--out", str(out)]) == 0
    assert "did not finish training; exporting its last checkpoint (after epoch 1)" in capsys.readouterr().err
    x = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    trainer.model.set_weights(checkpointed)
    assert np.max(np.abs(predict_file("onnx", out, x) - trainer.model.predict(x, verbose=0))) <= 1e-5


def test_the_check_feeds_pixel_values_to_a_model_that_rescales_them_itself():
    import keras

    from cnnstudio.ml.export import sample_inputs

    def begins_with(layer) -> keras.Model:
        image = keras.Input((4, 4, 3))
        return keras.Model(image, keras.layers.Conv2D(2, 1)(layer(image)))

    for layer, top in ((keras.layers.Rescaling(1 / 255), 255), (keras.layers.Rescaling(1 / 127.5, offset=-1), 255),
                       (keras.layers.Normalization(mean=[123.7, 116.3, 103.5], variance=[3409, 3262, 3291]), 255),
                       (keras.layers.Rescaling(2.0), 1), (keras.layers.Normalization(mean=0.5, variance=0.1), 1),
                       (keras.layers.Identity(), 1)):
        x = sample_inputs(begins_with(layer), n=64)[0]
        assert x.min() >= 0 and top / 2 < x.max() <= top, (layer, x.max())
    image = keras.Input((32, 32, 3))
    backbone = keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(32, 32, 3))
    nested = keras.Model(image, keras.layers.GlobalAveragePooling2D()(backbone(image)))
    assert sample_inputs(nested, n=4)[0].max() > 1  # the backbone's own first step counts


def test_a_mismatch_says_when_keras_disagrees_with_itself():
    from cnnstudio.ml.export import PredictionMismatch, _with_keras_itself

    class Chaotic:  # like untrained EfficientNetV2M: its values reach 6e5 and batch sizes round differently
        def predict(self, x, verbose=0, batch_size=None):
            return np.full((len(x), 3), 1.0 if batch_size == 1 else 2.0, np.float32)

    class Stable(Chaotic):
        def predict(self, x, verbose=0, batch_size=None):
            return np.full((len(x), 3), 2.0, np.float32)

    x, expected = [np.zeros((4, 2), np.float32)], [np.full((4, 3), 2.0, np.float32)]
    mismatch = PredictionMismatch("onnx", 0.6, 0.001, 1.2)
    message = str(_with_keras_itself(mismatch, Chaotic(), x, expected, "onnx"))
    assert "Keras itself gives predictions 0.5 of the output's scale apart" in message and "\n" not in message
    assert "allow it with a tolerance of 1" in message
    assert _with_keras_itself(mismatch, Stable(), x, expected, "onnx") is mismatch


def test_a_unet_whose_conversion_keeps_tensorflow_operations_exports_for_one_picture_per_call(tmp_path):
    """keras.io's Oxford pets U-Net: with the batch size left open the TFLite converter keeps three Conv2D as
    TensorFlow operations, which TFLite runtimes lack (the check crashed on them). It is converted again for
    one picture per call, the check feeds it one picture at a time, and the message says so."""
    import keras

    from cnnstudio.ml.export import tensorflow_operations

    from .keras_examples import oxford_pets_segmentation

    keras.utils.set_random_seed(0)
    model = oxford_pets_segmentation()
    out = tmp_path / "pets.tflite"
    result = export_model(model, "tflite", out)
    assert result.one_per_call and "it takes one picture per call" in result.describe()
    assert tensorflow_operations(out) == {}
    images = np.random.default_rng(1).random((3, 64, 64, 3)).astype("float32")
    expected = model.predict(images, verbose=0)
    got = predict_file("tflite", out, images)
    assert got.shape == expected.shape == (3, 64, 64, 3)
    assert np.max(np.abs(got - expected)) <= 1e-5 * np.max(np.abs(expected))
    image = keras.Input((8, 8, 1))
    small = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(image))))
    plain = export_model(small, "tflite", tmp_path / "small.tflite")  # batches of any size, as before
    assert not plain.one_per_call and "one picture" not in plain.describe()
