"""Jobs about the machine: which devices the worker's backend sees, and whether the ML side has caught up."""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .protocol import Progress
from .requests import DevicesRequest, PingRequest


def devices(workspace: Workspace, request: DevicesRequest, progress: Progress) -> list[str]:
    """The devices the Keras backend of this process sees, in words ("CPU", "GPU: NVIDIA H200 (140 GB)")."""
    import keras

    from ..devices import devices as backend_devices

    return [device.describe() for device in backend_devices(keras.backend.backend())]


def ping(workspace: Workspace, request: PingRequest, progress: Progress) -> Any:
    """The request's value, once every job before it is done."""
    return request.value
