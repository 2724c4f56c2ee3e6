"""Finding layers in a Keras model by name and by kind, and checking the images given to it.

Every inspection tool starts here, so the messages a person sees when they pick the
wrong layer or feed the wrong images are written once.
"""

from __future__ import annotations

import keras
import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.ml.builder import layer_output  # noqa: F401 - re-exported for the inspection views

CONV_CLASSES = (
    keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
    keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D, keras.layers.SeparableConv2D,
)  # fmt: skip
POOLING_CLASSES = (
    keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.AveragePooling3D,
    keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
)  # fmt: skip
# Layers that change the size of the maps: a "block ending in a convolution" stops before them.
RESAMPLING_CLASSES = POOLING_CLASSES + (
    keras.layers.UpSampling2D, keras.layers.ZeroPadding2D, keras.layers.Cropping2D,
    keras.layers.Resizing, keras.layers.Flatten, keras.layers.Reshape,
)  # fmt: skip


def is_conv(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, CONV_CLASSES)


def conv_layers(model: keras.Model) -> list[str]:
    """Names of the convolution layers (Conv1D/2D, Depthwise, Separable, Transpose), input to output."""
    return [layer.name for layer in model.layers if is_conv(layer)]


def get_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name`, or a UserError that lists the names there are."""
    for layer in model.layers:
        if layer.name == name:
            return layer
    names = ", ".join(layer.name for layer in model.layers)
    raise UserError(f"there is no layer '{name}' in this network; its layers are {names}")


def output_shape(layer: keras.layers.Layer) -> tuple:
    """The layer's output shape with the batch axis, e.g. (None, 28, 28, 6)."""
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError) as exc:  # a layer used twice has no single output
        raise UserError(f"layer '{layer.name}' is used in several places; it cannot be inspected alone") from exc


def is_spatial(layer: keras.layers.Layer) -> bool:
    """True when the layer outputs feature maps (positions x channels), not a flat vector."""
    return len(output_shape(layer)) >= 3


def spatial_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """`get_layer`, refusing layers without feature maps (Dense, Flatten, global pooling)."""
    layer = get_layer(model, name)
    if not is_spatial(layer):
        raise UserError(f"layer '{name}' has no spatial feature maps; choose a convolution or pooling layer")
    return layer


def output_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer that makes the (first) output of the model."""
    history = getattr(model.outputs[0], "_keras_history", None)
    layer = getattr(history, "operation", None) if history is not None else None
    return layer if isinstance(layer, keras.layers.Layer) else model.layers[-1]


def holds_conv(layer: keras.layers.Layer) -> bool:
    """A convolution, or a nested model (a block) with one inside."""
    if is_conv(layer):
        return True
    return isinstance(layer, keras.Model) and any(holds_conv(inner) for inner in layer.layers)


def last_conv_block(model: keras.Model) -> keras.layers.Layer:
    """The layer Grad-CAM looks at by default: the last convolution (or nested block holding
    one) with 2-D maps, carried on through the layers that finish its block (batch norm,
    activation, residual Add...) as long as the maps keep their size.
    """
    layers = model.layers
    convs = [i for i, layer in enumerate(layers) if holds_conv(layer) and len(output_shape(layer)) == 4]
    if not convs:
        raise UserError("Grad-CAM needs a 2-D convolution layer, and this network has none")
    chosen = layers[convs[-1]]
    size = output_shape(chosen)[1:3]
    for layer in layers[convs[-1] + 1:]:
        shape = output_shape(layer)
        if len(shape) != 4 or shape[1:3] != size or isinstance(layer, RESAMPLING_CLASSES):
            break
        chosen = layer
    return chosen


def image_shape(model: keras.Model) -> tuple[int, ...]:
    """The shape of one input (H, W, C); UserError for networks with several inputs."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise UserError("the model has no defined input yet; build it (e.g. start it with keras.Input) first")
    if len(inputs) != 1:
        raise UserError(f"inspection works on networks with one input; this one has {len(inputs)}")
    return tuple(inputs[0].shape[1:])


def as_batch(model: keras.Model, images: np.ndarray) -> tuple[np.ndarray, bool]:
    """Images as a float32 batch the model accepts, and whether one image (no batch axis) was given.

    Accepts (N, *input_shape) or one image (*input_shape); for one-channel inputs the
    channel axis may be left out: (N, H, W) or (H, W).
    """
    expected = image_shape(model)
    x = np.asarray(images, dtype=np.float32)
    if expected[-1] == 1 and not _fits(x.shape[-len(expected):], expected) \
            and _fits(x.shape[-(len(expected) - 1):], expected[:-1]):
        x = x[..., None]
    single = x.ndim == len(expected)
    if single:
        x = x[None]
    if x.ndim != len(expected) + 1 or not _fits(x.shape[1:], expected):
        wanted = "x".join("?" if e is None else str(e) for e in expected)
        got = "x".join(map(str, x.shape[1:] if x.ndim == len(expected) + 1 else x.shape))
        raise UserError(
            f"the images are {got} but the network expects {wanted}; "
            "prepare them with the dataset's prepare() first"
        )
    if len(x) == 0:
        raise UserError("no images were given")
    return x, single


def _fits(shape: tuple, expected: tuple) -> bool:
    return len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))


def as_image_batch(model: keras.Model, images: np.ndarray) -> tuple[np.ndarray, bool]:
    """`as_batch` for methods that need an image input (height x width x channels)."""
    shape = image_shape(model)
    if len(shape) != 3:
        raise UserError(
            "this view needs a network whose input is an image (height x width x channels), "
            f"but its input is {'x'.join('?' if s is None else str(s) for s in shape)}"
        )
    return as_batch(model, images)
