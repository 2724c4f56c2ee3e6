"""The training choices CNN Studio offers: optimizers, losses, metrics, learning-rate schedules and
normalizations, declared once like the layers.

The project file's checks, the Training panel, the Preferences, the trainer, the importer
and the code generator all read them here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer: its name in project files and the Keras class that implements it."""

    name: str  # as the project file writes it ("adam")
    keras_class: str  # keras.optimizers.<keras_class>
    momentum: bool = False  # takes a momentum setting
    weight_decay: bool = False  # decoupled weight decay is what it is for (AdamW)


OPTIMIZER_SPECS = (
    OptimizerSpec("sgd", "SGD", momentum=True),
    OptimizerSpec("adam", "Adam"),
    OptimizerSpec("adamw", "AdamW", weight_decay=True),
    OptimizerSpec("rmsprop", "RMSprop", momentum=True),
    OptimizerSpec("adagrad", "Adagrad"),
    OptimizerSpec("adadelta", "Adadelta"),
    OptimizerSpec("adamax", "Adamax"),
    OptimizerSpec("nadam", "Nadam"),
)
OPTIMIZERS = tuple(spec.name for spec in OPTIMIZER_SPECS)
OPTIMIZER_BY_NAME = {spec.name: spec for spec in OPTIMIZER_SPECS}
DEFAULT_WEIGHT_DECAY = 0.004  # AdamW's, when the project sets none

LOSSES = ("auto", "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
          "mean_squared_error")  # the last for regression (see core/tasks.py)
METRICS = ("accuracy", "top_k")
SCHEDULES = ("constant", "step", "cosine", "plateau")
SCHEDULE_DEFAULTS: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"every": 10, "factor": 0.5},
    "cosine": {"min_fraction": 0.0},
    "plateau": {"factor": 0.5, "patience": 2, "min_lr": 1e-6},
}
NORMALIZATIONS = ("scale", "standardize", "none")
