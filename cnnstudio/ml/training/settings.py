"""Training settings: read from a project's `training` section, checked once, in plain words.

Keys of CONTRACTS.md (`optimizer`, `learning_rate`, `batch_size`, `epochs`,
`validation_split`, `seed`) plus optional ones this trainer understands:

- `momentum` (sgd, rmsprop; default 0.0, Keras's default), `weight_decay` (adamw; default 0.004)
- `task`: "auto" (default; what the data and the output layer imply), "classification", "binary",
  "multilabel", "segmentation" or "regression" (see `core/tasks.py`)
- `loss`: "auto" (default; chosen from the task and the output layer), "sparse_categorical_crossentropy",
  "categorical_crossentropy", "binary_crossentropy" or "mean_squared_error" (regression)
- `metrics`: list of "accuracy" and/or "top_k"; `top_k`: k (default 5)
- `schedule`: "constant" | "step" | "cosine" | "plateau", with `schedule_params`
  (step: `every` epochs, `factor`; cosine: `min_fraction`; plateau: `factor`, `patience`, `min_lr`)
- `early_stopping`: patience in epochs (stop when validation loss has not improved for
  that many epochs, then keep the best weights), or null
- `normalization`: "scale" | "standardize" | "none" (how pixel values are prepared)
- `max_steps_per_epoch`: cut each epoch short after this many batches (quick tries, tests)
- `mixed_precision`: null, "float16" or "bfloat16" (compute in half precision, keep weights in float32)
- `class_weight`: null, "balanced" (rare classes count as much as common ones) or
  {class name or number: weight}
- `fine_tune`: null, or {"head_epochs": E1, "unfreeze_top": N, "rate_factor": f}: the head trains
  with the pretrained backbones frozen for E1 of the `epochs`, then the top N layers of each
  backbone (BatchNormalization stays frozen) train too, at the learning rate x f (default 0.1)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ...core.catalog.training import LOSSES, METRICS, NORMALIZATIONS, OPTIMIZERS, SCHEDULE_DEFAULTS, SCHEDULES
from ...core.errors import UserError
from ...core.project import DEFAULT_TRAINING, Project
from ...core.tasks import BINARY, CLASSIFICATION, MULTILABEL, REGRESSION, SEGMENTATION, TASK_SETTINGS

MIXED_PRECISIONS = (None, "float16", "bfloat16")

__all__ = ["LOSSES", "METRICS", "MIXED_PRECISIONS", "NORMALIZATIONS", "SCHEDULES", "SCHEDULE_DEFAULTS", "LossChoice",
           "TrainingSettings", "choose_loss"]


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that decides how a network is trained (JSON-ready through `to_dict`)."""

    optimizer: str = DEFAULT_TRAINING["optimizer"]
    learning_rate: float = DEFAULT_TRAINING["learning_rate"]
    batch_size: int = DEFAULT_TRAINING["batch_size"]
    epochs: int = DEFAULT_TRAINING["epochs"]
    validation_split: float = DEFAULT_TRAINING["validation_split"]
    seed: int = 0
    task: str = "auto"
    momentum: float = 0.0
    weight_decay: float | None = None
    loss: str = "auto"
    metrics: tuple[str, ...] = ("accuracy",)
    top_k: int = 5
    schedule: str = "constant"
    schedule_params: dict[str, float] = field(default_factory=dict)
    early_stopping: int | None = None
    normalization: str = "scale"
    max_steps_per_epoch: int | None = None
    mixed_precision: str | None = None
    class_weight: str | dict[str, float] | None = None
    fine_tune: dict[str, Any] | None = None

    @classmethod
    def from_project(cls, project: Project, **overrides: Any) -> TrainingSettings:
        """The project's settings (defaults where it leaves keys out), with `overrides` applied.

        Overrides whose value is None are ignored (so CLI flags can be passed straight in).
        """
        raw = dict(project.training)
        raw.update({k: v for k, v in overrides.items() if v is not None})
        if "normalization" not in raw and "normalization" in project.dataset:
            raw["normalization"] = project.dataset["normalization"]
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainingSettings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if values.get("seed") is None:
            values.pop("seed", None)
        if "metrics" in values and isinstance(values["metrics"], list):
            values["metrics"] = tuple(values["metrics"])
        settings = cls(**values)
        settings.check()
        return settings

    def with_changes(self, **changes: Any) -> TrainingSettings:
        settings = replace(self, **changes)
        settings.check()
        return settings

    def check(self) -> None:
        """UserError naming the first setting that cannot work and what would."""
        _expect(self.optimizer in OPTIMIZERS, "optimizer", self.optimizer, "one of " + ", ".join(OPTIMIZERS))
        _expect(_number(self.learning_rate) and 0 < self.learning_rate <= 10, "learning_rate",
                self.learning_rate, "a number above 0, e.g. 0.001")
        _expect(_whole(self.batch_size) and 1 <= self.batch_size <= 65536, "batch_size", self.batch_size,
                "a whole number from 1, e.g. 64")
        _expect(_whole(self.epochs) and 1 <= self.epochs <= 100000, "epochs", self.epochs,
                "a whole number from 1, e.g. 5")
        _expect(_number(self.validation_split) and 0 <= self.validation_split < 1, "validation_split",
                self.validation_split, "a fraction from 0 up to (not including) 1, e.g. 0.1")
        _expect(_whole(self.seed) and self.seed >= 0, "seed", self.seed, "a whole number from 0")
        _expect(_number(self.momentum) and 0 <= self.momentum < 1, "momentum", self.momentum,
                "a number from 0 up to (not including) 1, e.g. 0.9")
        _expect(self.weight_decay is None or (_number(self.weight_decay) and self.weight_decay >= 0),
                "weight_decay", self.weight_decay, "null or a number from 0, e.g. 0.004")
        _expect(self.task in TASK_SETTINGS, "task", self.task, "one of " + ", ".join(TASK_SETTINGS))
        _expect(self.loss in LOSSES, "loss", self.loss, "one of " + ", ".join(LOSSES))
        _expect(isinstance(self.metrics, tuple) and all(m in METRICS for m in self.metrics), "metrics",
                list(self.metrics) if isinstance(self.metrics, tuple) else self.metrics,
                'a list of "accuracy" and "top_k"')
        _expect(_whole(self.top_k) and self.top_k >= 1, "top_k", self.top_k, "a whole number from 1, e.g. 5")
        _expect(self.schedule in SCHEDULES, "schedule", self.schedule, "one of " + ", ".join(SCHEDULES))
        _expect(isinstance(self.schedule_params, dict) and all(_number(v) for v in self.schedule_params.values())
                and set(self.schedule_params) <= set(SCHEDULE_DEFAULTS.get(self.schedule, {})),
                "schedule_params", self.schedule_params,
                f"an object with numbers for {sorted(SCHEDULE_DEFAULTS.get(self.schedule, {})) or 'no keys'}")
        _expect(self.early_stopping is None or (_whole(self.early_stopping) and self.early_stopping >= 1),
                "early_stopping", self.early_stopping, "null or a patience in epochs from 1, e.g. 3")
        _expect(self.normalization in NORMALIZATIONS, "normalization", self.normalization,
                "one of " + ", ".join(NORMALIZATIONS))
        _expect(self.max_steps_per_epoch is None or (_whole(self.max_steps_per_epoch) and self.max_steps_per_epoch >= 1),
                "max_steps_per_epoch", self.max_steps_per_epoch, "null or a whole number from 1")
        _expect(self.mixed_precision in MIXED_PRECISIONS, "mixed_precision", self.mixed_precision,
                'null, "float16" or "bfloat16"')
        _expect(valid_class_weight(self.class_weight), "class_weight", self.class_weight,
                'null, "balanced" or an object of class: weight (numbers from 0)')
        check_fine_tune(self.fine_tune, self.epochs)

    def schedule_param(self, key: str) -> float:
        return float(self.schedule_params.get(key, SCHEDULE_DEFAULTS[self.schedule][key]))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = list(self.metrics)
        return data


FINE_TUNE_KEYS = ("head_epochs", "unfreeze_top", "rate_factor")
FINE_TUNE_DEFAULTS = {"head_epochs": 1, "unfreeze_top": 20, "rate_factor": 0.1}


def check_fine_tune(value: Any, epochs: int) -> None:
    """UserError unless `value` is null or a fine-tuning recipe that leaves epochs for both phases."""
    if value is None:
        return
    wanted = 'null or {"head_epochs": E1, "unfreeze_top": N, "rate_factor": f}'
    _expect(isinstance(value, dict) and set(value) <= set(FINE_TUNE_KEYS)
            and {"head_epochs", "unfreeze_top"} <= set(value), "fine_tune", value, wanted)
    head, top = value["head_epochs"], value["unfreeze_top"]
    factor = value.get("rate_factor", FINE_TUNE_DEFAULTS["rate_factor"])
    _expect(_whole(head) and 1 <= head < epochs, "fine_tune.head_epochs", head,
            f"a whole number from 1 below the epochs ({epochs}), so that both phases train")
    _expect(_whole(top) and top >= 0, "fine_tune.unfreeze_top", top, "a whole number of layers from 0, e.g. 20")
    _expect(_number(factor) and 0 < factor <= 10, "fine_tune.rate_factor", factor, "a number above 0, e.g. 0.1")


def valid_class_weight(value: Any) -> bool:
    """null, "balanced", or an object mapping classes to weights from 0."""
    if value is None or value == "balanced":
        return True
    return isinstance(value, dict) and all(_number(v) and v >= 0 for v in value.values())


def _expect(ok: bool, key: str, value: Any, wanted: str) -> None:
    if not ok:
        raise UserError(f'training "{key}" is {value!r}; it must be {wanted}')


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class LossChoice:
    """The task, and the loss that fits it and the output layer: its Keras name and how targets and
    outputs are read."""

    name: str
    from_logits: bool
    binary: bool  # one sigmoid unit: labels 0/1, accuracy by threshold
    one_hot: bool  # categorical_crossentropy: labels come one-hot
    task: str = CLASSIFICATION
    num_classes: int | None = None  # classes per pixel (segmentation) or labels per image (multi-label)

    def keras_loss(self):
        from .callbacks import loss_object

        return loss_object(self.binary, self.one_hot, self.from_logits, self.task)

    @property
    def classifies(self) -> bool:
        """One class per image (single-label or binary): per-image predictions, class weights, top-k."""
        return self.task in (CLASSIFICATION, BINARY)


_TASK_LOSSES = {MULTILABEL: "binary_crossentropy", SEGMENTATION: "sparse_categorical_crossentropy",
                REGRESSION: "mean_squared_error"}


def choose_loss(requested: str, activation: str | None, units: int, num_classes: int,
                where: str = "the output layer", task: str = CLASSIFICATION) -> LossChoice:
    """Pick the loss for a task, an output layer (`activation`, `units`) and a dataset's classes.

    Classification: softmax -> sparse categorical cross-entropy on probabilities; no activation
    (linear) -> the same from logits; one sigmoid unit -> binary cross-entropy. Multi-label: binary
    cross-entropy per label; segmentation: sparse categorical cross-entropy per pixel (`units` = the
    output's channels); regression: mean squared error. A loss or an output that cannot serve the
    task is a UserError saying what would fit.
    """
    from_logits = activation in (None, "linear")
    if task in _TASK_LOSSES:
        wanted = _TASK_LOSSES[task]
        if requested not in ("auto", wanted):
            raise UserError(f'training "loss" is "{requested}" but {task} trains with "{wanted}"; use "auto"')
        if task == REGRESSION:
            return LossChoice(wanted, False, False, False, task, None)
        return LossChoice(wanted, from_logits, False, False, task, units)
    if requested == "mean_squared_error":
        raise UserError('training "loss" is "mean_squared_error", which is for regression; a classifier trains '
                        'with cross-entropy: use "auto"')
    if requested == "auto":
        requested = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
    if requested == "binary_crossentropy":
        if units != 1 or num_classes != 2:
            raise UserError(f"{where} has {units} units but binary cross-entropy needs 1 unit and 2 classes "
                            f"(the data has {num_classes}); use {num_classes} units with softmax")
        if activation not in ("sigmoid", None, "linear"):
            raise UserError(f"{where} uses {activation}; binary cross-entropy needs a sigmoid (or no) activation")
        return LossChoice(requested, from_logits, True, False, BINARY, 2)
    if units != num_classes:
        raise UserError(f"{where} has {units} units but the data has {num_classes} classes; "
                        f"set its units to {num_classes}")
    if activation not in ("softmax", "sigmoid", None, "linear"):
        raise UserError(f"{where} uses {activation}; a classifier's last layer needs softmax (or no activation) "
                        "for cross-entropy")
    return LossChoice(requested, from_logits, False, requested == "categorical_crossentropy", CLASSIFICATION,
                      num_classes)
