"""`mnist`, `fashion-mnist`, `cifar10`, `cifar100`: downloaded once through Keras.

The files go where `keras.datasets.<x>.load_data()` looks for them (Keras's cache,
~/.keras/datasets or $KERAS_HOME/datasets), so a dataset downloaded once is never
downloaded again, by CNN Studio or by plain Keras code. CNN Studio downloads the
files itself (with a `progress(fraction)` callback and nothing printed on stdout),
then lets Keras read them.

Without a network, a dataset that is not cached fails within about 3 seconds with a
DatasetError that says what to use instead; never a traceback, never a hang.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnstudio.core.datasets import dataset_info
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data.arrays import ArrayDataset
from cnnstudio.ml.data.options import LoadOptions

Progress = Callable[[float], None]

REACH_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 30.0
_GOOGLE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class _Download:
    """Files of one dataset: (name in Keras's cache, URL), inside `subdir` of the cache."""

    subdir: str
    files: tuple[tuple[str, str], ...]


# File names as Keras 3's get_file stores them (fname without a dot + extract=True
# is stored as "<fname>_archive").
DOWNLOADS = {
    "mnist": _Download("datasets", (("mnist.npz", _GOOGLE + "mnist.npz"),)),
    "fashion-mnist": _Download("datasets/fashion-mnist", tuple(
        (f, _GOOGLE + f) for f in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                                   "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"))),
    "cifar10": _Download("datasets", (("cifar-10-batches-py-target_archive",
                                       "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),)),
    "cifar100": _Download("datasets", (("cifar-100-python-target_archive",
                                        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),)),
}

OFFLINE_HINT = "Use 'mnist-sample' (bundled) or a folder/npz dataset"


def keras_cache_dir() -> Path:
    """Keras's cache folder (what get_file uses when given no cache_dir)."""
    try:
        from keras.src.backend.config import keras_home  # the value Keras itself uses

        base = keras_home()
    except ImportError:  # pragma: no cover - other Keras layouts
        base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(base)
    if not os.access(base, os.W_OK):  # get_file's own fallback
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(base)


def missing_files(name: str) -> list[tuple[Path, str]]:
    """(cache path, URL) of the files of `name` not yet in Keras's cache."""
    spec = DOWNLOADS[name]
    folder = keras_cache_dir() / spec.subdir
    return [(folder / fname, url) for fname, url in spec.files if not (folder / fname).is_file()]


def host_reachable(host: str, port: int = 443, timeout: float = REACH_TIMEOUT_S) -> bool:
    """Whether a TCP connection to host:port opens within `timeout` seconds (DNS included)."""
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, name=f"reach-{host}", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return bool(result and result[0])


def _download(url: str, target: Path, progress: Progress | None, done: int, total_files: int) -> None:
    """Fetch `url` into `target` through a temporary file (no half files in the cache)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url, timeout=READ_TIMEOUT_S) as response, partial.open("wb") as out:
        size = int(response.headers.get("Content-Length") or 0)
        received = 0
        while chunk := response.read(1 << 20):
            out.write(chunk)
            received += len(chunk)
            if progress is not None and size:
                progress((done + min(received / size, 1.0)) / total_files)
    os.replace(partial, target)


def fetch(name: str, *, download: bool = True, progress: Progress | None = None) -> None:
    """Make sure the files of `name` are in Keras's cache; DatasetError if they cannot be."""
    missing = missing_files(name)
    if not missing:
        return
    if not download:
        raise DatasetError(f"'{name}' is not downloaded yet and downloading is turned off; "
                           f"allow the download or {OFFLINE_HINT[0].lower() + OFFLINE_HINT[1:]}")
    host = urllib.parse.urlsplit(missing[0][1]).hostname or ""
    if not host_reachable(host):
        raise DatasetError(f"cannot download '{name}': no network connection. {OFFLINE_HINT}")
    try:
        for i, (target, url) in enumerate(missing):
            _download(url, target, progress, i, len(missing))
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSErrors
        raise DatasetError(f"cannot download '{name}' ({exc}); check the network connection "
                           f"and try again. {OFFLINE_HINT}") from None
    if progress is not None:
        progress(1.0)


def _keras_arrays(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from keras import datasets

    loaders = {
        "mnist": datasets.mnist.load_data,
        "fashion-mnist": datasets.fashion_mnist.load_data,
        "cifar10": datasets.cifar10.load_data,
        "cifar100": lambda: datasets.cifar100.load_data(label_mode="fine"),
    }
    (x_train, y_train), (x_test, y_test) = loaders[name]()
    return x_train, y_train, x_test, y_test


def load_keras_dataset(name: str, options: LoadOptions, *, download: bool = True,
                       progress: Progress | None = None) -> ArrayDataset:
    """One of the Keras datasets with its own test split (10,000 images each)."""
    fetch(name, download=download, progress=progress)
    try:
        x_train, y_train, x_test, y_test = _keras_arrays(name)
    except Exception as exc:  # a damaged cache or a failed re-download: say so in plain words
        raise DatasetError(f"cannot download or read '{name}' ({exc}). Delete its files in "
                           f"{keras_cache_dir() / 'datasets'} and try again with a network connection, "
                           f"or {OFFLINE_HINT[0].lower() + OFFLINE_HINT[1:]}") from None
    class_names = dataset_info(name).class_names or ()
    return ArrayDataset.from_arrays(name, class_names, x_train, y_train, x_test, y_test, options)
