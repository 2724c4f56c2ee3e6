"""Where a position's receptive field lies (`core.receptive`), checked against Keras itself.

The brute-force check: with every weight and input value positive (no cancellation),
the gradient of one output position with respect to the input is non-zero exactly on
the pixels that position depends on. Its bounding box must equal `field_box`, for
stacks of convolutions and pooling with 'valid' and 'same' padding (odd and even
kernels), strides, dilation, padding/cropping, upsampling, transposed convolutions
resizing (bilinear and nearest) and merges. Max pooling passes gradient to one pixel per window only, so the stacks
use average pooling, whose geometry is the same.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.errors import UserError
from cnnstudio.core.network import Network
from cnnstudio.core.receptive import field_box, field_region, field_size_text
from cnnstudio.core.templates import load_template


def chain(input_shape: list[int], *layers: tuple[str, dict]) -> Network:
    net = Network()
    net.add_node("Input", {"shape": input_shape}, node_id="input")
    previous = "input"
    for i, (type_name, params) in enumerate(layers):
        node_id = f"layer{i}"
        net.add_node(type_name, params, node_id=node_id)
        net.connect(previous, node_id)
        previous = node_id
    return net


# ---------------------------------------------------------------- pure core


def test_box_of_a_same_padded_convolution_is_centred_and_clipped():
    net = load_template("lenet5").network
    assert field_box(net, "conv1", 14, 14) == (12, 12, 17, 17)
    assert field_box(net, "conv1", 0, 0) == (0, 0, 3, 3)  # the rest is zero padding
    assert field_box(net, "conv1", 27, 27) == (25, 25, 28, 28)


def test_box_size_matches_analysis_receptive_field_away_from_borders():
    net = load_template("lenet5").network
    analysis = analyze(net)
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        h, w, _ = analysis.layers[layer].output_shape
        top, left, bottom, right = field_box(net, layer, h // 2, w // 2, analysis=analysis)
        assert (bottom - top, right - left) == analysis.layers[layer].receptive_field


def test_even_kernel_same_padding_puts_the_extra_zero_after():
    net = chain([8, 8, 1], ("Conv2D", {"filters": 1, "kernel_size": 4, "padding": "same"}))
    # TF pads 3 in total: 1 before, 2 after, so position 0 reads rows -1..2
    assert field_box(net, "layer0", 0, 0) == (0, 0, 3, 3)
    assert field_box(net, "layer0", 7, 7) == (6, 6, 8, 8)


def test_region_of_a_sequence_network_has_one_axis():
    net = chain([20, 2], ("Conv1D", {"filters": 2, "kernel_size": 5, "padding": "causal"}))
    assert field_region(net, "layer0", (0,)) == ((0, 1),)
    assert field_region(net, "layer0", (10,)) == ((6, 11),)
    assert field_size_text(field_region(net, "layer0", (10,))) == "5"


def test_position_inside_added_zeros_sees_no_pixel():
    net = chain([6, 6, 1], ("ZeroPadding2D", {"padding": 2}))
    assert field_box(net, "layer0", 0, 0) is None
    assert field_box(net, "layer0", 2, 3) == (0, 1, 1, 2)


def test_layers_after_flatten_depend_on_the_whole_image():
    net = chain([6, 6, 1], ("Conv2D", {"filters": 2, "kernel_size": 3}), ("Flatten", {}),
                ("Dense", {"units": 16}), ("Reshape", {"target_shape": [4, 4, 1]}),
                ("Conv2D", {"filters": 1, "kernel_size": 1}))
    assert field_box(net, "layer4", 0, 0) == (0, 0, 6, 6)


def test_layer_without_maps_is_refused_in_plain_words():
    net = load_template("lenet5").network
    with pytest.raises(UserError, match="layer 'fc1' has no spatial feature maps; choose a convolution or pooling layer"):
        field_box(net, "fc1", 0, 0)
    with pytest.raises(UserError, match="outside layer 'conv2'"):
        field_box(net, "conv2", 10, 0)
    with pytest.raises(UserError, match="there is no layer 'nope'"):
        field_box(net, "nope", 0, 0)


# ---------------------------------------------------------------- brute force against Keras

STACKS = {
    "valid and same, strides": [
        ("Conv2D", {"filters": 2, "kernel_size": 3}),
        ("AveragePooling2D", {"pool_size": 2}),
        ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("Conv2D", {"filters": 2, "kernel_size": 5, "padding": "same"}),
    ],
    "even kernels, same pooling with stride": [
        ("Conv2D", {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"}),
        ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("Conv2D", {"filters": 1, "kernel_size": [2, 3], "padding": "same"}),
    ],
    "leftover rows of a valid stride": [
        ("Conv2D", {"filters": 1, "kernel_size": 3, "strides": 2}),
        ("Conv2D", {"filters": 1, "kernel_size": 3, "padding": "same"}),
    ],
    "dilation": [
        ("Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}),
        ("Conv2D", {"filters": 1, "kernel_size": 2, "dilation_rate": [1, 3]}),
    ],
    "padding, cropping, nearest upsampling": [
        ("ZeroPadding2D", {"padding": [[1, 2], [0, 3]]}),
        ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 3}),
        ("Cropping2D", {"cropping": [[1, 0], [0, 1]]}),
        ("UpSampling2D", {"size": 2}),
        ("Conv2D", {"filters": 1, "kernel_size": 3}),
    ],
    "transposed, bilinear, depthwise, separable": [
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 5, "strides": 2, "padding": "same"}),
        ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2}),
        ("UpSampling2D", {"size": 3, "interpolation": "bilinear"}),
        ("DepthwiseConv2D", {"kernel_size": 3, "padding": "same"}),
        ("SeparableConv2D", {"filters": 1, "kernel_size": 3, "strides": 2}),
    ],
    "valid transposed with gaps": [
        ("Conv2DTranspose", {"filters": 1, "kernel_size": 2, "strides": 3}),
        ("Conv2D", {"filters": 1, "kernel_size": 3}),
    ],
    "resizing, bilinear and nearest": [
        ("Resizing", {"height": 31, "width": 13}),
        ("Conv2D", {"filters": 1, "kernel_size": 3, "padding": "same"}),
        ("Resizing", {"height": 10, "width": 40, "interpolation": "nearest"}),
    ],
    "batch norm and activation pass positions through": [
        ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("BatchNormalization", {}),
        ("Activation", {"activation": "linear"}),
        ("Conv2D", {"filters": 1, "kernel_size": 3}),
    ],
}
DENSE_BOXES = {"valid and same, strides", "even kernels, same pooling with stride",
               "leftover rows of a valid stride", "batch norm and activation pass positions through"}


def _positive_weights(model, rng) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.uniform(0.1, 1.0, w.shape).astype(w.dtype) for w in weights])


def _gradient_footprints(model, input_shape, positions, rng) -> np.ndarray:
    """For each output position, which input pixels its gradient reaches (one batch row each)."""
    import tensorflow as tf

    x = tf.constant(np.repeat(rng.uniform(0.1, 1.0, (1, *input_shape)), len(positions), 0).astype(np.float32))
    rows = tf.constant([p[0] for p in positions])
    cols = tf.constant([p[1] for p in positions])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=False)
        picked = tf.gather_nd(y, tf.stack([tf.range(len(positions)), rows, cols], axis=1))
        total = tf.reduce_sum(picked)
    return np.abs(tape.gradient(total, x).numpy()).sum(axis=-1) > 0


def _assert_boxes_match(net: Network, layer: str, input_shape, dense: bool, rng) -> None:
    from cnnstudio.ml.builder import build_model

    model = build_model(net)
    _positive_weights(model, rng)
    h, w = model.output.shape[1:3]
    positions = [(r, c) for r in range(h) for c in range(w)]
    if len(positions) > 60:
        keep = rng.choice(len(positions), 56, replace=False)
        positions = [positions[i] for i in keep] + [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)]
    footprints = _gradient_footprints(model, input_shape, positions, rng)
    analysis = analyze(net)
    for (r, c), footprint in zip(positions, footprints):
        box = field_box(net, layer, r, c, analysis=analysis)
        if box is None:
            assert not footprint.any(), f"position {(r, c)} sees pixels but field_box says none"
            continue
        rows, cols = np.flatnonzero(footprint.any(axis=1)), np.flatnonzero(footprint.any(axis=0))
        found = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)
        assert found == box, f"position {(r, c)}: gradient box {found}, field_box {box}"
        if dense:
            top, left, bottom, right = box
            assert footprint[top:bottom, left:right].all()
            assert footprint.sum() == (bottom - top) * (right - left)


@pytest.mark.parametrize("name", sorted(STACKS))
def test_field_box_equals_the_gradient_footprint(name):
    rng = np.random.default_rng(7)
    shape = [19, 22, 2]
    net = chain(shape, *STACKS[name])
    _assert_boxes_match(net, f"layer{len(STACKS[name]) - 1}", shape, name in DENSE_BOXES, rng)


def test_field_box_equals_the_gradient_footprint_through_merges():
    rng = np.random.default_rng(3)
    net = Network()
    net.add_node("Input", {"shape": [17, 17, 1]}, node_id="input")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, node_id="stem")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 5, "strides": 2, "padding": "same"}, node_id="wide")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 1, "strides": 2}, node_id="shortcut")
    net.add_node("Add", {}, node_id="add")
    net.add_node("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, node_id="branch")
    net.add_node("Concatenate", {}, node_id="join")
    for src, dst in [("input", "stem"), ("stem", "wide"), ("stem", "shortcut"), ("wide", "add"),
                     ("shortcut", "add"), ("add", "branch"), ("add", "join"), ("branch", "join")]:
        net.connect(src, dst)
    _assert_boxes_match(net, "join", [17, 17, 1], True, rng)


def test_field_box_equals_the_gradient_footprint_for_random_stacks():
    rng = np.random.default_rng(11)
    menu = [
        lambda: ("Conv2D", {"filters": 1, "kernel_size": int(rng.integers(1, 6)), "strides": int(rng.integers(1, 4)),
                            "padding": str(rng.choice(["valid", "same"]))}),
        lambda: ("AveragePooling2D", {"pool_size": int(rng.integers(1, 4)), "strides": int(rng.integers(1, 4)),
                                      "padding": str(rng.choice(["valid", "same"]))}),
        lambda: ("Conv2D", {"filters": 1, "kernel_size": [int(rng.integers(1, 4)), int(rng.integers(1, 4))],
                            "dilation_rate": int(rng.integers(1, 3)), "padding": str(rng.choice(["valid", "same"]))}),
    ]
    built = 0
    while built < 6:
        layers = [menu[int(rng.integers(len(menu)))]() for _ in range(int(rng.integers(2, 5)))]
        shape = [int(rng.integers(12, 30)), int(rng.integers(12, 30)), 1]
        net = chain(shape, *layers)
        if not analyze(net).ok:
            continue
        _assert_boxes_match(net, f"layer{len(layers) - 1}", shape, False, rng)
        built += 1
