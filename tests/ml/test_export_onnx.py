"""ONNX files of the layers the applications are built from (EfficientNet's Normalization, ConvNeXt's
grouped convolutions, exact GELU and LayerScale) predict what Keras predicts; what ONNX cannot express
is refused in one line naming the layer."""

from __future__ import annotations

import keras
import numpy as np
import onnx
import pytest
from keras.src.applications.convnext import LayerScale

from cnnstudio.core.errors import UserError
from cnnstudio.ml.export import export_model, predict_file

L = keras.layers


def application_layers() -> keras.Model:
    """One of each layer kind that kept EfficientNet and ConvNeXt from ONNX, on a tiny input."""
    image = keras.Input((8, 8, 3), name="image")
    x = L.Rescaling(1 / 255, name="scale")(image)
    x = L.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.05, 0.05, 0.06], name="imagenet")(x)
    adapted = L.Normalization(axis=-1, name="adapted")
    adapted.adapt(np.random.default_rng(0).normal(0.5, 2, (16, 8, 8, 3)).astype("float32"))
    x = L.Conv2D(8, 3, padding="same", name="stem")(adapted(x))
    x = L.Conv2D(8, 3, padding="same", groups=8, name="depthwise_as_groups")(x)  # ConvNeXt's depthwise step
    x = L.Conv2D(8, 3, padding="same", groups=2, name="two_groups")(x)
    x = L.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = L.LayerNormalization(epsilon=1e-6, name="norm")(x)
    x = L.Activation("gelu", name="gelu")(x)  # exact GELU: TensorFlow computes it with Erfc
    x = LayerScale(0.5, 8, name="layer_scale")(x)
    return keras.Model(image, L.Dense(4, name="scores")(L.GlobalAveragePooling2D(name="pool")(x)), name="parts")


def test_normalization_grouped_convolutions_gelu_and_layer_scale_export_to_onnx(tmp_path):
    keras.utils.set_random_seed(0)
    model = application_layers()
    out = tmp_path / "parts.onnx"
    result = export_model(model, "onnx", out)
    images = (255 * np.random.default_rng(1).random((5, 8, 8, 3))).astype("float32")
    expected = model.predict(images, verbose=0)
    got = predict_file("onnx", out, images)
    assert got.shape == expected.shape == (5, 4)
    assert np.max(np.abs(got - expected)) <= 1e-5 * np.max(np.abs(expected)) and result.difference <= 1e-5
    graph = onnx.load(out).graph
    assert [i.name for i in graph.input] == ["image"] and [o.name for o in graph.output] == ["scores"]
    groups = sorted(a.i for n in graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "group")
    assert groups == [1, 2, 8, 8]  # the grouped convolutions are ONNX Conv nodes, not calls into XLA
    assert "Erf" in {n.op_type for n in graph.node}


def test_onnx_inputs_and_outputs_keep_the_models_names(tmp_path):
    image = keras.Input((6, 6, 1), name="image")
    extra = keras.Input((4,), name="extra")
    joined = L.Concatenate(name="joined")([L.Flatten(name="flat")(image), extra])
    model = keras.Model([image, extra], [L.Dense(3, name="classes")(joined), L.Dense(1, name="value")(joined)])
    out = tmp_path / "two.onnx"
    export_model(model, "onnx", out)
    graph = onnx.load(out).graph
    assert [i.name for i in graph.input] == ["image", "extra"]
    assert [o.name for o in graph.output] == ["classes", "value"]


@keras.saving.register_keras_serializable(package="tests")
class InverseErf(L.Layer):
    def call(self, x):
        return keras.ops.erfinv(x)


def test_an_operation_onnx_lacks_is_refused_naming_its_layer(tmp_path, caplog):
    inner = keras.Input((4,))
    backbone = keras.Model(inner, InverseErf(name="inverse_erf")(L.Dense(4, name="inner_dense")(inner)),
                           name="backbone")
    image = keras.Input((4,), name="values")
    model = keras.Model(image, L.Dense(2, name="out")(backbone(image)))  # named inside a nested model too
    with pytest.raises(UserError) as caught:
        export_model(model, "onnx", tmp_path / "m.onnx")
    message = str(caught.value)
    assert "\n" not in message and "Erfinv (layer 'inverse_erf')" in message and "export it as keras" in message
    assert list(tmp_path.iterdir()) == []
    assert not [r for r in caplog.records if r.name.startswith("tf2onnx")]  # said once, in the message


@pytest.mark.slow
@pytest.mark.parametrize("name", ["EfficientNetB0", "EfficientNetV2B0", "EfficientNetV2S", "ConvNeXtTiny"])
def test_efficientnet_and_convnext_export_to_onnx_within_the_default_check(tmp_path, name):
    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None)
    result = export_model(model, "onnx", tmp_path / "m.onnx")
    assert result.difference <= 1e-4, result.describe()


def test_onnx_asks_for_the_memory_its_conversion_takes():
    from cnnstudio.ml.export_paths import check_export_memory

    check_export_memory(10_000_000, available=3 * 10**8, fmt="keras")  # 6 copies of 40 MB of weights fit
    with pytest.raises(UserError, match="need about 0.4 GB of memory while it is converted"):
        check_export_memory(10_000_000, available=3 * 10**8, fmt="onnx")  # ONNX asks for 10 copies


def test_weights_set_aside_while_tensorflow_optimizes_come_back_unchanged(tmp_path):
    """Large constants (here 147 KB and 75 KB) stand aside as placeholders while TensorFlow's optimizer runs,
    and the file holds them exactly; a scalar added after a convolution (MobileNetV3's hard sigmoid) makes one
    of tf2onnx's optimizers fail, and the conversion is done again without it."""
    keras.utils.set_random_seed(0)
    image = keras.Input((10, 10, 64), name="image")
    x = L.Conv2D(64, 3, padding="same", name="wide")(image)
    x = L.ReLU(6.0, name="relu6")(x + 3.0) * (1.0 / 6.0)
    x = L.Dense(300, name="big")(L.GlobalAveragePooling2D(name="pool")(x))
    model = keras.Model(image, L.Dense(3, name="scores")(x))
    out = tmp_path / "wide.onnx"
    result = export_model(model, "onnx", out)
    images = np.random.default_rng(1).normal(size=(4, 10, 10, 64)).astype("float32")
    expected = model.predict(images, verbose=0)
    assert np.max(np.abs(predict_file("onnx", out, images) - expected)) <= 1e-5 * np.max(np.abs(expected))
    assert result.difference <= 1e-5
    stored = {tuple(t.dims): onnx.numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    kernel = model.get_layer("wide").kernel.numpy()
    assert np.array_equal(stored[(64, 64, 3, 3)], kernel.transpose(3, 2, 0, 1))
    assert np.array_equal(stored[(64, 300)], model.get_layer("big").kernel.numpy())
