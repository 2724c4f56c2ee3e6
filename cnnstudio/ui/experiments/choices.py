"""What an experiment can vary in a project, in the user's words, and whether typed values can train.

    for choice in varying_choices(project): choice.key, choice.group, choice.hint, choice.choices
    values, problem = read_values(project, "conv1.filters", "6, 16")   # problem: "" or what is wrong

Training and dataset settings are the ones the Training and Dataset panels set; a layer's
parameters, ranges and choices come from the layer catalog. Values are checked as
`cnnstudio experiment` checks them (`cnnstudio.ml.experiment_checks`, no TensorFlow): the
project file's rules, the training settings' rules and whether the network still fits its data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnnstudio.core.catalog import CATALOG
from cnnstudio.core.catalog.spec import BOOL, UNSET
from cnnstudio.core.catalog.training import NORMALIZATIONS, OPTIMIZERS, SCHEDULES
from cnnstudio.core.datasets import FIXED_NAMES
from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_spec import parse_values, value_text
from cnnstudio.core.project import Project
from cnnstudio.core.project_settings import DataChoices, TrainingChoices
from cnnstudio.ml.experiment_checks import check_setting

TRAINING_GROUP, DATASET_GROUP = "Training", "Dataset"
SHUFFLE_SEED = 1234  # the permutation offered for "shuffled pixels"


@dataclass(frozen=True)
class VaryingChoice:
    """One thing an experiment may vary: its key, where it belongs, what it allows, its value now."""

    key: str  # as the experiment file writes it: "training.learning_rate", "conv1.filters"
    group: str  # "Training", "Dataset" or the layer: "conv1 (Conv2D)"
    name: str  # "learning_rate", "filters"
    hint: str  # what is allowed, in words
    current: Any  # the project's value now
    choices: tuple[Any, ...] = ()  # for settings that take one of a few values
    doc: str = ""

    @property
    def label(self) -> str:
        """"Training: learning_rate", "conv1 (Conv2D): filters"."""
        return f"{self.group}: {self.name}"

    def suggestion(self) -> str:
        """Values to start from: the value now and one other worth comparing with it."""
        other = _other_value(self)
        values = [self.current] if other is UNSET else [self.current, other]
        return ", ".join(value_text(v) for v in values)


# training settings worth comparing, with what they allow (the training settings check them)
_TRAINING: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("learning_rate", "a number above 0, e.g. 0.001, 0.004", ()),
    ("optimizer", "one of " + ", ".join(OPTIMIZERS), OPTIMIZERS),
    ("batch_size", "whole numbers from 1, e.g. 32, 64", ()),
    ("epochs", "whole numbers from 1", ()),
    ("momentum", "from 0 up to (not including) 1 (sgd, rmsprop)", ()),
    ("weight_decay", "none or a number from 0 (adamw)", ()),
    ("schedule", "one of " + ", ".join(SCHEDULES), SCHEDULES),
    ("early_stopping", "none or a patience in epochs from 1", ()),
    ("max_steps_per_epoch", "none (every batch) or whole numbers from 1", ()),
    ("normalization", "one of " + ", ".join(NORMALIZATIONS), NORMALIZATIONS),
)
_DATASET: tuple[tuple[str, str, tuple[Any, ...]], ...] = (
    ("permute_pixels", f"none (pixels as they are) or a seed of one fixed shuffle, e.g. {SHUFFLE_SEED}", ()),
    ("name", "a dataset name: " + ", ".join(FIXED_NAMES) + ", folder:PATH, npz:PATH", FIXED_NAMES),
    ("image_size", "none or [height, width], e.g. [32, 32]", ()),
    ("color_mode", "none, grayscale or rgb", (None, "grayscale", "rgb")),
)


def varying_choices(project: Project) -> list[VaryingChoice]:
    """Everything of `project` an experiment may vary: training settings, dataset settings, then each
    layer's parameters in the network's order."""
    training = {**TrainingChoices().__dict__, "normalization": DataChoices().normalization, **project.training}
    data = {**DataChoices().__dict__, **project.dataset}
    found = [VaryingChoice(f"training.{name}", TRAINING_GROUP, name, hint, training.get(name), choices)
             for name, hint, choices in _TRAINING]
    found += [VaryingChoice(f"dataset.{name}", DATASET_GROUP, name, hint, data.get(name), choices)
              for name, hint, choices in _DATASET]
    network = project.network
    try:
        order = network.topological_order()
    except Exception:  # a cycle: the nodes as listed  # noqa: BLE001
        order = list(network.nodes)
    for node_id in order:
        node = network.nodes[node_id]
        spec = CATALOG.get(node.type)
        if spec is None or node.type == "Input":
            continue
        for param in spec.params:
            choices = (True, False) if param.kind == BOOL else tuple(param.choices)
            current = node.params.get(param.name, param.default if param.default is not UNSET else None)
            found.append(VaryingChoice(f"{node_id}.{param.name}", f"{node_id} ({node.type})", param.name,
                                       param.describe_range(), current, choices, param.doc))
    return found


def read_values(project: Project, key: str, text: str) -> tuple[list[Any], str]:
    """The values typed for `key` ("0.001, 0.004"), and "" or what is wrong with them, in words.

    Each value is checked on its own, as a setting of the experiment is checked before it trains.
    """
    if not text.strip():
        return [], "type one or more values, separated by commas"
    try:
        values = parse_values(text)
    except UserError as exc:
        return [], str(exc)
    shown = [json.dumps(v, sort_keys=True) for v in values]
    twice = [value_text(v) for v, s in zip(values, shown, strict=True) if shown.count(s) > 1]
    if twice:
        return values, f"{twice[0]} is listed twice"
    for value in values:
        try:
            check_setting(project, {key: value})
        except UserError as exc:
            return values, str(exc).removeprefix("with ").replace(f": {project.name}: ", ": ", 1)
    return values, ""


def paired_settings(keys: Sequence[str], values: Sequence[Sequence[Any]]) -> tuple[list[dict[str, Any]], str]:
    """A list of settings made of the first values together, the second values together, ...; and ""
    or why the lists cannot be paired."""
    counts = {len(v) for v in values}
    if len(counts) > 1:
        return [], "for a list, give every setting the same number of values (the first ones go together, ...)"
    return [dict(zip(keys, combo, strict=True)) for combo in zip(*values, strict=True)], ""


def _other_value(choice: VaryingChoice) -> Any:
    current = choice.current
    if choice.key == "dataset.permute_pixels":
        return SHUFFLE_SEED if current is None else None
    if choice.choices:
        others = [c for c in choice.choices if c != current]
        return others[0] if others else UNSET
    if isinstance(current, bool) or current is None:
        return UNSET
    if isinstance(current, int):
        return current * 2 if current else 1
    if isinstance(current, float):
        return float(f"{current * 4:.6g}") if current else 0.1
    return UNSET

