"""The model-building code of Keras's own examples (keras.io), as people write it, for import tests.

Each function returns the example's model as its page builds it, at a small image size so
the tests stay quick: the layers, settings, skip connections and keras.ops calls are the
example's. Subclassed examples (depth estimation) are written with the functional API,
layer for layer, since a model class defined in code cannot be imported by design.
"""

from __future__ import annotations

import keras
from keras import layers


def mnist_convnet() -> keras.Model:
    """keras.io/examples/vision/mnist_convnet: the classic small convnet (Sequential)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def image_classification_from_scratch(image_size=(64, 64), num_classes=2) -> keras.Model:
    """keras.io/examples/vision/image_classification_from_scratch: Xception-like, SeparableConv2D, residual adds."""
    inputs = keras.Input(shape=image_size + (3,))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in [128, 256, 512, 728]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(1024, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    units, activation = (1, "sigmoid") if num_classes == 2 else (num_classes, "softmax")
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, outputs)


def oxford_pets_segmentation(img_size=(64, 64), num_classes=3) -> keras.Model:
    """keras.io/examples/vision/oxford_pets_image_segmentation: U-Net-like, a per-pixel output."""
    inputs = keras.Input(shape=img_size + (3,))
    x = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for filters in [64, 128, 256]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    for filters in [256, 128, 64, 32]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous_block_activation = x
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs)


def denoising_autoencoder() -> keras.Model:
    """keras.io/examples/vision/autoencoder: an image in, an image out."""
    image = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(image)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(image, x)


def depth_estimation(height=64, width=64) -> keras.Model:
    """keras.io/examples/vision/depth_estimation, its blocks written functionally: additive skips
    (`x += d`, a keras.ops call), LeakyReLU, concatenated U-Net skips and a tanh depth map."""
    def downscale(x, filters):
        d = layers.Conv2D(filters, (3, 3), 1, "same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(d))
        x = layers.Conv2D(filters, (3, 3), 1, "same")(x)
        x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))
        x = x + d
        return x, layers.MaxPooling2D((2, 2), (2, 2))(x)

    def upscale(x, skip, filters):
        x = layers.Concatenate()([layers.UpSampling2D((2, 2))(x), skip])
        x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(layers.Conv2D(filters, 3, 1, "same")(x)))
        return layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(layers.Conv2D(filters, 3, 1, "same")(x)))

    f = [16, 32, 64, 128, 256]
    image = keras.Input(shape=(height, width, 3))
    c1, p1 = downscale(image, f[0])
    c2, p2 = downscale(p1, f[1])
    c3, p3 = downscale(p2, f[2])
    c4, p4 = downscale(p3, f[3])
    bn = layers.LeakyReLU(negative_slope=0.2)(layers.Conv2D(f[4], 3, 1, "same")(p4))
    bn = layers.LeakyReLU(negative_slope=0.2)(layers.Conv2D(f[4], 3, 1, "same")(bn))
    u = upscale(bn, c4, f[3])
    u = upscale(u, c3, f[2])
    u = upscale(u, c2, f[1])
    u = upscale(u, c1, f[0])
    return keras.Model(image, layers.Conv2D(1, (1, 1), padding="same", activation="tanh")(u))


def convmixer(image_size=32, filters=64, depth=2, kernel_size=5, patch_size=2, num_classes=10) -> keras.Model:
    """keras.io/examples/vision/convmixer: patches, depthwise mixing with residual adds, GELU."""
    def activation_block(x):
        return layers.BatchNormalization()(layers.Activation("gelu")(x))

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = activation_block(layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x))
    for _ in range(depth):
        x0 = x
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, padding="same")(x)
        x = layers.Add()([activation_block(x), x0])
        x = activation_block(layers.Conv2D(filters, kernel_size=1)(x))
    x = layers.GlobalAvgPool2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def text_classification(max_features=2000, embedding_dim=32) -> keras.Model:
    """keras.io/examples/nlp/text_classification_from_scratch: Embedding -> Conv1D -> GlobalMaxPooling1D."""
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(32, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(32, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return keras.Model(inputs, predictions)


EXAMPLES = {
    "mnist_convnet": mnist_convnet,
    "image_classification_from_scratch": image_classification_from_scratch,
    "oxford_pets_image_segmentation": oxford_pets_segmentation,
    "autoencoder": denoising_autoencoder,
    "depth_estimation": depth_estimation,
    "convmixer": convmixer,
    "text_classification_from_scratch": text_classification,
}


def mobilevit(image_size=64, num_classes=5, expansion_factor=2, patch_size=4) -> keras.Model:
    """keras.io/examples/vision/mobilevit (XXS): inverted residuals, transformer blocks with
    MultiHeadAttention on unfolded patches, folded back into feature maps."""
    def conv_block(x, filters=16, kernel_size=3, strides=2):
        return layers.Conv2D(filters, kernel_size, strides=strides, activation="swish", padding="same")(x)

    def correct_pad(size):  # keras.applications' imagenet_utils.correct_pad for a 3x3 kernel
        return ((1 - size[0] % 2, 1), (1 - size[1] % 2, 1))

    def inverted_residual_block(x, expanded_channels, output_channels, strides=1):
        m = layers.Conv2D(expanded_channels, 1, padding="same", use_bias=False)(x)
        m = keras.ops.silu(layers.BatchNormalization()(m))
        if strides == 2:
            m = layers.ZeroPadding2D(padding=correct_pad(m.shape[1:3]))(m)
        m = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid",
                                   use_bias=False)(m)
        m = keras.ops.silu(layers.BatchNormalization()(m))
        m = layers.BatchNormalization()(layers.Conv2D(output_channels, 1, padding="same", use_bias=False)(m))
        if x.shape[-1] == output_channels and strides == 1:
            return layers.Add()([m, x])
        return m

    def transformer_block(x, transformer_layers, projection_dim, num_heads=2):
        for _ in range(transformer_layers):
            x1 = layers.LayerNormalization(epsilon=1e-6)(x)
            attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim,
                                                         dropout=0.1)(x1, x1)
            x2 = layers.Add()([attention_output, x])
            x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
            for units in [x.shape[-1] * 2, x.shape[-1]]:
                x3 = layers.Dropout(0.1)(layers.Dense(units, activation="swish")(x3))
            x = layers.Add()([x3, x2])
        return x

    def mobilevit_block(x, num_blocks, projection_dim, strides=1):
        local_features = conv_block(x, filters=projection_dim, strides=strides)
        local_features = conv_block(local_features, filters=projection_dim, kernel_size=1, strides=strides)
        num_patches = int((local_features.shape[1] * local_features.shape[2]) / patch_size)
        patches = layers.Reshape((patch_size, num_patches, projection_dim))(local_features)
        global_features = transformer_block(patches, num_blocks, projection_dim)
        folded = layers.Reshape((*local_features.shape[1:-1], projection_dim))(global_features)
        folded = conv_block(folded, filters=x.shape[-1], kernel_size=1, strides=strides)
        joined = layers.Concatenate(axis=-1)([x, folded])
        return conv_block(joined, filters=projection_dim, strides=strides)

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = conv_block(x, filters=16)
    x = inverted_residual_block(x, expanded_channels=16 * expansion_factor, output_channels=16)
    x = inverted_residual_block(x, expanded_channels=16 * expansion_factor, output_channels=24, strides=2)
    x = inverted_residual_block(x, expanded_channels=24 * expansion_factor, output_channels=24)
    x = inverted_residual_block(x, expanded_channels=24 * expansion_factor, output_channels=48, strides=2)
    x = mobilevit_block(x, num_blocks=2, projection_dim=64)
    x = inverted_residual_block(x, expanded_channels=64 * expansion_factor, output_channels=64, strides=2)
    x = mobilevit_block(x, num_blocks=2, projection_dim=80)
    x = conv_block(x, filters=320, kernel_size=1, strides=1)
    x = layers.GlobalAvgPool2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


EXAMPLES["mobilevit"] = mobilevit
