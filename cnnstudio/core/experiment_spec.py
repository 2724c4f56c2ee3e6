"""What an experiment varies: keys as the user writes them, their values, and the settings they make.

A key is `training.<setting>`, `dataset.<setting>` or `<node id>.<param>`; values are typed on
the command line ("0.001,0.004", "[3, 3],[5, 5]", "relu,tanh") or given as Python values. A spec
makes settings as a grid (every combination), a random sample of the grid, or an explicit list,
and each setting is applied to a copy of the project and checked by the project file's rules.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import UserError
from .project import Project, project_from_dict

TRAINING, DATASET, LAYER = "training", "dataset", "layer"
# dataset keys an experiment may vary (the others, such as relabelled files, are not settings)
DATASET_KEYS = ("name", "permute_pixels", "image_size", "color_mode", "normalization")

# -- keys and values -----------------------------------------------------------------------

@dataclass(frozen=True)
class SettingKey:
    """One thing an experiment varies: a training setting, a dataset setting or a layer's parameter."""

    text: str  # as written: "training.learning_rate", "conv1.filters"
    section: str  # training | dataset | layer
    name: str  # the setting or parameter
    node: str | None = None

    @property
    def label(self) -> str:
        """Short, for tables and verdicts: "learning_rate", "dataset.name", "conv1.filters"."""
        return self.name if self.section == TRAINING else self.text


def parse_key(text: str, project: Project, training_keys: Collection[str]) -> SettingKey:
    """The SettingKey `text` names in `project`; UserError saying what keys exist otherwise."""
    head, dot, name = text.strip().partition(".")
    if not dot or not head or not name:
        raise UserError(f"--vary {text!r}: a key is training.<setting>, dataset.<setting> or <layer id>.<parameter>, "
                        "e.g. training.learning_rate or conv1.filters")
    if head == TRAINING and head not in project.network:
        if name == "seed":
            raise UserError("--vary training.seed: seeds are repeats, not a setting to compare; use --seeds N to "
                            "train every setting with N seeds")
        if name not in training_keys:
            raise UserError(f"--vary {text}: there is no training setting '{name}'; settings: "
                            + ", ".join(sorted(k for k in training_keys if k != "seed")))
        return SettingKey(text, TRAINING, name)
    if head == DATASET and head not in project.network:
        if name not in DATASET_KEYS:
            raise UserError(f"--vary {text}: there is no dataset setting '{name}'; dataset settings: "
                            + ", ".join(DATASET_KEYS))
        return SettingKey(text, DATASET, name)
    if head not in project.network:
        import difflib

        ids = list(project.network.nodes)
        close = difflib.get_close_matches(head, ids, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UserError(f"--vary {text}: the network has no layer '{head}' ({hint}layers: {', '.join(ids)}; "
                        "or use training.<setting> / dataset.<setting>)")
    from .catalog import CATALOG

    node = project.network.nodes[head]
    spec = CATALOG.get(node.type)
    names = spec.param_names if spec is not None else tuple(node.params)
    if name not in names:
        raise UserError(f"--vary {text}: {node.type} layer '{head}' has no parameter '{name}'; its parameters: "
                        + ", ".join(names))
    return SettingKey(text, LAYER, name, head)


def parse_values(text: str) -> list[Any]:
    """"0.001,0.004" -> [0.001, 0.004]; "[3, 3],[5, 5]" -> [[3, 3], [5, 5]]; "relu,tanh" -> ["relu", "tanh"]."""
    items, depth, current = [], 0, []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    values = []
    for item in items:
        if not item.strip():
            raise UserError(f"{text!r} has an empty value; separate values with single commas, e.g. 0.001,0.004")
        values.append(parse_value(item))
    return values


def parse_value(text: str) -> Any:
    """A value as written on the command line: JSON where it is JSON (numbers, lists, null), else text."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return None if text.lower() == "none" else text


def parse_vary(argument: str) -> Variation:
    """One `--vary KEY=V1,V2[,...]` argument."""
    key, eq, values = argument.partition("=")
    if not eq or not key.strip() or not values.strip():
        raise UserError(f"--vary {argument!r}: write KEY=V1,V2,..., e.g. --vary training.learning_rate=0.001,0.004")
    return Variation(key.strip(), tuple(parse_values(values)))


def parse_assignment(argument: str) -> tuple[str, Any]:
    """One KEY=VALUE of an explicit combination."""
    key, eq, value = argument.partition("=")
    if not eq or not key.strip() or not value.strip():
        raise UserError(f"{argument!r}: write KEY=VALUE, e.g. training.learning_rate=0.001")
    return key.strip(), parse_value(value)


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return str(value)


def values_label(values: Mapping[str, Any], keys: Iterable[str] | None = None) -> str:
    """"learning_rate=0.004, conv1.filters=16" (only `keys`, when given)."""
    shown = list(values) if keys is None else [k for k in values if k in set(keys)]
    parts = [f"{_short(k)}={value_text(values[k])}" for k in shown]
    return ", ".join(parts) or "the project as it is"


def assignment_text(values: Mapping[str, Any]) -> str:
    """"training.learning_rate=0.004, conv1.filters=16": the keys as the user writes them (for messages)."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in values.items()) or "the project as it is"


def _short(key: str) -> str:
    return key.removeprefix("training.")


def setting_id(values: Mapping[str, Any]) -> str:
    """One canonical string per setting (the same values in any order give the same id)."""
    return json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True, default=list)


# -- the spec ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variation:
    """One key with the values it takes."""

    key: str
    values: tuple[Any, ...]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "values": list(self.values)}


@dataclass(frozen=True)
class ExperimentSpec:
    """What varies and how often each setting is repeated.

    - `vary`: the grid; with `random` set, only that many of its combinations, drawn
      with `random_seed`.
    - `combinations`: an explicit list of settings instead of a grid (each a {key: value}).
    - `seeds`: how many seeds each setting is trained with (the project's seed, +1, +2, ...).
    """

    vary: tuple[Variation, ...] = ()
    combinations: tuple[Mapping[str, Any], ...] = ()
    seeds: int = 1
    random: int | None = None
    random_seed: int = 0

    @property
    def mode(self) -> str:
        if self.combinations:
            return "list"
        return "random" if self.random is not None else "grid"

    @property
    def keys(self) -> list[str]:
        if self.combinations:
            return list(dict.fromkeys(k for c in self.combinations for k in c))
        return [v.key for v in self.vary]

    def check_shape(self) -> None:
        """UserError for a spec that cannot be planned (before any key is looked up)."""
        self.check_seeds()
        if self.vary and self.combinations:
            raise UserError("give either --vary (a grid) or --combination (a list of settings), not both")
        if not self.vary and not self.combinations:
            raise UserError("nothing varies: give --vary KEY=V1,V2 (e.g. --vary training.learning_rate=0.001,0.004) "
                            "or --combination KEY=V ...")
        keys = [v.key for v in self.vary]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise UserError(f"--vary {twice[0]} is given twice; list all its values in one --vary")
        for variation in self.vary:
            shown = [json.dumps(v, sort_keys=True) for v in variation.values]
            repeated = [v for v in variation.values if shown.count(json.dumps(v, sort_keys=True)) > 1]
            if repeated:
                raise UserError(f"--vary {variation.key} lists {value_text(repeated[0])} twice")
        ids = [setting_id(c) for c in self.combinations]
        if len(set(ids)) < len(ids):
            raise UserError("two --combination options give the same setting")
        if self.random is not None:
            if not self.vary:
                raise UserError("--random draws from a grid: give --vary as well")
            if isinstance(self.random, bool) or not isinstance(self.random, int) or self.random < 1:
                raise UserError(f"--random is {self.random!r}; it must be a whole number from 1")

    def check_seeds(self) -> None:
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or not 1 <= self.seeds <= 1000:
            raise UserError(f"--seeds is {self.seeds!r}; it must be a whole number from 1 to 1000")

    def settings(self) -> list[dict[str, Any]]:
        """The settings to train, in order (each a {key: value})."""
        if self.combinations:
            return [dict(c) for c in self.combinations]
        grid = [dict(zip((v.key for v in self.vary), combo, strict=True))
                for combo in itertools.product(*(v.values for v in self.vary))]
        if self.random is None or self.random >= len(grid):
            return grid
        picked = sorted(random.Random(self.random_seed).sample(range(len(grid)), self.random))
        return [grid[i] for i in picked]

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "vary": [v.to_json() for v in self.vary],
                "combinations": [dict(c) for c in self.combinations], "seeds": self.seeds,
                "random": self.random, "random_seed": self.random_seed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExperimentSpec:
        return cls(vary=tuple(Variation(v["key"], tuple(v["values"])) for v in data.get("vary", [])),
                   combinations=tuple(dict(c) for c in data.get("combinations", [])),
                   seeds=int(data.get("seeds", 1)), random=data.get("random"),
                   random_seed=int(data.get("random_seed", 0)))

    def merged_with(self, more: ExperimentSpec) -> ExperimentSpec:
        """This spec with `more`'s values, combinations and seeds added (for adding runs later)."""
        if self.combinations or more.combinations:
            added = [c for c in more.combinations if setting_id(c) not in {setting_id(o) for o in self.combinations}]
            return replace(self, combinations=(*self.combinations, *added), seeds=max(self.seeds, more.seeds))
        mine = {v.key: list(v.values) for v in self.vary}
        unknown = [v.key for v in more.vary if v.key not in mine]
        if unknown:
            raise UserError(f"this experiment varies {', '.join(mine)}, not {unknown[0]}; start a new experiment to "
                            "vary something else")
        for variation in more.vary:
            known = {json.dumps(v, sort_keys=True) for v in mine[variation.key]}
            mine[variation.key] += [v for v in variation.values if json.dumps(v, sort_keys=True) not in known]
        random_count = self.random if more.random is None else max(self.random or 0, more.random)
        return replace(self, vary=tuple(Variation(k, tuple(v)) for k, v in mine.items()),
                       seeds=max(self.seeds, more.seeds), random=random_count)


# -- applying a setting to the project --------------------------------------------------------

def apply_values(project: Project, values: Mapping[str, Any], seed: int | None = None) -> Project:
    """The project with `values` set (and the training seed, when given), checked as a project file is.

    A value the project file rules refuse (a layer parameter out of range, an unknown
    dataset) is a UserError naming the key and the value.
    """
    data = project.to_dict()
    for key, value in values.items():
        head, _, name = key.partition(".")
        if head in (TRAINING, DATASET) and head not in project.network:
            data[head][name] = copy.deepcopy(value)
            continue
        for node in data["network"]["nodes"]:
            if node["id"] == head:
                node.setdefault("params", {})[name] = copy.deepcopy(value)
    if seed is not None:
        data["training"]["seed"] = seed
    where = project.path.name if project.path else project.name
    try:
        changed = project_from_dict(data, where)
    except UserError as exc:
        raise UserError(f"with {assignment_text(values)}: {exc}") from None
    changed.path = project.path
    return changed


def check_keys(spec: ExperimentSpec, project: Project, training_keys: Collection[str]) -> list[SettingKey]:
    """Every key of `spec` looked up in `project` (UserError for the first that does not exist)."""
    spec.check_shape()
    return [parse_key(k, project, training_keys) for k in spec.keys]
