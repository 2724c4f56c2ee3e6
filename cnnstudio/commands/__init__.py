"""Commands of the `cnnstudio` command line that need TensorFlow (train, export).

`cnnstudio.cli` parses the arguments and calls `<command>.run(args) -> int`.
Progress goes to stderr; results go to stdout.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings


def quiet_keras() -> None:
    """Import Keras on the backend chosen (`ml.backend.choose_backend`), TensorFlow only when it is that."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        quiet_tensorflow()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=r"(keras|jax|torch)\b")
    import keras  # noqa: F401


def quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their start-up chatter on stderr.

    TensorFlow's C++ start-up messages (oneDNN, CUDA probing) are printed before its
    log level applies, so stderr is pointed at a scratch file while it loads; the
    text is shown after all if the import fails.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module=r"(keras|tensorflow|tf2onnx|google)\b")
    if "tensorflow" not in sys.modules:
        _import_silently()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


def _import_silently() -> None:
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (e.g. a GUI process): nothing to hide
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe prints here
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                sink.seek(0)
                sys.stderr.write(sink.read().decode("utf-8", "replace"))
