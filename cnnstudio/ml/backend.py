"""Choosing the Keras backend (TensorFlow, JAX or PyTorch) before Keras is imported.

Keras reads `KERAS_BACKEND` once, when it is first imported, so the command line calls
`choose_backend` first (the window starts its worker process with the backend set).
When none is asked for: `KERAS_BACKEND` set in the environment, else the backend chosen
in Preferences (`core.user_settings`), else TensorFlow. A backend that is not installed
is a UserError naming the extra that brings it. No Keras, no backend is imported here.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from ..core.errors import UserError
from ..core.user_settings import preferred_backend

BACKENDS = ("tensorflow", "jax", "torch")
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
DEFAULT = "tensorflow"


def default_backend(environ: dict[str, str] | None = None) -> str:
    """The backend used when none is asked for: KERAS_BACKEND if set to one we know, else the one
    chosen in Preferences, else TensorFlow."""
    chosen = (os.environ if environ is None else environ).get("KERAS_BACKEND", "").strip()
    if chosen in BACKENDS:
        return chosen
    preferred = preferred_backend()
    return preferred if preferred in BACKENDS else DEFAULT


def install_hint(name: str) -> str:
    """How to install a backend, as a command."""
    return f"pip install 'cnnstudio[{name}]'" if name != "tensorflow" else "pip install tensorflow"


def installed(name: str) -> bool:
    """Whether the backend's package can be imported (found, not imported)."""
    return importlib.util.find_spec(PACKAGES[name]) is not None


def choose_backend(name: str | None) -> str:
    """Make `name` (or the default) Keras's backend for this process; UserError if it cannot be."""
    name = name or default_backend()
    if name not in BACKENDS:
        raise UserError(f"unknown backend '{name}'; use one of {', '.join(BACKENDS)}")
    if not installed(name):
        raise UserError(f"the {name} backend is not installed; install it with: {install_hint(name)}")
    keras = sys.modules.get("keras")  # already loaded: ask it (nothing is imported here)
    if keras is not None:
        if keras.backend.backend() != name:
            raise UserError(f"Keras already runs on {keras.backend.backend()} in this process; "
                            f"start a new one to train on {name}")
        return name
    os.environ["KERAS_BACKEND"] = name
    return name
