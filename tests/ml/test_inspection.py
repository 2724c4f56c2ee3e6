"""Looking inside networks (`cnnstudio.ml.inspection`): what each view returns and that it means
what it claims, on small networks trained here in a few seconds."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnstudio.core.errors import UserError  # noqa: E402
from cnnstudio.core.templates import load_template  # noqa: E402
from cnnstudio.ml import inspection as ins  # noqa: E402
from cnnstudio.ml.builder import build_model  # noqa: E402
from cnnstudio.ml.data import load_dataset  # noqa: E402
from cnnstudio.ml.inspection.gradients import class_gradients  # noqa: E402

L = keras.layers


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shapes():
    """X-vs-O test images (the object's bounding box is where the ink is) and labels."""
    data = load_dataset("x-vs-o")
    x, y = data.train_arrays()
    xt, yt = data.test_arrays()
    return x[:2000], y[:2000], xt, yt, data.class_names


@pytest.fixture(scope="module")
def shape_cnn(shapes):
    """A Sequential CNN ending in global average pooling, trained to tell X from O (~98%)."""
    x, y, *_ = shapes
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(name="pool1"),
        L.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        L.GlobalAveragePooling2D(name="gap"),
        L.Dense(2, activation="softmax", name="output"),
    ])
    model.compile(keras.optimizers.Adam(5e-3), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def lenet():
    keras.utils.set_random_seed(1)
    return build_model(load_template("lenet5").network)


@pytest.fixture(scope="module")
def resnet():
    keras.utils.set_random_seed(2)
    return build_model(load_template("resnet-mini").network)


def ink_boxes(images: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """(N, H, W) masks of each image's ink bounding box."""
    boxes = np.zeros(images.shape[:3], bool)
    for box, image in zip(boxes, images[..., 0]):
        ink = image > threshold
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        box[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = True
    return boxes


def heat_inside_and_outside(heatmaps: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean heat per pixel inside and outside each box."""
    inside = (heatmaps * boxes).sum(axis=(1, 2)) / boxes.sum(axis=(1, 2))
    outside = (heatmaps * ~boxes).sum(axis=(1, 2)) / (~boxes).sum(axis=(1, 2))
    return inside, outside


# ---------------------------------------------------------------- filters


def test_conv_layers_lists_every_convolution_kind_in_order():
    model = keras.Sequential([
        keras.Input((16, 16, 3)),
        L.Conv2D(4, 3, name="a"), L.DepthwiseConv2D(3, name="b"), L.BatchNormalization(name="bn"),
        L.SeparableConv2D(4, 3, name="c"), L.Conv2DTranspose(2, 3, name="d"), L.Flatten(), L.Dense(2),
    ])
    assert ins.conv_layers(model) == ["a", "b", "c", "d"]


def test_filters_per_channel_and_averaged(lenet):
    per_channel = ins.filter_weights(lenet, "conv2")
    kernel = lenet.get_layer("conv2").kernel.numpy()  # (5, 5, 6, 16)
    assert per_channel.kernels.shape == (16, 5, 5, 6)
    np.testing.assert_allclose(per_channel.kernels[3], kernel[..., 3])
    assert per_channel.biases.shape == (16,)
    assert per_channel.vmax_shared == pytest.approx(np.abs(kernel).max())
    average = ins.filter_weights(lenet, "conv2", mode="average")
    assert average.kernels.shape == (16, 5, 5, 1)
    np.testing.assert_allclose(average.kernels[..., 0], kernel.mean(axis=2).transpose(2, 0, 1), rtol=1e-6)


def test_first_layer_of_an_rgb_network_shows_colour_filters():
    keras.utils.set_random_seed(0)
    model = build_model(load_template("cifar10-convnet").network)
    colour = ins.filter_weights(model, "conv1", mode="rgb")
    assert colour.kernels.shape == (32, 3, 3, 3)
    shown = colour.normalized()
    assert shown.min() >= 0 and shown.max() <= 1
    assert np.isclose(shown.max(), 1.0) or np.isclose(shown.min(), 0.0)  # the shared scale is used fully
    with pytest.raises(UserError, match="reads 32"):
        ins.filter_weights(model, "conv2", mode="rgb")


def test_filters_of_depthwise_transpose_and_1d_layers():
    model = keras.Sequential([keras.Input((12, 12, 3)), L.DepthwiseConv2D(3, depth_multiplier=2, name="dw"),
                              L.Conv2DTranspose(5, 4, name="up")])
    assert ins.filter_weights(model, "dw").kernels.shape == (6, 3, 3, 1)
    assert ins.filter_weights(model, "up").kernels.shape == (5, 4, 4, 6)
    sequence = keras.Sequential([keras.Input((30, 2)), L.Conv1D(4, 7, name="c")])
    assert ins.filter_weights(sequence, "c").kernels.shape == (4, 1, 7, 2)


def test_separable_filters_are_the_kernels_the_layer_really_applies():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((10, 10, 3)),
                              L.SeparableConv2D(4, 3, depth_multiplier=2, use_bias=False, name="sep")])
    filters = ins.filter_weights(model, "sep")
    assert filters.kernels.shape == (4, 3, 3, 3)
    x = np.random.default_rng(0).random((2, 10, 10, 3)).astype(np.float32)
    full = filters.kernels.transpose(1, 2, 3, 0)  # back to (kh, kw, in, out)
    expected = tf.nn.conv2d(x, full, strides=1, padding="VALID").numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, atol=1e-5)


def test_filters_of_a_layer_without_any_are_refused(lenet):
    with pytest.raises(UserError, match="layer 'fc1' is a Dense, which has no filters"):
        ins.filter_weights(lenet, "fc1")
    with pytest.raises(UserError, match="there is no layer 'conv9'"):
        ins.filter_weights(lenet, "conv9")
    with pytest.raises(UserError, match="unknown"):
        ins.filter_weights(lenet, "conv1", mode="colour")


# ---------------------------------------------------------------- feature maps


def test_activations_of_every_layer_have_maps_or_vectors(lenet):
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    found = ins.activations(lenet, images)
    assert list(found) == [layer.name for layer in lenet.layers]
    assert found["conv1"].shape == (3, 28, 28, 6)
    assert found["pool2"].shape == (3, 5, 5, 16)
    assert found["fc1"].shape == (3, 120)
    np.testing.assert_allclose(found["input"], images)
    np.testing.assert_allclose(found["output"], lenet.predict(images, verbose=0), atol=1e-6)


def test_one_image_gives_maps_without_a_batch_axis(lenet):
    image = np.random.default_rng(1).random((28, 28)).astype(np.float32)  # channel axis left out
    found = ins.activations(lenet, image, ["conv2", "fc2"])
    assert found["conv2"].shape == (10, 10, 16) and found["fc2"].shape == (84,)
    assert ins.feature_maps(lenet, image, "pool1").shape == (14, 14, 6)
    batch = np.random.default_rng(1).random((28, 28, 28)).astype(np.float32)  # 28 images, no channel axis
    assert ins.activations(lenet, batch, ["conv1"])["conv1"].shape == (28, 28, 28, 6)


def test_inspector_builds_each_sub_model_once(lenet):
    inspector = ins.Inspector(lenet)
    image = np.zeros((28, 28, 1), np.float32)
    inspector.activations(image, ["conv1"])
    first = inspector._subs.features(("conv1",))
    inspector.activations(image, ["conv1"])
    assert inspector._subs.features(("conv1",)) is first
    assert ins.Inspector(lenet)._subs is inspector._subs  # one cache per model


def test_feature_maps_of_a_dense_layer_are_refused_in_plain_words(lenet):
    with pytest.raises(UserError, match="layer 'fc1' has no spatial feature maps; choose a convolution or pooling layer"):
        ins.feature_maps(lenet, np.zeros((28, 28, 1)), "fc1")
    with pytest.raises(UserError, match="the images are 32x32x3 but the network expects 28x28x1"):
        ins.activations(lenet, np.zeros((2, 32, 32, 3)))


def test_channel_order_puts_the_busiest_map_first():
    maps = np.zeros((4, 4, 3))
    maps[..., 1] = 2.0
    maps[..., 2] = 1.0
    assert list(ins.channel_order(maps)) == [1, 2, 0]


# ---------------------------------------------------------------- prediction


def test_predict_proba_keeps_softmax_outputs(lenet):
    images = np.random.default_rng(2).random((5, 28, 28, 1)).astype(np.float32)
    probabilities = ins.predict_proba(lenet, images, batch_size=2)
    np.testing.assert_allclose(probabilities, lenet.predict(images, verbose=0), atol=1e-6)
    assert ins.predict_proba(lenet, images[0]).shape == (10,)


def test_predict_proba_applies_softmax_to_logits():
    model = keras.Sequential([keras.Input((4, 4, 1)), L.Flatten(), L.Dense(3, name="logits")])
    x = np.random.default_rng(0).random((6, 4, 4, 1)).astype(np.float32)
    logits = model.predict(x, verbose=0)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ins.predict_proba(model, x), expected, rtol=1e-5)
    assert ins.output_activation(model) == "linear"


def test_one_sigmoid_unit_becomes_two_class_probabilities():
    model = keras.Sequential([keras.Input((4, 4, 1)), L.Flatten(), L.Dense(1, activation="sigmoid")])
    x = np.random.default_rng(0).random((6, 4, 4, 1)).astype(np.float32)
    p = model.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(ins.predict_proba(model, x), np.stack([1 - p, p], axis=1), rtol=1e-5)


# ---------------------------------------------------------------- evaluation


def test_confusion_matrix_counts_every_image_and_accuracy_is_its_trace(shape_cnn, shapes):
    *_, xt, yt, names = shapes
    result = ins.evaluate_split(shape_cnn, xt, yt, names, batch_size=97)
    assert result.confusion.shape == (2, 2) and result.confusion.sum() == len(xt)
    assert result.accuracy == pytest.approx(np.trace(result.confusion) / len(xt))
    assert result.accuracy > 0.9
    np.testing.assert_array_equal(result.support, np.bincount(yt, minlength=2))
    np.testing.assert_array_equal(result.predictions, result.probabilities.argmax(axis=1))
    again = ins.evaluate_split(shape_cnn, xt, np.eye(2)[yt], names)  # one-hot labels, other batch size
    np.testing.assert_array_equal(again.confusion, result.confusion)


def test_cells_hold_their_images_most_confident_first(shape_cnn, shapes):
    *_, xt, yt, names = shapes
    result = ins.evaluate_split(shape_cnn, xt[:300], yt[:300], names)
    seen = []
    for true in range(2):
        for predicted in range(2):
            cell = result.cell_indices(true, predicted)
            assert len(cell) == result.confusion[true, predicted]
            assert np.all(result.labels[cell] == true) and np.all(result.predictions[cell] == predicted)
            assert np.all(np.diff(result.confidence[cell]) <= 0)
            seen.extend(cell)
    assert sorted(seen) == list(range(300))
    wrong = result.misclassified
    assert len(wrong) == 300 - np.trace(result.confusion)
    assert np.all(np.diff(result.confidence[wrong]) <= 0)


def test_per_class_precision_recall_and_f1():
    from cnnstudio.ml.inspection.evaluation import _summarize

    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 0, 1])
    result = _summarize(("a", "b", "c"), labels, np.eye(3)[predicted])
    np.testing.assert_allclose(result.precision, [2 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(result.recall, [2 / 3, 1 / 2, 0.0])
    np.testing.assert_allclose(result.f1, [2 / 3, 0.4, 0.0])
    assert result.accuracy == pytest.approx(3 / 6)
    assert result.macro_f1 == pytest.approx((2 / 3 + 0.4 + 0.0) / 3)


def test_evaluation_refuses_mismatched_labels(shape_cnn, shapes):
    *_, xt, yt, names = shapes
    with pytest.raises(UserError, match="10 images but 9 labels"):
        ins.evaluate_split(shape_cnn, xt[:10], yt[:9], names)
    with pytest.raises(UserError, match="labels must lie between 0 and 1"):
        ins.evaluate_split(shape_cnn, xt[:3], np.array([0, 1, 5]), names)


# ---------------------------------------------------------------- saliency and Grad-CAM


def test_saliency_maps_are_input_sized_in_unit_range(shape_cnn, shapes):
    *_, xt, _, _ = shapes
    found = ins.saliency(shape_cnn, xt[0])
    assert found.heatmap.shape == (28, 28)
    assert found.heatmap.min() >= 0 and found.heatmap.max() == pytest.approx(1.0)
    assert found.class_index == int(ins.predict_proba(shape_cnn, xt[0]).argmax())
    chosen = ins.saliency(shape_cnn, xt[:4], class_index=1 - found.class_index)
    assert chosen.heatmap.shape == (4, 28, 28) and chosen.class_index[0] == 1 - found.class_index


def test_smoothgrad_concentrates_on_the_object(shape_cnn, shapes):
    *_, xt, _, _ = shapes
    images = xt[:12]
    found = ins.smoothgrad(shape_cnn, images, samples=16, noise_level=0.15)
    inside, outside = heat_inside_and_outside(found.heatmap, ink_boxes(images))
    assert found.method == "smoothgrad"
    assert np.all(inside > outside) and inside.mean() > 1.25 * outside.mean()


def test_smoothgrad_without_noise_is_the_plain_gradient(lenet):
    image = np.random.default_rng(8).random((28, 28, 1)).astype(np.float32)
    plain = ins.saliency(lenet, image, 2)
    smooth = ins.smoothgrad(lenet, image, 2, samples=3, noise_level=0.0)
    np.testing.assert_allclose(smooth.heatmap, plain.heatmap, atol=1e-5)


def test_grad_cam_highlights_the_object(shape_cnn, shapes):
    *_, xt, yt, _ = shapes
    images = xt[:60]
    found = ins.grad_cam(shape_cnn, images)
    assert found.layer == "conv2" and found.heatmap.shape == (60, 28, 28) and found.coarse.shape == (60, 14, 14)
    inside, outside = heat_inside_and_outside(found.heatmap, ink_boxes(images))
    assert np.mean(inside > outside) >= 0.9
    assert inside.mean() > 2 * outside.mean()


def test_grad_cam_picks_the_last_convolution_block(lenet, resnet, shape_cnn):
    assert ins.grad_cam_layer(lenet) == "conv2"
    assert ins.grad_cam_layer(resnet) == "block3_out"  # after its batch norm, Add and ReLU
    assert ins.grad_cam_layer(shape_cnn) == "conv2"
    mlp = build_model(load_template("mlp").network)
    with pytest.raises(UserError, match="Grad-CAM needs a 2-D convolution layer"):
        ins.grad_cam(mlp, np.zeros((28, 28, 1)))


def test_grad_cam_finds_a_convolution_inside_a_nested_block():
    block = keras.Sequential([keras.Input((12, 12, 4)), L.Conv2D(4, 3, padding="same"), L.ReLU()], name="block")
    model = keras.Sequential([keras.Input((12, 12, 1)), L.Conv2D(4, 3, padding="same", name="stem"), block,
                              L.GlobalAveragePooling2D(), L.Dense(3)])
    assert ins.grad_cam_layer(model) == "block"
    assert ins.grad_cam(model, np.random.default_rng(0).random((12, 12, 1))).heatmap.shape == (12, 12)


def test_grad_cam_at_a_chosen_layer_and_hires_variant(lenet):
    image = np.random.default_rng(4).random((28, 28, 1)).astype(np.float32)
    found = ins.grad_cam(lenet, image, class_index=3, layer="pool1", variant="hires-cam")
    assert found.layer == "pool1" and found.class_index == 3 and found.coarse.shape == (14, 14)
    assert found.heatmap.shape == (28, 28) and 0 <= found.heatmap.min() and found.heatmap.max() <= 1
    with pytest.raises(UserError, match="'fc1' outputs 120"):
        ins.grad_cam(lenet, image, layer="fc1")


def test_saliency_and_grad_cam_work_on_a_functional_network_with_skips(resnet):
    images = np.random.default_rng(5).random((2, 28, 28, 1)).astype(np.float32)
    for found in (ins.saliency(resnet, images), ins.smoothgrad(resnet, images, samples=4), ins.grad_cam(resnet, images)):
        assert found.heatmap.shape == (2, 28, 28)
        assert np.all(found.heatmap.reshape(2, -1).max(axis=1) > 0)
        assert found.heatmap.std() > 0


def test_gradients_are_of_the_score_before_the_softmax(lenet):
    """Same weights with a linear head: its output's gradient is what saliency must use."""
    head = lenet.get_layer("output")
    scores = keras.Model(lenet.input, L.Dense(10, name="scores")(lenet.get_layer("fc2").output))
    scores.get_layer("scores").set_weights(head.get_weights())
    image = tf.constant(np.random.default_rng(6).random((1, 28, 28, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(image)
        score = scores(image)[0, 4]
    expected = tape.gradient(score, image).numpy()
    np.testing.assert_allclose(class_gradients(lenet, image.numpy(), 4).gradients, expected, rtol=1e-4, atol=1e-7)
    # after more "training" the copy of the head follows the real weights
    head.set_weights([w * 2 for w in head.get_weights()])
    np.testing.assert_allclose(class_gradients(lenet, image.numpy(), 4).gradients, 2 * expected, rtol=1e-4, atol=1e-7)
    head.set_weights([w / 2 for w in head.get_weights()])


# ---------------------------------------------------------------- activation maximization


def _noise_response(model, layer, filters, rng):
    noise = rng.random((len(filters), 28, 28, 1)).astype(np.float32)
    maps = ins.activations(model, noise, [layer])[layer]
    return maps.mean(axis=(1, 2))[np.arange(len(filters)), filters]


def test_optimised_images_excite_their_filters_far_more_than_noise(shape_cnn):
    result = ins.maximize_filters(shape_cnn, "conv2")  # all 32 filters, one image each
    assert result.images.shape == (32, 28, 28, 1) and result.steps == 128 and not result.cancelled
    assert result.images.min() >= 0 and result.images.max() <= 1
    maps = ins.activations(shape_cnn, result.raw, ["conv2"])["conv2"]
    optimised = maps.mean(axis=(1, 2))[np.arange(32), result.targets]
    np.testing.assert_allclose(optimised, result.objective, rtol=1e-4)
    noise = _noise_response(shape_cnn, "conv2", result.targets, np.random.default_rng(0))
    assert np.median(optimised / np.maximum(noise, 1e-3)) > 2.5


def test_one_unit_is_maximised_inside_its_receptive_field(shape_cnn):
    result = ins.maximize_filters(shape_cnn, "conv1", [0, 1], position=(7, 7), steps=64)
    change = np.abs(result.raw - 0.5).sum(axis=(0, 3))
    # conv1 at (7, 7) sees rows and columns 6..8: the image changes most there
    assert change[6:9, 6:9].mean() > 3 * change.mean()
    assert np.all(result.objective >= result.start_objective) and result.objective.max() > result.start_objective.max()


def test_class_visualisation_is_classified_as_its_class(shape_cnn):
    result = ins.maximize_class(shape_cnn, [0, 1], steps=64)
    probabilities = ins.predict_proba(shape_cnn, result.raw)
    assert list(probabilities.argmax(axis=1)) == [0, 1]
    assert np.all(probabilities.max(axis=1) > 0.9)


def test_progress_can_cancel_the_ascent(lenet):
    calls = []

    def progress(step, total):
        calls.append((step, total))
        return step < 5

    result = ins.maximize_filters(lenet, "conv1", 0, progress=progress, steps=50)
    assert result.cancelled and result.steps == 5 and calls[-1] == (5, 50)
    assert result.images.shape == (1, 28, 28, 1)


def test_maximization_refuses_wrong_targets(lenet):
    with pytest.raises(UserError, match="filters 0 to 5"):
        ins.maximize_filters(lenet, "conv1", 6)
    with pytest.raises(UserError, match="classes 0 to 9"):
        ins.maximize_class(lenet, 10)
    with pytest.raises(UserError, match="unknown option 'stpes'"):
        ins.maximize_filters(lenet, "conv1", 0, stpes=3)


# ---------------------------------------------------------------- export


def test_arrays_filters_and_activations_round_trip(tmp_path, lenet):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    ins.save_npy(tmp_path / "a.npy", array)
    np.testing.assert_array_equal(ins.load_npy(tmp_path / "a.npy"), array)

    filters = ins.filter_weights(lenet, "conv1")
    ins.save_filters(tmp_path / "f.npz", filters)
    back = ins.load_filters(tmp_path / "f.npz")
    np.testing.assert_array_equal(back.kernels, filters.kernels)
    np.testing.assert_array_equal(back.biases, filters.biases)
    assert (back.layer, back.mode, back.vmax_shared) == ("conv1", "per_channel", filters.vmax_shared)

    maps = ins.activations(lenet, np.zeros((28, 28, 1), np.float32), ["conv1", "fc1"])
    ins.save_activations(tmp_path / "maps.npz", maps)
    loaded = ins.load_activations(tmp_path / "maps.npz")
    assert set(loaded) == {"conv1", "fc1"}
    np.testing.assert_array_equal(loaded["conv1"], maps["conv1"])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_errors_are_plain(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ins.save_npy(tmp_path / "missing" / "a.npy", np.zeros(3))
    with pytest.raises(UserError, match="there is no file"):
        ins.load_npy(tmp_path / "none.npy")
    (tmp_path / "bad.npy").write_text("not an array")
    with pytest.raises(UserError, match="not an array file"):
        ins.load_npy(tmp_path / "bad.npy")
