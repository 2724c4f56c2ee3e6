"""`mnist`, `fashion-mnist`, `cifar10`, `cifar100`: downloaded once, through Keras's own `get_file`.

Each file is fetched with ``keras.utils.get_file`` and the very arguments the
``keras.datasets`` loader passes it (`KERAS_FILES`), so Keras decides where it is kept
(its cache, ~/.keras/datasets or $KERAS_HOME/datasets) and what it is called, and
finds it again: a dataset downloaded once is never downloaded again, by CNN Studio or
by plain Keras code. While a file downloads, the standard library's URL handlers
report progress (`progress(fraction)`), stop it when the job is cancelled (an exception
raised from `progress`), give up on a dead connection, and nothing is printed on stdout.

Without a network, a dataset that is not cached fails within about 3 seconds with a
DatasetError that says what to use instead; never a traceback, never a hang.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnstudio.core.datasets import dataset_info
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.data.arrays import ArrayDataset
from cnnstudio.ml.data.options import LoadOptions

Progress = Callable[[float], None]

REACH_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 30.0
OFFLINE_HINT = "Use 'mnist-sample' (bundled) or a folder/npz dataset"
_GOOGLE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclass(frozen=True)
class KerasFile:
    """One file a `keras.datasets` loader fetches: the arguments it gives `keras.utils.get_file`."""

    fname: str
    origin: str
    cache_subdir: str = "datasets"
    extract: bool = False


KERAS_FILES: dict[str, tuple[KerasFile, ...]] = {
    "mnist": (KerasFile("mnist.npz", _GOOGLE + "mnist.npz"),),
    "fashion-mnist": tuple(
        KerasFile(name, _GOOGLE + name, os.path.join("datasets", "fashion-mnist"))
        for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz")),
    "cifar10": (KerasFile("cifar-10-batches-py-target", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                          extract=True),),
    "cifar100": (KerasFile("cifar-100-python-target", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                           extract=True),),
}


class _Offline(OSError):
    """The download's host cannot be reached."""


class _Refused(OSError):
    """A download was needed but downloading is turned off."""


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


class _DownloadWatch(urllib.request.BaseHandler):
    """Seen by every URL Keras opens while installed: refuses or fails fast before a download,
    counts the bytes of the answer (`received(done, total)`), and bounds every read's wait."""

    handler_order = 1000  # after the standard handlers have made the request and the response

    def __init__(self, allowed: bool, received: Callable[[int, int], None]) -> None:
        self.allowed = allowed
        self.received = received

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        if not self.allowed:
            raise _Refused("downloading is turned off")
        where = urllib.parse.urlsplit(request.full_url)
        port = where.port or (443 if where.scheme == "https" else 80)
        if not host_reachable(where.hostname or "", port):
            raise _Offline(f"cannot reach {where.hostname}")
        request.timeout = READ_TIMEOUT_S
        return request

    https_request = http_request

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        total = int(response.headers.get("Content-Length") or 0)
        read, done = response.read, [0]

        def counted(*args: Any) -> bytes:
            chunk = read(*args)
            done[0] += len(chunk)
            self.received(done[0], total)
            return chunk

        response.read = counted
        return response

    https_response = http_response


@contextlib.contextmanager
def _watched_downloads(watch: _DownloadWatch) -> Iterator[None]:
    """Keras's downloads go through `watch` (urllib's global opener), and print nothing, while inside."""
    import keras

    chatty = keras.config.is_interactive_logging_enabled()
    keras.config.disable_interactive_logging()  # get_file's progress bar (for this thread only)
    urllib.request.install_opener(urllib.request.build_opener(watch))
    try:
        yield
    finally:
        urllib.request.install_opener(None)  # back to urllib's default opener
        if chatty:
            keras.config.enable_interactive_logging()


def fetch(name: str, *, download: bool = True, progress: Progress | None = None,
          cache_dir: str | None = None) -> list[str]:
    """Make sure the files of `name` are in Keras's cache (``cache_dir``: Keras's own, from
    $KERAS_HOME or ~/.keras, unless given); their paths. DatasetError when they cannot be."""
    import keras

    files = KERAS_FILES[name]
    cache_dir = cache_dir or os.environ.get("KERAS_HOME") or None
    finished: list[str] = []

    def received(done: int, total: int) -> None:
        if progress is not None and total:
            progress((len(finished) + min(done / total, 1.0)) / len(files))

    with _watched_downloads(_DownloadWatch(download, received)):
        for file in files:
            try:
                finished.append(keras.utils.get_file(file.fname, file.origin, cache_subdir=file.cache_subdir,
                                                     extract=file.extract, cache_dir=cache_dir))
            except Exception as exc:
                raise _download_error(name, exc) from None
    if progress is not None:
        progress(1.0)
    return finished


def _download_error(name: str, exc: Exception) -> Exception:
    """What went wrong, in words (a cancel raised by `progress` passes through as it is)."""
    if isinstance(exc, _Refused):
        return DatasetError(f"'{name}' is not downloaded yet and downloading is turned off; "
                            f"allow the download or {OFFLINE_HINT[0].lower() + OFFLINE_HINT[1:]}")
    if isinstance(exc, _Offline):
        return DatasetError(f"cannot download '{name}': no network connection. {OFFLINE_HINT}")
    if isinstance(exc, (OSError, ValueError)) or str(exc).startswith("URL fetch failure"):
        return DatasetError(f"cannot download '{name}' ({exc}); check the network connection "
                            f"and try again. {OFFLINE_HINT}")
    return exc


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
        raise DatasetError(f"cannot download or read '{name}' ({exc}). Delete its files in Keras's dataset "
                           f"cache (~/.keras/datasets, or datasets in $KERAS_HOME) and try again with a network "
                           f"connection, or {OFFLINE_HINT[0].lower() + OFFLINE_HINT[1:]}") from None
    class_names = dataset_info(name).class_names or ()
    return ArrayDataset.from_arrays(name, class_names, x_train, y_train, x_test, y_test, options)
