"""The playground's NumPy convolution and pooling give exactly what Keras layers give."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnstudio.core.convolution import KERNEL_PRESETS, XO_GRIDS, convolve2d, max_pool2d

TOLERANCE = 1e-5
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Multiples of 1/8 are exact in float32, so Keras's float32 sums match float64 ones
# whatever order they are added in; the tolerance then only absorbs rounding noise.
eighths = st.integers(-16, 16).map(lambda v: v / 8)
sizes = st.integers(1, 20)
strides = st.integers(1, 4)
paddings = st.sampled_from(["valid", "same"])


def _keras_conv2d(image, kernel, stride, padding):
    layer = keras.layers.Conv2D(
        1, kernel.shape, strides=stride, padding=padding, use_bias=False
    )
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel.reshape(*kernel.shape, 1, 1).astype("float32")])
    output = layer(image.reshape(1, *image.shape, 1).astype("float32"))
    return keras.ops.convert_to_numpy(output)[0, :, :, 0]


def _keras_conv1d(signal, kernel, stride, padding):
    layer = keras.layers.Conv1D(
        1, len(kernel), strides=stride, padding=padding, use_bias=False
    )
    layer.build((1, len(signal), 1))
    layer.set_weights([kernel.reshape(-1, 1, 1).astype("float32")])
    output = layer(signal.reshape(1, -1, 1).astype("float32"))
    return keras.ops.convert_to_numpy(output)[0, :, 0]


def _assert_same(ours, theirs):
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs), initial=0.0) <= TOLERANCE


@EXAMPLES
@given(
    rows=sizes,
    cols=sizes,
    kernel_rows=st.integers(1, 7),
    kernel_cols=st.integers(1, 7),
    stride=strides,
    padding=paddings,
    data=st.data(),
)
def test_convolve2d_matches_keras_conv2d(
    rows, cols, kernel_rows, kernel_cols, stride, padding, data
):
    # Keras refuses a kernel that does not fit the unpadded image.
    assume(padding == "same" or (kernel_rows <= rows and kernel_cols <= cols))
    image = data.draw(hnp.arrays(np.float64, (rows, cols), elements=eighths))
    kernel = data.draw(
        hnp.arrays(np.float64, (kernel_rows, kernel_cols), elements=eighths)
    )
    _assert_same(
        convolve2d(image, kernel, stride=stride, padding=padding),
        _keras_conv2d(image, kernel, stride, padding),
    )


@EXAMPLES
@given(
    rows=sizes,
    cols=sizes,
    size=st.integers(1, 5),
    stride=strides,
    padding=paddings,
    seed=st.integers(0, 2**32 - 1),
)
def test_convolve2d_matches_keras_ops_conv_on_arbitrary_floats(
    rows, cols, size, stride, padding, seed
):
    assume(padding == "same" or size <= min(rows, cols))
    random = np.random.default_rng(seed)
    # Compare on the float32 values Keras actually sees.
    image = random.uniform(-1, 1, (rows, cols)).astype("float32").astype(np.float64)
    kernel = random.uniform(-1, 1, (size, size)).astype("float32").astype(np.float64)
    theirs = keras.ops.conv(
        image.reshape(1, rows, cols, 1).astype("float32"),
        kernel.reshape(size, size, 1, 1).astype("float32"),
        strides=stride,
        padding=padding,
    )
    _assert_same(
        convolve2d(image, kernel, stride=stride, padding=padding),
        keras.ops.convert_to_numpy(theirs)[0, :, :, 0],
    )


@EXAMPLES
@given(
    length=sizes,
    kernel_length=st.integers(1, 7),
    stride=strides,
    padding=paddings,
    data=st.data(),
)
def test_convolve2d_on_a_signal_matches_keras_conv1d(
    length, kernel_length, stride, padding, data
):
    assume(padding == "same" or kernel_length <= length)
    signal = data.draw(hnp.arrays(np.float64, length, elements=eighths))
    kernel = data.draw(hnp.arrays(np.float64, kernel_length, elements=eighths))
    _assert_same(
        convolve2d(signal, kernel, stride=stride, padding=padding),
        _keras_conv1d(signal, kernel, stride, padding),
    )


@pytest.mark.parametrize("name", [n for n, k in KERNEL_PRESETS.items() if k.ndim == 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_every_2d_preset_on_the_x_matches_keras(name, padding):
    kernel, image = KERNEL_PRESETS[name], XO_GRIDS["X"]
    _assert_same(
        convolve2d(image, kernel, padding=padding),
        _keras_conv2d(image, kernel, 1, padding),
    )


@EXAMPLES
@given(
    rows=sizes,
    cols=sizes,
    pool=st.integers(1, 4),
    stride=st.none() | strides,
    padding=paddings,
    seed=st.integers(0, 2**32 - 1),
)
def test_max_pool2d_matches_keras_max_pooling2d(
    rows, cols, pool, stride, padding, seed
):
    assume(padding == "same" or pool <= min(rows, cols))
    image = np.random.default_rng(seed).normal(size=(rows, cols)).astype("float32")
    layer = keras.layers.MaxPooling2D(pool, strides=stride, padding=padding)
    theirs = keras.ops.convert_to_numpy(layer(image.reshape(1, rows, cols, 1)))[
        0, :, :, 0
    ]
    _assert_same(max_pool2d(image, size=pool, stride=stride, padding=padding), theirs)
