"""The job that brings a network's ImageNet weights into Keras's cache before training, with
progress and Cancel (the window runs it when a backbone asks for weights)."""

from __future__ import annotations

from ..backbones import WeightsCancelled, WeightsHooks, download_weights
from ..workspace import Workspace
from .protocol import JobCancelled, Progress
from .requests import WeightsRequest


def fetch_weights(workspace: Workspace, request: WeightsRequest, progress: Progress) -> tuple[str, ...]:
    """Each backbone's weights, from Keras's cache or downloaded into it; events ("weights", (file, bytes so
    far, total or None)). Offline without a cache: a UserError saying so; cancelled: nothing kept."""
    hooks = WeightsHooks(progress=lambda name, done, total: progress.event("weights", (name, done, total)),
                         cancelled=lambda: progress.cancelled)
    try:
        return tuple(download_weights(request.project.network, hooks))
    except WeightsCancelled as exc:
        raise JobCancelled(str(exc)) from None
