"""Project files (``*.cnnproj``): plain JSON, checked on load, saved atomically.

The format is fixed by CONTRACTS.md section 1. Unknown keys are kept as they are;
newer format versions are refused; older ones are migrated on load.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blocks import Block, block_from_dict, check_blocks
from .bulk import collector_paused
from .catalog import CATALOG, ParamError, get_spec
from .catalog.training import OPTIMIZERS
from .errors import ProjectError, UserError
from .files import (  # noqa: F401 - the one writer, re-exported
    atomic_write_bytes,
    atomic_write_text,
    read_user_file,
    remove_stale_temporaries,
)
from .network import CycleError, Network, Node, copy_data, valid_id

FORMAT = "cnnstudio-project"
CURRENT_VERSION = 2
# version -> function turning a project dict of that version into the next version.
# Version 2 adds blocks, frozen layers and pretrained backbones; a version-1 file is valid as it is.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: lambda data: data}

DEFAULT_TRAINING: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": 0.001,
    "batch_size": 64,
    "epochs": 5,
    "validation_split": 0.1,
    "seed": 0,
}
FIXED_DATASETS = ("mnist-sample", "mnist", "fashion-mnist", "cifar10", "cifar100", "x-vs-o", "stripes")
MAX_NESTING = 100  # levels of objects and lists a project file may nest (a real one nests about 6)
MAX_SEED = 2**32 - 1  # NumPy, TensorFlow and Python seeds all accept 0 .. 2**32 - 1
MAX_LEARNING_RATE = 10


@dataclass
class Project:
    """A network with the data it learns from and how it is trained."""

    name: str
    network: Network
    dataset: dict[str, Any] = field(default_factory=lambda: {"name": "mnist-sample", "permute_pixels": None})
    training: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRAINING))
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept on save
    path: Path | None = None

    def setting(self, key: str) -> Any:
        """A training setting, or its default when the file leaves it out."""
        return self.training.get(key, DEFAULT_TRAINING.get(key))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": format_version(self.network),
            "name": self.name,
            "network": self.network.to_dict(),
            "dataset": copy.deepcopy(self.dataset),
            "training": copy.deepcopy(self.training),
        }
        data.update(copy.deepcopy(self.extra))
        return data

    def copy(self) -> Project:
        return Project(self.name, self.network.copy(), copy.deepcopy(self.dataset),
                       copy.deepcopy(self.training), copy.deepcopy(self.extra), self.path)


def format_version(network: Network) -> int:
    """The oldest format that holds the network: 1 unless it uses blocks, frozen layers or backbones
    (so a plain network stays readable by earlier CNN Studio versions)."""
    newer = network.blocks or any(not node.trainable or _is_backbone(node.type) for node in network)
    return 2 if newer else 1


def _is_backbone(type_name: str) -> bool:
    spec = CATALOG.get(type_name)
    return spec is not None and spec.category == "Pretrained"


def new_project(name: str = "Untitled") -> Project:
    return Project(name=name, network=Network())


# ---------------------------------------------------------------------- loading


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and check a project file; ProjectError names the file, node and value."""
    path = Path(path)
    where = path.name
    try:
        raw = read_user_file(path, what="project file")
    except UserError as exc:
        raise ProjectError(str(exc)) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as some Windows editors write, is fine
    except UnicodeDecodeError:
        raise ProjectError(f"{where}: is not a text file (project files are UTF-8 JSON)") from None
    with collector_paused():
        data = parse_json(text, where)
        project = project_from_dict(data, where)
    project.path = path
    return project


def parse_json(text: str, where: str) -> Any:
    """JSON text -> data; ProjectError for bad JSON, numbers too long to read, or nesting too deep."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ProjectError(f"{where}: not a valid project file (its objects and lists nest more than "
                           f"{MAX_NESTING} levels deep)") from None
    except ValueError:  # an integer of thousands of digits (Python refuses to convert it)
        raise ProjectError(f"{where}: not a valid project file (a number in it has thousands of digits)") from None
    return data


def project_from_dict(data: Any, where: str = "project") -> Project:
    """Check a parsed project file and build the Project."""
    _check_nesting(data, where)
    try:
        return _from_dict(data, where)
    except ProjectError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        raise ProjectError(f"{where}: not a valid project file ({exc})") from None


def _check_nesting(data: Any, where: str) -> None:
    """ProjectError naming the key where ``data`` nests deeper than MAX_NESTING (walked without recursion,
    so a file nested thousands of levels deep is refused, not a crash)."""
    level: list[Any] = [data] if isinstance(data, (dict, list)) else []  # a bare number or string nests nothing
    for _depth in range(MAX_NESTING + 1):
        deeper: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            deeper.extend(child for child in children if isinstance(child, (dict, list)))
        if not deeper:
            return
        level = deeper
    raise ProjectError(f"{where}: {_deepest_path(data)} … nests more than {MAX_NESTING} levels deep; "
                       "a project file nests only a few levels")


def _deepest_path(data: Any) -> str:
    """The first keys on the way to the deepest value, for the message (``"training" > "notes" > …``)."""
    path: list[str] = []
    value = data
    while isinstance(value, (dict, list)) and value and len(path) < 4:
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        key, value = max(items, key=lambda item: _depth_of(item[1]))
        path.append(json.dumps(key) if isinstance(key, str) else f"[{key}]")
    return " > ".join(path)


def _depth_of(value: Any) -> int:
    depth = 0
    level = [value]
    while level:
        level = [c for v in level if isinstance(v, (dict, list)) for c in (v.values() if isinstance(v, dict) else v)]
        depth += 1
    return depth


def _from_dict(data: Any, where: str) -> Project:
    if not isinstance(data, dict):
        raise ProjectError(f"{where}: not a project file (expected a JSON object with \"format\": \"{FORMAT}\")")
    if data.get("format") != FORMAT:
        raise ProjectError(f"{where}: not a CNN Studio project (\"format\" should be \"{FORMAT}\", found {_shown(data.get('format'))})")
    data = _migrate(data, where)
    known = {"format", "version", "name", "network", "dataset", "training"}
    name = data.get("name", Path(where).stem)
    if not isinstance(name, str):
        raise ProjectError(f"{where}: \"name\" must be text, not {_shown(name)}")
    network = _network_from(data.get("network"), where)
    dataset = _dataset_from(data.get("dataset", {"name": "mnist-sample", "permute_pixels": None}), where)
    training = _training_from(data.get("training", dict(DEFAULT_TRAINING)), where)
    extra = {k: v for k, v in data.items() if k not in known}
    return Project(name, network, dataset, training, extra)


def _migrate(data: dict[str, Any], where: str) -> dict[str, Any]:
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(f"{where}: \"version\" must be a whole number from 1, found {_shown(version)}")
    if version > CURRENT_VERSION:
        raise ProjectError(
            f"{where}: was saved by a newer CNN Studio (project format {_shown(version)}); this version "
            f"reads formats up to {CURRENT_VERSION}. Update CNN Studio to open it"
        )
    while version < CURRENT_VERSION:
        data = MIGRATIONS[version](copy.deepcopy(data))
        version += 1
        data["version"] = version
    return data


def _network_from(raw: Any, where: str) -> Network:
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: \"network\" must be an object with \"nodes\" and \"edges\"")
    nodes_raw = raw.get("nodes", [])
    edges_raw = raw.get("edges", [])
    if not isinstance(nodes_raw, list) or not isinstance(edges_raw, list):
        raise ProjectError(f"{where}: \"network\" needs lists \"nodes\" and \"edges\"")
    nodes: list[Node] = []
    seen: set[str] = set()
    seen_edges: set[tuple[str, str]] = set()
    for index, item in enumerate(nodes_raw):
        node = _node_from(item, index, where)
        if node.id in seen:
            raise ProjectError(f"{where}: two layers have the id '{node.id}'; ids must be unique")
        seen.add(node.id)
        nodes.append(node)
    edges: list[tuple[str, str]] = []
    for item in edges_raw:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)):
            raise ProjectError(f"{where}: edge {_shown(item)} must be a pair [\"from\", \"to\"] of layer ids")
        src, dst = item
        for end in (src, dst):
            if end not in seen:
                raise ProjectError(f"{where}: edge [{src!r}, {dst!r}] refers to '{end}', which is not a layer")
        if src == dst:
            raise ProjectError(f"{where}: edge [{src!r}, {dst!r}] connects a layer to itself")
        if (src, dst) in seen_edges:
            raise ProjectError(f"{where}: edge [{src!r}, {dst!r}] appears twice")
        seen_edges.add((src, dst))
        edges.append((src, dst))
    network = Network.from_parts(nodes, edges, _blocks_from(raw.get("blocks", []), where))
    try:
        network.topological_order()
    except CycleError as exc:
        raise ProjectError(f"{where}: {exc}; a network must flow one way") from None
    try:
        check_blocks(network, where)
    except ValueError as exc:
        raise ProjectError(str(exc)) from None
    return network


def _blocks_from(raw: Any, where: str) -> list[Block]:
    if not isinstance(raw, list):
        raise ProjectError(f"{where}: \"blocks\" must be a list of {{\"id\", \"name\", \"nodes\"}} objects")
    blocks: list[Block] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not valid_id(item["id"]):
            raise ProjectError(f"{where}: block #{index + 1} needs an \"id\" of letters, digits and _")
        if item["id"] in seen:
            raise ProjectError(f"{where}: two blocks have the id '{item['id']}'")
        seen.add(item["id"])
        members = item.get("nodes", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ProjectError(f"{where}: block '{item['id']}': \"nodes\" must be a list of layer or block ids")
        for key in ("collapsed", "trainable"):
            if key in item and not isinstance(item[key], bool):
                raise ProjectError(f"{where}: block '{item['id']}': \"{key}\" must be true or false")
        if "name" in item and not isinstance(item["name"], str):
            raise ProjectError(f"{where}: block '{item['id']}': \"name\" must be text")
        blocks.append(block_from_dict(item))
    return blocks


def _node_from(item: Any, index: int, where: str) -> Node:
    if not isinstance(item, dict):
        raise ProjectError(f"{where}: node #{index + 1} must be an object with \"id\" and \"type\"")
    node_id = item.get("id")
    if not isinstance(node_id, str) or not valid_id(node_id):
        raise ProjectError(
            f"{where}: node #{index + 1} has id {_shown(node_id)}; ids use letters, digits and _ "
            "and do not start with a digit"
        )
    type_name = item.get("type")
    if not isinstance(type_name, str):
        raise ProjectError(f"{where}: node '{node_id}' needs a \"type\" such as \"Conv2D\"")
    if type_name not in CATALOG:
        try:
            get_spec(type_name)
        except ParamError as exc:
            raise ProjectError(f"{where}: node '{node_id}': {exc}") from None
    params = item.get("params", {})
    if not isinstance(params, dict):
        raise ProjectError(f"{where}: node '{node_id}': \"params\" must be an object, not {_shown(params)}")
    try:
        get_spec(type_name).resolve(params)
    except ParamError as exc:
        raise ProjectError(f"{where}: node '{node_id}' ({type_name}): {exc}") from None
    position = item.get("position")
    if position is not None:
        if not (isinstance(position, list) and len(position) == 2
                and all(_finite(v) for v in position)):
            raise ProjectError(f"{where}: node '{node_id}': \"position\" must be [x, y], not {_shown(position)}")
        position = (float(position[0]), float(position[1]))
    trainable = item.get("trainable", True)
    if not isinstance(trainable, bool):
        raise ProjectError(f"{where}: node '{node_id}': \"trainable\" must be true or false, not {trainable!r}")
    extra = {k: v for k, v in item.items() if k not in {"id", "type", "params", "position", "trainable"}}
    return Node(node_id, type_name, copy_data(params), position, copy_data(extra), trainable=trainable)


def _dataset_from(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: \"dataset\" must be an object such as {{\"name\": \"mnist-sample\"}}")
    name = raw.get("name")
    if not isinstance(name, str) or not (
        name in FIXED_DATASETS or name.startswith("folder:") or name.startswith("npz:")
    ):
        raise ProjectError(
            f"{where}: unknown dataset {_shown(name)}; use one of {', '.join(FIXED_DATASETS)}, folder:PATH or npz:PATH"
        )
    permute = raw.get("permute_pixels")
    if permute is not None and not (_whole(permute) and 0 <= permute <= MAX_SEED):
        raise ProjectError(f"{where}: dataset \"permute_pixels\" must be null or a whole-number seed from 0 to "
                           f"{MAX_SEED}, not {_shown(permute)}")
    return copy.deepcopy(raw)


_TRAINING_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "optimizer": (lambda v: v in OPTIMIZERS, "one of " + ", ".join(OPTIMIZERS)),
    "learning_rate": (lambda v: _number(v) and 0 < v <= MAX_LEARNING_RATE,
                      f"a number above 0 and at most {MAX_LEARNING_RATE}, e.g. 0.001"),
    "batch_size": (lambda v: _whole(v) and 1 <= v <= 65536, "a whole number from 1, e.g. 64"),
    "epochs": (lambda v: _whole(v) and 1 <= v <= 100000, "a whole number from 1"),
    "validation_split": (lambda v: _number(v) and 0 <= v < 1, "a fraction from 0 up to (not including) 1"),
    "seed": (lambda v: v is None or (_whole(v) and 0 <= v <= MAX_SEED), f"a whole number from 0 to {MAX_SEED}"),
    "mixed_precision": (lambda v: v in (None, "float16", "bfloat16"), 'null, "float16" or "bfloat16"'),
    "class_weight": (lambda v: v is None or v == "balanced" or (isinstance(v, dict) and all(_number(w) and w >= 0 for w in v.values())), 'null, "balanced" or an object of class: weight'),  # noqa: E501
}
_FRACTIONAL = ("learning_rate",)  # read as a float: "learning_rate": 1 means 1.0 (Keras takes floats only)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _finite(value: Any) -> bool:
    """A number that fits a float and is not infinite or NaN (a position, say)."""
    if not _number(value):
        return False
    try:
        return abs(float(value)) < float("inf")
    except OverflowError:
        return False


def _shown(value: Any, limit: int = 60) -> str:
    """``repr`` cut short: a 5,000-digit number or a huge list stays a readable message."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str()
        return "a number of thousands of digits"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _training_from(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: \"training\" must be an object such as {{\"epochs\": 5}}")
    for key, (ok, wanted) in _TRAINING_CHECKS.items():
        if key in raw and not ok(raw[key]):
            raise ProjectError(f"{where}: training \"{key}\" is {_shown(raw[key])}; it must be {wanted}")
    training = copy.deepcopy(raw)
    for key in _FRACTIONAL:
        if key in training:
            training[key] = float(training[key])
    return training


# ---------------------------------------------------------------------- saving


def dumps(project: Project) -> str:
    """The project as JSON text: readable, diff-friendly, short lists kept on one line.

    A lone surrogate (which JSON can hold as "\\ud800" but UTF-8 cannot encode) is written as
    that JSON escape, so the file reads back the same.
    """
    text = _format(project.to_dict(), 0) + "\n"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _format(value: Any, indent: int) -> str:
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= 96 or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_format(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _format(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write the project atomically: a crash mid-save never leaves a broken file."""
    atomic_write_text(Path(path), dumps(project))
    project.path = Path(path)
