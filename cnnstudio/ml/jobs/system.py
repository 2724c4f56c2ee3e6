"""Jobs about the machine: which devices TensorFlow sees, and whether the ML side has caught up."""

from __future__ import annotations

from typing import Any

from ..workspace import Workspace
from .protocol import Progress
from .requests import DevicesRequest, PingRequest


def devices(workspace: Workspace, request: DevicesRequest, progress: Progress) -> list[str]:
    """The devices TensorFlow sees, in words ("CPU: /physical_device:CPU:0")."""
    import tensorflow as tf

    return [f"{d.device_type}: {d.name}" for d in tf.config.list_physical_devices()]


def ping(workspace: Workspace, request: PingRequest, progress: Progress) -> Any:
    """The request's value, once every job before it is done."""
    return request.value
