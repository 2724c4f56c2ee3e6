"""Checks on a Keras model file before Keras opens it: a regular file, a sound archive, sizes in reason.

A `.keras` file is a zip archive (config.json, metadata.json, model.weights.h5). A damaged
one is called corrupt (Keras itself says "File not found"), and sizes are read from the
archive's directory before anything is inflated: a config.json that would inflate to
gigabytes is refused at once instead of after minutes and all the memory. Needs no
TensorFlow, so the command line can check a file before TensorFlow loads.
"""

from __future__ import annotations

import json
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import UserError

MAX_CONFIG_BYTES = 64 * 2**20  # a 20,000-layer model's description is about 10 MB
MAX_SMALL_MEMBER_BYTES = 1 * 2**20  # metadata.json and the like
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass(frozen=True)
class ModelFileInfo:
    """What the archive's directory says: the layers described and the bytes it inflates to."""

    path: Path
    layers: int
    uncompressed_bytes: int


def check_model_file(path: str | Path) -> ModelFileInfo:
    """UserError in plain words for a missing, special, corrupt or oversized model file."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such model file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is a folder; give a .keras or .h5 model file")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path} is not a regular file (a device, a pipe or a socket), so it is not a model file")
    if path.suffix.lower() != ".keras":
        return ModelFileInfo(path, 0, info.st_size)  # HDF5: h5py checks its own structure
    config = json.loads(read_config_json(path))
    return ModelFileInfo(path, count_layers(config), _uncompressed(path))


def read_config_json(path: str | Path) -> bytes:
    """The config.json of a .keras archive, its size checked before it is inflated."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {item.filename: item for item in archive.infolist()}
            entry = members.get("config.json")
            if entry is None:
                raise UserError(f"{path.name} is corrupt or not a Keras model file (it holds no config.json)")
            for item in archive.infolist():
                limit = MAX_CONFIG_BYTES if item.filename == "config.json" else (
                    MAX_SMALL_MEMBER_BYTES if item.filename.endswith(".json") else None)
                if limit is not None and item.file_size > limit:
                    raise UserError(f"{path.name} is not a model CNN Studio can open: its {item.filename} would "
                                    f"inflate to {item.file_size / 2**20:,.0f} MB (a model's description is at most "
                                    f"{limit / 2**20:,.0f} MB)")
            with archive.open(entry) as handle:  # reads no more than the size checked above
                data = handle.read(MAX_CONFIG_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError):
        raise UserError(f"{path.name} is corrupt: it is not a valid .keras archive (a zip file)") from None
    except OSError as exc:
        raise UserError(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UserError(f"{path.name} is not a model CNN Studio can open: its config.json is larger than it says")
    try:
        config = json.loads(data)
    except (ValueError, RecursionError):
        raise UserError(f"{path.name} is corrupt: its model description (config.json) is not valid JSON") from None
    if not isinstance(config, dict):
        raise UserError(f"{path.name} is corrupt: its config.json does not describe a Keras model")
    return data


def _uncompressed(path: Path) -> int:
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0


def count_layers(config: Any) -> int:
    """Layers described in a model config, nested models' layers included (walked without recursion)."""
    count, stack = 0, [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            layers = value.get("layers") if isinstance(value.get("layers"), list) else None
            count += len(layers) if layers else 0
            stack.extend(v for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, (dict, list)))
    return count


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's text (Keras and converters raise messages of many lines)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:limit]
