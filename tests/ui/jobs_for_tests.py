"""Jobs the ML-client and worker tests send through the real transports: module-level functions named by
their requests, as every job is (`cnnstudio.ml.jobs.protocol`). They run in the worker process (or on
the in-process ML thread), so what a test shares with them goes through files, never memory."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

_HERE = "tests.ui.jobs_for_tests:"
GATE_SECONDS = 10.0  # a gate nobody opens lets its job go after this long


@dataclass(frozen=True)
class Echo:
    """Reports ("progress", value), then answers (value, the thread and the process it ran in)."""

    JOB: ClassVar[str] = _HERE + "echo"
    KERAS: ClassVar[bool] = False
    value: object


@dataclass(frozen=True)
class Broken:
    JOB: ClassVar[str] = _HERE + "broken"
    KERAS: ClassVar[bool] = False
    message: str


@dataclass(frozen=True)
class CountUntilCancelled:
    """Counts in small steps until cancelled (or `limit`); says ("started", None) first."""

    JOB: ClassVar[str] = _HERE + "count_until_cancelled"
    KERAS: ClassVar[bool] = False
    limit: int = 10_000


@dataclass(frozen=True)
class Steps:
    """Works like a trainer: a step at a time, says ("step", n) every `every` steps, holds while paused
    (saying "paused" and "resumed"), ends when stopped; answers how many steps it took."""

    JOB: ClassVar[str] = _HERE + "steps"
    KERAS: ClassVar[bool] = False
    every: int = 20
    limit: int = 1_000_000


@dataclass(frozen=True)
class WaitAtGate:
    """Holds the ML side until the test creates the file `gate` (at most GATE_SECONDS)."""

    JOB: ClassVar[str] = _HERE + "wait_at_gate"
    KERAS: ClassVar[bool] = False
    gate: str


@dataclass(frozen=True)
class NeedsModel:
    """Asks the workspace for its model (a UserError when none is loaded)."""

    JOB: ClassVar[str] = _HERE + "needs_model"
    KERAS: ClassVar[bool] = False


@dataclass(frozen=True)
class Arrays:
    """Answers `count` float32 arrays of `shape`, each filled with its index (large ones travel out of band)."""

    JOB: ClassVar[str] = _HERE + "arrays"
    KERAS: ClassVar[bool] = False
    shape: tuple[int, ...]
    count: int = 1


@dataclass(frozen=True)
class KerasLayer:
    """Answers a Keras layer itself (which must not reach the window)."""

    JOB: ClassVar[str] = _HERE + "keras_layer"


@dataclass(frozen=True)
class WhereAmI:
    """The process id, the Keras backend the process runs (importing Keras), and whether TensorFlow is loaded."""

    JOB: ClassVar[str] = _HERE + "where_am_i"


def echo(workspace, request: Echo, progress) -> tuple[object, int, int]:
    progress.event("progress", request.value)
    return request.value, threading.get_ident(), os.getpid()


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


def steps(workspace, request: Steps, progress) -> int:
    control = progress.control
    done = 0
    tick = threading.Event()
    while not control.stopping and done < request.limit:
        if control.paused:
            progress.event("paused", done)
            control.wait_while_paused()
            progress.event("resumed", done)
            continue
        done += 1
        if done % request.every == 0:
            progress.event("step", done)
        tick.wait(0.001)
    return done


def wait_at_gate(workspace, request: WaitAtGate, progress) -> bool:
    progress.event("waiting", None)  # the ML side is held from now on
    gate, end = Path(request.gate), time.monotonic() + GATE_SECONDS
    tick = threading.Event()
    while not gate.exists() and time.monotonic() < end:
        tick.wait(0.005)
    return gate.exists()


def needs_model(workspace, request: NeedsModel, progress) -> str:
    return workspace.require_model().model.name


def arrays(workspace, request: Arrays, progress) -> list[np.ndarray]:
    return [np.full(request.shape, i, np.float32) for i in range(request.count)]


def where_am_i(workspace, request: WhereAmI, progress) -> dict[str, Any]:
    import sys

    import keras

    return {"pid": os.getpid(), "backend": keras.backend.backend(),
            "tensorflow": "tensorflow" in sys.modules}


def keras_layer(workspace, request: KerasLayer, progress) -> object:
    import keras

    return keras.layers.Dense(1)


@dataclass(frozen=True)
class LayerWeights:
    """The weights of the named layers of the model under inspection."""

    JOB: ClassVar[str] = _HERE + "layer_weights"
    layers: tuple[str, ...]


def layer_weights(workspace, request: LayerWeights, progress) -> dict[str, list]:
    model = workspace.require_model().model
    return {name: [np.array(w) for w in model.get_layer(name).get_weights()] for name in request.layers}


# -- fakes on the ML side, set where the jobs run ---------------------------------------------------
_UNDO: dict[str, list[tuple]] = {}
_MISSING = object()
ORIGINALS: dict[str, Any] = {}  # "module:attribute" -> what a patch replaced (for fakes that call the real one)


@dataclass(frozen=True)
class Patch:
    """Set attributes ("package.module:Name.attribute" -> value), environment variables and dict items
    ("package.module:mapping", key, value) where the jobs run, until `Unpatch(token)`."""

    JOB: ClassVar[str] = _HERE + "patch"
    KERAS: ClassVar[bool] = False
    token: str
    attributes: tuple[tuple[str, Any], ...] = ()
    environ: tuple[tuple[str, str], ...] = ()
    items: tuple[tuple[str, Any, Any], ...] = ()


@dataclass(frozen=True)
class Unpatch:
    JOB: ClassVar[str] = _HERE + "unpatch"
    KERAS: ClassVar[bool] = False
    token: str


def _owner(target: str) -> tuple[Any, str]:
    import importlib

    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    return owner, name


def patch(workspace, request: Patch, progress) -> bool:
    undo: list[tuple] = []
    for target, value in request.attributes:
        owner, name = _owner(target)
        old = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        ORIGINALS.setdefault(target, getattr(owner, name, None))
        undo.append(("attribute", owner, name, old))
        setattr(owner, name, value)
    for key, value in request.environ:
        undo.append(("environ", key, os.environ.get(key)))
        os.environ[key] = value
    for target, key, value in request.items:
        owner, name = _owner(target)
        mapping = getattr(owner, name)
        undo.append(("item", mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value
    _UNDO[request.token] = undo
    return True


def unpatch(workspace, request: Unpatch, progress) -> bool:
    for entry in reversed(_UNDO.pop(request.token, [])):
        if entry[0] == "attribute":
            _, owner, name, old = entry
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        elif entry[0] == "environ":
            _, key, old = entry
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        else:
            _, mapping, key, old = entry
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old
    return True


# fakes a test puts in place with Patch (module-level, so they travel by name)
def zero_predictions(fmt, path, x) -> np.ndarray:
    return np.zeros((len(x), 10), np.float32)


def slightly_off_predictions(fmt, path, x) -> np.ndarray:
    return ORIGINALS["cnnstudio.ml.export:predict_file"](fmt, path, x) * 1.005


def report_not_whole(path, summary) -> None:
    from cnnstudio.core.errors import UserError

    assert path.stat().st_size > 1000  # the report was written beside its name
    raise UserError("the report did not come out whole; nothing was written")


def never_reachable(host, *args, **kwargs) -> bool:
    return False


class ResourceExhaustedError(Exception):
    """Named as TensorFlow names the error of a device out of memory."""


def out_of_memory(*args, **kwargs):
    raise ResourceExhaustedError("OOM when allocating tensor with shape[64,6,28,28] and type float on "
                                 "/job:localhost/replica:0/task:0/device:GPU:0")
