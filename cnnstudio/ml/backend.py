"""Choosing the Keras backend (TensorFlow, JAX or PyTorch) before Keras is imported.

Keras reads `KERAS_BACKEND` once, when it is first imported, so the command line calls
`choose_backend` first. TensorFlow stays the default; `KERAS_BACKEND` set in the
environment is taken as the user's standing choice. A backend that is not installed
is a UserError naming the extra that brings it. No Keras, no backend is imported here.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from ..core.errors import UserError

BACKENDS = ("tensorflow", "jax", "torch")
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
DEFAULT = "tensorflow"


def default_backend(environ: dict[str, str] | None = None) -> str:
    """The backend used when none is asked for: KERAS_BACKEND if set to one we know, else TensorFlow."""
    chosen = (os.environ if environ is None else environ).get("KERAS_BACKEND", "").strip()
    return chosen if chosen in BACKENDS else DEFAULT


def installed(name: str) -> bool:
    """Whether the backend's package can be imported (found, not imported)."""
    return importlib.util.find_spec(PACKAGES[name]) is not None


def choose_backend(name: str | None) -> str:
    """Make `name` (or the default) Keras's backend for this process; UserError if it cannot be."""
    name = name or default_backend()
    if name not in BACKENDS:
        raise UserError(f"unknown backend '{name}'; use one of {', '.join(BACKENDS)}")
    if not installed(name):
        extra = f"pip install 'cnnstudio[{name}]'" if name != "tensorflow" else "pip install tensorflow"
        raise UserError(f"the {name} backend is not installed; install it with: {extra}")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise UserError(f"Keras already runs on {keras.backend.backend()} in this process; "
                            f"start a new one to train on {name}")
        return name
    os.environ["KERAS_BACKEND"] = name
    return name
