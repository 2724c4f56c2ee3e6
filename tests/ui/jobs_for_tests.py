"""Jobs the ML-client tests send through the real transport: module-level functions named by their
requests, as every job is (`cnnstudio.ml.jobs.protocol`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

_HERE = "tests.ui.jobs_for_tests:"
GATES: dict[str, threading.Event] = {}  # gate name -> opened by the test


@dataclass(frozen=True)
class Echo:
    """Reports ("progress", value), then answers (value, the thread it ran on)."""

    JOB: ClassVar[str] = _HERE + "echo"
    value: object


@dataclass(frozen=True)
class Broken:
    JOB: ClassVar[str] = _HERE + "broken"
    message: str


@dataclass(frozen=True)
class CountUntilCancelled:
    """Counts in small steps until cancelled (or `limit`); says ("started", None) first."""

    JOB: ClassVar[str] = _HERE + "count_until_cancelled"
    limit: int = 10_000


@dataclass(frozen=True)
class WaitAtGate:
    """Holds the ML side until the test opens `GATES[gate]` (at most 10 s)."""

    JOB: ClassVar[str] = _HERE + "wait_at_gate"
    gate: str


@dataclass(frozen=True)
class NeedsModel:
    """Asks the workspace for its model (a UserError when none is loaded)."""

    JOB: ClassVar[str] = _HERE + "needs_model"


def echo(workspace, request: Echo, progress) -> tuple[object, int]:
    progress.event("progress", request.value)
    return request.value, threading.get_ident()


def broken(workspace, request: Broken, progress) -> None:
    raise ValueError(request.message)


def count_until_cancelled(workspace, request: CountUntilCancelled, progress) -> int:
    progress.event("started", None)
    steps = 0
    pause = threading.Event()
    while not progress.cancelled and steps < request.limit:
        steps += 1
        pause.wait(0.001)  # a job doing a little work per step
    return steps


def wait_at_gate(workspace, request: WaitAtGate, progress) -> bool:
    return GATES.setdefault(request.gate, threading.Event()).wait(10)


def needs_model(workspace, request: NeedsModel, progress) -> object:
    return workspace.require_model()


@dataclass(frozen=True)
class LayerWeights:
    """The weights of the named layers of the model under inspection."""

    JOB: ClassVar[str] = _HERE + "layer_weights"
    layers: tuple[str, ...]


def layer_weights(workspace, request: LayerWeights, progress) -> dict[str, list]:
    import numpy as np

    model = workspace.require_model().model
    return {name: [np.array(w) for w in model.get_layer(name).get_weights()] for name in request.layers}
