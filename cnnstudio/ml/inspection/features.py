"""Feature maps: what every layer outputs for the images shown to the network."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from cnnstudio.core.errors import UserError

from .batching import in_batches
from .cache import submodels_for
from .layers import as_batch, get_layer, spatial_layer


def activations(
    model: keras.Model,
    images: np.ndarray,
    layers: Sequence[str] | None = None,
    *,
    batch_size: int = 64,
    progress: Callable[[int, int], bool | None] | None = None,
) -> dict[str, np.ndarray]:
    """Each layer's output for `images`, by layer name, in network order.

    Arrays keep the batch axis: a convolution or pooling layer gives (N, H, W, C)
    maps, a Dense layer (N, units). One image without a batch axis gives arrays
    without it too: (H, W, C) and (units,). `layers=None` means every layer
    (the input layer included: the images as the network receives them).
    """
    x, single = as_batch(model, images)
    names = tuple(layer.name for layer in model.layers) if layers is None else tuple(layers)
    if not names:
        raise UserError("no layers were chosen")
    for name in names:
        get_layer(model, name)  # plain message for a wrong name
    sub = submodels_for(model).features(names)
    parts = in_batches(x, batch_size, lambda batch: _as_list(sub(batch, training=False)), progress)
    result = {name: np.concatenate([p[i] for p in parts]) for i, name in enumerate(names)}
    if single:
        result = {name: value[0] for name, value in result.items()}
    return result


def feature_maps(model: keras.Model, image: np.ndarray, layer: str) -> np.ndarray:
    """One image's feature maps at one layer, (H, W, C); UserError for layers without maps."""
    spatial_layer(model, layer)
    x, _ = as_batch(model, image)
    if len(x) != 1:
        raise UserError(f"feature_maps shows one image at a time, but {len(x)} were given")
    return activations(model, x, [layer])[layer][0]


def channel_order(maps: np.ndarray) -> np.ndarray:
    """Channel indices from the most to the least active (mean value), to show the busiest maps first."""
    maps = np.asarray(maps)
    strength = maps.reshape(-1, maps.shape[-1]).mean(axis=0)
    return np.argsort(-strength, kind="stable")


def _as_list(outputs: object) -> list[np.ndarray]:
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [keras.ops.convert_to_numpy(o) for o in outputs]
