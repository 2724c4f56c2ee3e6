"""Pretrained backbones in Keras: the application with its preprocessing inside, and its ImageNet weights.

A backbone node becomes one nested Keras model named after the node: the preprocessing its
family's ImageNet weights expect comes first (so every export carries it), taking pixels
scaled to [0, 1] as every CNN Studio model does. The weights come through the application's
own constructor, hence Keras's download and cache (`~/.keras/models`, or `$KERAS_HOME`); this
module only listens in, to report progress, to let a window cancel, and to say in plain
words why the weights cannot be had. Offline, weights already in the cache are used.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import keras

from ..core.catalog import CATALOG, get_spec
from ..core.catalog.backbones import application_arguments, preprocessing_layers
from ..core.errors import UserError

# A classroom or offline lab can serve the files itself: this base address replaces Keras's.
MIRROR_VARIABLE = "CNNSTUDIO_WEIGHTS_MIRROR"
_KERAS_STORAGE = "https://storage.googleapis.com/"
DOWNLOAD_TIMEOUT = 30.0  # seconds without data before a download counts as failed

FLIP = [[[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]]]  # a 1x1 kernel turning RGB into BGR


class WeightsCancelled(Exception):
    """The person cancelled a weights download; nothing was kept."""


@dataclass
class WeightsHooks:
    """What a window passes to follow a download: `progress(file name, bytes so far, total or None)`
    and `cancelled()`, asked between chunks (True stops the download)."""

    progress: Callable[[str, int, int | None], None] | None = None
    cancelled: Callable[[], bool] | None = None


def build_backbone(node_id: str, family: str, params: dict[str, Any], input_shape: tuple[int | None, ...], *,
                   trainable: bool = True, hooks: WeightsHooks | None = None) -> keras.Model:
    """The backbone as a nested model named `node_id`: its preprocessing, then the application itself
    (a model of its own, so its weights file loads as Keras wrote it). Frozen when not `trainable`:
    its BatchNormalization layers then run in inference mode, as Keras does for frozen layers."""
    shape = tuple(input_shape)
    with _listening(family, hooks or WeightsHooks()) as where:
        try:
            base = getattr(keras.applications, family)(input_shape=shape, **application_arguments(family, params))
        except (WeightsCancelled, UserError):
            raise
        except Exception as exc:  # noqa: BLE001 - Keras raises plain Exceptions for downloads; say which
            raise _weights_error(family, exc, where) from None
    image = keras.Input(shape=shape, name=f"{node_id}_pixels")
    x, fixed = image, []
    for class_name, arguments in preprocessing_layers(node_id, family):
        layer = getattr(keras.layers, class_name)(**arguments)
        x = layer(x)
        if class_name == "Conv2D":
            fixed.append(layer)
    model = keras.Model(image, base(x), name=node_id)
    model.trainable = trainable
    for layer in fixed:  # it only reorders the colour channels: fixed, never trained
        layer.set_weights([keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(FLIP))])
        layer.trainable = False
    return model


def download_weights(network: Any, hooks: WeightsHooks | None = None) -> list[str]:
    """Make sure the ImageNet weights of every backbone in the network are in Keras's cache (a window
    calls this as a job before training, showing `hooks.progress`); the ids of the backbones."""
    from ..core.analysis import analyze

    analysis = analyze(network)
    found = []
    for node in network:
        spec = get_spec(node.type) if node.type in CATALOG else None
        if spec is None or spec.category != "Pretrained" or not spec.resolve(node.params)["weights"]:
            continue
        (source,) = network.inputs_of(node.id)
        shape = analysis.layers[source].output_shape
        if shape is None:
            raise UserError(f"layer '{node.id}': its input has no known size yet; fix the errors before it")
        build_backbone(node.id, node.type, node.params, tuple(shape), hooks=hooks)
        found.append(node.id)
    return found


@contextlib.contextmanager
def _listening(family: str, hooks: WeightsHooks) -> Iterator[dict[str, str]]:
    """Route Keras's weight download through progress and cancel hooks (and a mirror, when set)."""
    from keras.src.utils import file_utils

    where: dict[str, str] = {}
    original_get_file, original_retrieve = file_utils.get_file, file_utils.urlretrieve
    mirror = os.environ.get(MIRROR_VARIABLE, "").rstrip("/")

    def get_file(fname=None, origin=None, *args, **kwargs):
        if mirror and origin and origin.startswith(_KERAS_STORAGE):
            origin = f"{mirror}/{origin[len(_KERAS_STORAGE):]}"
        where["file"], where["origin"] = str(fname), str(origin)
        path = original_get_file(fname, origin, *args, **kwargs)
        where["path"] = str(path)
        return path

    def retrieve(url, filename, reporthook=None, data=None):
        name = os.path.basename(str(filename))

        def report(blocks: int, size: int, total: int) -> None:
            if hooks.cancelled is not None and hooks.cancelled():
                raise WeightsCancelled(f"the download of {family}'s weights was cancelled")
            if hooks.progress is not None:
                done = blocks * size
                hooks.progress(name, min(done, total) if total > 0 else done, total if total > 0 else None)

        return original_retrieve(url, filename, report, data)

    previous_timeout = socket.getdefaulttimeout()
    file_utils.get_file, file_utils.urlretrieve = get_file, retrieve
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        yield where
    finally:
        file_utils.get_file, file_utils.urlretrieve = original_get_file, original_retrieve
        socket.setdefaulttimeout(previous_timeout)


def _weights_error(family: str, exc: Exception, where: dict[str, str]) -> UserError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if text.startswith("URL fetch failure") or isinstance(exc, OSError) and "path" not in where and "file" in where:
        return UserError(f"the ImageNet weights of {family} are not on this computer and cannot be downloaded "
                         f"({_reason(text)}); connect to the internet once (Keras keeps them in "
                         f"{_cache_folder()}), or set weights to none")
    if "corrupted file" in text or "hash does not match" in text:
        return UserError(f"the downloaded ImageNet weights of {family} are damaged (their checksum does not "
                         "match); try again, or set weights to none")
    if "path" in where:
        return UserError(f"the ImageNet weights file {where['path']} is damaged or incomplete ({text[:120]}); "
                         "delete it and CNN Studio downloads it again")
    return UserError(f"{family} cannot be built: {text[:200]}")


def _reason(text: str) -> str:
    reason = text.split(" -- ", 1)[-1]
    return reason if len(reason) < 120 else reason[:117] + "..."


def _cache_folder() -> str:
    from keras.src.backend import config

    return os.path.join(os.path.expanduser(config.keras_home()), "models")
