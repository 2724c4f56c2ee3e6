"""Keeping TensorFlow's start-up chatter and native messages off the terminal: the one stderr silencer.

TensorFlow's C++ start-up messages (oneDNN, CUDA probing) and TFLite's "Created delegate"
line are printed by native code straight to file descriptor 2, before (or without) any
Python logging setting applying. `stderr_silenced` points descriptor 2 at a scratch file
for a moment; if the work inside fails, what was printed is shown after all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def stderr_silenced() -> Iterator[None]:
    """Hide what native code prints on stderr inside the block; replay it if the block fails."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (e.g. a GUI process): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                sink.seek(0)
                sys.stderr.write(sink.read().decode("utf-8", "replace"))


def quiet_keras() -> None:
    """Import Keras on the backend chosen (`ml.backend.choose_backend`), TensorFlow only when it is that."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        quiet_tensorflow()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=r"(keras|jax|torch)\b")
    import keras  # noqa: F401


def quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their start-up chatter on stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|tf2onnx|google)\b")
    if "tensorflow" not in sys.modules:
        with stderr_silenced():
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe prints here
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass
