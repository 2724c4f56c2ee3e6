"""Choosing where training runs: one device, several local devices, or several machines.

`make_strategy("default" | "mirrored" | "multi-worker")` returns a `tf.distribute`
strategy (TensorFlow only; on another Keras backend "default" means the backend's own
device placement and is None). The trainer runs `model.fit` under "default" and
"mirrored", and its own step under "multi-worker" (see `training/multi_worker.py`).

- "default": TensorFlow's default strategy (one device; a GPU when there is one).
- "mirrored": `MirroredStrategy` over all local GPUs; on a machine without GPUs,
  over every logical CPU device (tests split the CPU into two before TensorFlow starts).
- "multi-worker": `MultiWorkerMirroredStrategy`, configured by the `TF_CONFIG`
  environment variable (a JSON object with "cluster" and "task"). It must be created
  before TensorFlow runs any operation, so create the strategy first.

Only the chief (task "chief", or worker 0 when the cluster has no chief) writes the
run record; the other workers train alongside it and write nothing that lasts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ..core.errors import UserError

STRATEGIES = ("default", "mirrored", "multi-worker")


@dataclass(frozen=True)
class ClusterTask:
    """This process's place in a multi-worker cluster (from TF_CONFIG)."""

    type: str
    index: int
    num_workers: int
    has_chief: bool = False

    @property
    def is_chief(self) -> bool:
        return self.type == "chief" or (self.type == "worker" and self.index == 0 and not self.has_chief)


def read_tf_config(environ: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The parsed TF_CONFIG, None when it is not set; UserError when it is not usable."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"TF_CONFIG is not valid JSON ({exc.msg} at column {exc.colno}); it must look like "
                        '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
                        ) from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict) \
            or not isinstance(config.get("task"), dict):
        raise UserError('TF_CONFIG needs a "cluster" object and a "task" object, e.g. '
                        '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}')
    return config


def cluster_task(environ: dict[str, str] | None = None) -> ClusterTask:
    """This process's task; a lone process (no TF_CONFIG) is the chief of a one-worker cluster."""
    config = read_tf_config(environ)
    if config is None:
        return ClusterTask("chief", 0, 1)
    cluster, task = config["cluster"], config["task"]
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type not in cluster or not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise UserError(f"TF_CONFIG task {task!r} is not in its cluster {sorted(cluster)}; "
                        "\"type\" must name a list in \"cluster\" and \"index\" a position in it")
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    return ClusterTask(task_type, index, workers, "chief" in cluster)


def is_chief() -> bool:
    """Whether this process writes run records and exported files."""
    return cluster_task().is_chief


def make_strategy(name: str = "default"):
    """The `tf.distribute.Strategy` for a strategy name (see the module docstring)."""
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy '{name}'; use one of {', '.join(STRATEGIES)}")
    backend = keras_backend()
    if backend != "tensorflow":
        if name != "default":
            raise UserError(f"--strategy {name} needs the TensorFlow backend (tf.distribute); this run uses "
                            f"{backend}: use --backend tensorflow, or leave --strategy out")
        return None
    if name == "multi-worker" and read_tf_config() is None:
        raise UserError("--strategy multi-worker needs the TF_CONFIG environment variable, e.g. "
                        'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                        '"task": {"type": "worker", "index": 0}}\' on the first machine (index 1 on the second)')
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    cluster_task()  # checks the task against the cluster
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"cannot start multi-worker training from TF_CONFIG ({exc})") from None


def describe_strategy(strategy, name: str) -> dict[str, Any]:
    """JSON-ready facts about a strategy, for run.json."""
    task = cluster_task() if name == "multi-worker" else ClusterTask("chief", 0, 1)
    replicas = 1 if strategy is None else int(strategy.num_replicas_in_sync)
    return {"name": name, "replicas": replicas, "workers": task.num_workers,
            "task": {"type": task.type, "index": task.index}}


def keras_backend() -> str:
    """The Keras backend of this process (Keras is imported to tell)."""
    import keras

    return keras.backend.backend()


def strategy_name(strategy) -> str:
    """"multi-worker", "mirrored" or "default" for a strategy object (None: the backend's own placement)."""
    if strategy is None:
        return "default"
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    return "default"


def scope(strategy):
    """The strategy's scope, or a do-nothing context without one (another backend)."""
    import contextlib

    return contextlib.nullcontext() if strategy is None else strategy.scope()


def custom_gradient_names() -> frozenset[str]:
    """TensorFlow's registered custom gradients (none without TensorFlow loaded): see `forget_custom_gradients`."""
    if keras_backend() != "tensorflow":
        return frozenset()
    from .training.steps import custom_gradient_names as names

    return names()


def forget_custom_gradients(before: frozenset[str]) -> None:
    """Drop the custom gradients TensorFlow registered while a run traced its steps (tensorflow#97697)."""
    if keras_backend() == "tensorflow":
        from .training.steps import forget_custom_gradients as forget

        forget(before)
