"""Which devices a backend (TensorFlow, JAX, PyTorch) sees: processors, GPUs with their names and memory.

    python -m cnnstudio.ml.devices jax      # one JSON line: {"backend", "devices": [...], "error"}

The Preferences dialog runs this in a short-lived process per installed backend, so the
window never imports any of them; the worker's `DevicesRequest` asks it in-process. Only
the backend's own package is imported, not Keras.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from typing import Any

from .backend import BACKENDS, installed
from .jobs.results import Device


def devices(backend: str) -> list[Device]:
    """The devices `backend` sees (imports that backend's package)."""
    return {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}[backend]()


def _tensorflow() -> list[Device]:
    from .quiet import stderr_silenced

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stderr_silenced():
        import tensorflow as tf

        found = tf.config.list_physical_devices()
    out = []
    for device in found:
        name = "" if device.device_type == "CPU" else device.name.rsplit("device:", 1)[-1]
        if device.device_type == "GPU":
            try:
                name = tf.config.experimental.get_device_details(device).get("device_name") or name
            except (ValueError, RuntimeError):
                pass
        out.append(Device(device.device_type, name))
    return out


def _jax() -> list[Device]:
    import jax

    out = []
    for device in jax.devices():
        kind = device.platform.upper()
        memory = None
        try:
            stats = device.memory_stats() or {}
            memory = stats.get("bytes_limit")
        except Exception:  # noqa: BLE001 - the CPU backend keeps no memory statistics
            memory = None
        out.append(Device(kind, "" if kind == "CPU" else str(device.device_kind), memory))
    return out


def _torch() -> list[Device]:
    import torch

    out = [Device("CPU", "")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            out.append(Device("GPU", properties.name, int(properties.total_memory)))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append(Device("MPS", "Apple GPU"))
    return out


def probe(backend: str) -> dict[str, Any]:
    """What the probe process prints: the backend, its devices, or the error that kept it from saying."""
    if backend not in BACKENDS:
        return {"backend": backend, "devices": [], "error": f"unknown backend '{backend}'"}
    if not installed(backend):
        return {"backend": backend, "devices": [], "error": "not installed"}
    try:
        return {"backend": backend, "devices": [asdict(d) for d in devices(backend)], "error": None}
    except Exception as exc:  # noqa: BLE001 - a broken install is reported, in words, to Preferences
        return {"backend": backend, "devices": [], "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    print(json.dumps(probe(argv[0] if argv else "tensorflow")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
