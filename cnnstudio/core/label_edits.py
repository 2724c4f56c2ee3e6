"""The data loop: find validation images the model is most sure it is right about but is not,
and correct their labels in the project, not in the folder.

A folder dataset's project may hold, beside its name:

    "dataset": {"name": "folder:photos",
                "relabel": {"cats/0042.jpg": "dogs"},     # this image is a dog (relative path: its class)
                "exclude": ["dogs/blurry.png"]}           # leave this image out

Paths are relative to the dataset folder, with "/" between parts. The edits are applied
whenever the folder is loaded (`apply_label_edits`, called by the folder loader); the files
stay where they are. Only when the user asks to move a file does `move_image` move it, never
over an existing file, returning what `undo_move` needs to put it back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .errors import DatasetError, UserError
from .runs import ValPredictions

RELABEL, EXCLUDE = "relabel", "exclude"


@dataclass(frozen=True)
class LabelEdits:
    """The relabelled and excluded images of a folder dataset (relative paths)."""

    relabel: tuple[tuple[str, str], ...] = ()  # (relative path, class name), sorted by path
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.relabel or self.exclude)

    @classmethod
    def from_dataset(cls, section: Mapping[str, Any]) -> LabelEdits:
        """The edits of a project's `dataset` section; DatasetError when they are not written as they should be."""
        relabel = section.get(RELABEL) or {}
        exclude = section.get(EXCLUDE) or []
        if not isinstance(relabel, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in relabel.items()):
            raise DatasetError('dataset "relabel" must map image paths to class names, e.g. {"cats/1.jpg": "dogs"}')
        if not isinstance(exclude, (list, tuple)) or not all(isinstance(p, str) for p in exclude):
            raise DatasetError('dataset "exclude" must be a list of image paths, e.g. ["dogs/blurry.png"]')
        return cls(tuple(sorted((_clean(k), v) for k, v in relabel.items())), tuple(sorted(map(_clean, exclude))))


def _clean(path: str) -> str:
    """The path as a relative, "/"-separated string; absolute paths and ".." are refused."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or not posix.parts:
        raise DatasetError(f"{path!r} is not a path inside the dataset folder (write it as class/file.png)")
    return posix.as_posix()


# -- recording edits in the project's dataset section (returns a new section) -----------------

def relabelled(section: Mapping[str, Any], path: str, class_name: str) -> dict[str, Any]:
    """`section` with the image at `path` given the class `class_name` (and no longer excluded)."""
    path = _clean(path)
    relabel = {**(section.get(RELABEL) or {}), path: class_name}
    out = {**section, RELABEL: dict(sorted(relabel.items()))}
    exclude = [p for p in (section.get(EXCLUDE) or []) if p != path]
    return _tidy(out, exclude)


def excluded(section: Mapping[str, Any], path: str) -> dict[str, Any]:
    """`section` with the image at `path` left out of the dataset."""
    path = _clean(path)
    exclude = sorted({*(section.get(EXCLUDE) or []), path})
    return _tidy({**section}, exclude)


def restored(section: Mapping[str, Any], path: str) -> dict[str, Any]:
    """`section` with no edit for the image at `path` (its folder's class again, included)."""
    path = _clean(path)
    relabel = {k: v for k, v in (section.get(RELABEL) or {}).items() if k != path}
    out = {**section, RELABEL: relabel}
    return _tidy(out, [p for p in (section.get(EXCLUDE) or []) if p != path])


def _tidy(section: dict[str, Any], exclude: list[str]) -> dict[str, Any]:
    section[EXCLUDE] = exclude
    for key in (RELABEL, EXCLUDE):
        if not section.get(key):
            section.pop(key, None)
    return section


# -- applying the edits while a folder loads ---------------------------------------------------

def apply_label_edits(root: Path, paths: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                      edits: LabelEdits) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The folder's images and labels with `edits` applied, and warnings for edits naming no image.

    `paths` are the image files found (absolute or relative to where the program runs), `labels`
    their folder's class. A class name the folder does not have is a DatasetError.
    """
    if not edits:
        return paths, labels, []
    classes = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({c for _, c in edits.relabel if c not in classes})
    if unknown:
        raise DatasetError(f"dataset \"relabel\" names class '{unknown[0]}', which the folder '{root}' does not have; "
                           f"its classes: {', '.join(class_names)}")
    relative = [Path(p).relative_to(root).as_posix() for p in paths]
    where = {rel: i for i, rel in enumerate(relative)}
    labels = np.array(labels, copy=True)
    for rel, name in edits.relabel:
        if rel in where:
            labels[where[rel]] = classes[name]
    keep = np.ones(len(relative), dtype=bool)
    for rel in edits.exclude:
        if rel in where:
            keep[where[rel]] = False
    missing = sorted(rel for rel in {r for r, _ in edits.relabel} | set(edits.exclude) if rel not in where)
    warnings = []
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        warnings.append(f"the project relabels or excludes {len(missing)} image(s) that are not in '{root}' "
                        f"(moved or deleted?): {shown}")
    return paths[keep], labels[keep], warnings


# -- "check these labels" ---------------------------------------------------------------------

@dataclass(frozen=True)
class Suspect:
    """A validation image the model gets wrong while being sure of itself."""

    index: int  # position in the validation split
    path: str  # relative to the dataset folder
    label: str  # the class it is filed under (after the project's edits)
    predicted: str
    confidence: float


def suspects(predictions: ValPredictions, files: Sequence[str], class_names: Sequence[str], *,
             epoch: int | None = None, limit: int = 20) -> list[Suspect]:
    """The validation images the model gets wrong most confidently at `epoch` (default: the last).

    `files` are the validation split's images in its order, relative to the dataset folder.
    """
    if len(files) != len(predictions.labels):
        raise UserError(f"the run validated on {len(predictions.labels)} images but the folder now gives "
                        f"{len(files)}; train again to check its labels")
    epoch = predictions.last_epoch if epoch is None else epoch
    if epoch is None:
        return []
    predicted, confidence = predictions.at(epoch), predictions.confidence[epoch]
    wrong = np.flatnonzero(predicted != predictions.labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    return [Suspect(int(i), files[i], class_names[predictions.labels[i]], class_names[predicted[i]],
                    float(confidence[i])) for i in wrong]


# -- moving a file, when the user asks ---------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """A file moved from `source` to `target` (absolute paths): what undoing it needs."""

    source: Path
    target: Path


def move_image(root: str | Path, path: str, class_name: str) -> Move:
    """Move the image at `path` (relative to `root`) into the folder of `class_name`, keeping its name.

    Refused, with nothing changed, when the class folder does not exist or already holds a file
    of that name; never overwrites.
    """
    root = Path(root)
    source = root / _clean(path)
    folder = root / class_name
    if not source.is_file():
        raise UserError(f"{source} is not there any more; nothing was moved")
    if not folder.is_dir() or class_name.startswith(".") or Path(class_name).name != class_name:
        raise UserError(f"'{class_name}' is not a class folder of {root}; nothing was moved")
    target = folder / source.name
    _move_without_overwriting(source, target)
    return Move(source, target)


def undo_move(move: Move) -> Move:
    """Put a moved image back where it was (refused if something else is there now)."""
    if not move.target.is_file():
        raise UserError(f"{move.target} is not there any more; nothing was moved back")
    _move_without_overwriting(move.target, move.source)
    return Move(move.target, move.source)


def _move_without_overwriting(source: Path, target: Path) -> None:
    """A hard link then an unlink (the link fails if the target exists: never an overwrite); where
    the file system has no hard links, a rename after checking the target is free."""
    if target.exists():
        raise UserError(f"{target} already exists; nothing was moved (rename one of the files first)")
    try:
        os.link(source, target)
    except FileExistsError:
        raise UserError(f"{target} already exists; nothing was moved (rename one of the files first)") from None
    except OSError:
        os.rename(source, target)  # Windows refuses to rename over a file; elsewhere checked just above
        return
    os.unlink(source)
