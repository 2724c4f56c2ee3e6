"""A project's training and dataset settings as typed models that say when they change.

The project file keeps the settings in its ``training`` and ``dataset`` objects
(CONTRACTS.md section 1), and it keeps them exactly: keys it does not know, and keys it
leaves out (which mean "the default"). These models are typed views of those objects.
Each key has one owner: `TrainingChoices` holds what the Training panel sets,
`DataChoices` what the Dataset panel sets (two of which the file keeps under
``training``: the validation split and the normalization).

    settings = ProjectSettings(project)
    settings.training.value.learning_rate             # typed, the default where the file has none
    settings.training.update(learning_rate=0.01)      # written into project.training
    settings.data.changed.connect(lambda keys: ...)   # called with the keys that changed

Pure Python: views subscribe to `changed` (napari's evented models are the pattern); a
view applying a change it caused itself wraps it in ``changed.blocker()``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from .events import Emitter
from .project import DEFAULT_TRAINING, Project

TRAINING, DATASET = "training", "dataset"


@dataclass(frozen=True)
class TrainingChoices:
    """How the network is trained (the Training panel's keys, all under ``training``)."""

    optimizer: str = DEFAULT_TRAINING["optimizer"]
    learning_rate: float = DEFAULT_TRAINING["learning_rate"]
    momentum: float = 0.0
    weight_decay: float | None = None
    schedule: str = "constant"
    schedule_params: dict[str, float] = field(default_factory=dict)
    batch_size: int = DEFAULT_TRAINING["batch_size"]
    epochs: int = DEFAULT_TRAINING["epochs"]
    loss: str = "auto"
    metrics: tuple[str, ...] = ("accuracy",)
    top_k: int = 5
    early_stopping: int | None = None
    seed: int = DEFAULT_TRAINING["seed"]
    max_steps_per_epoch: int | None = None
    task: str = "auto"  # or a task of core/tasks.py: what the network learns
    fine_tune: dict[str, Any] | None = None  # {"head_epochs", "unfreeze_top", "rate_factor"} or None


@dataclass(frozen=True)
class DataChoices:
    """Which data, and how it is prepared (the Dataset panel's keys)."""

    name: str = "mnist-sample"
    permute_pixels: int | None = None
    image_size: tuple[int, int] | None = None
    color_mode: str | None = None
    validation_split: float = DEFAULT_TRAINING["validation_split"]  # kept under "training"
    normalization: str = "scale"  # kept under "training" (older files: under "dataset")
    relabel: dict[str, str] | None = None  # folder datasets: image path -> its right class (core/label_edits.py)
    exclude: list[str] | None = None  # folder datasets: image paths left out


# Keys whose "not set" is written by leaving them out of the file, not as null.
OMITTED_WHEN_UNSET = frozenset({"image_size", "color_mode", "relabel", "exclude", "fine_tune"})

Choices = TypeVar("Choices", TrainingChoices, DataChoices)


class UnknownSettingError(KeyError):
    """A key that is not one of the model's settings."""


class EventedChoices(Generic[Choices]):
    """Typed settings read from and written to a project's sections; ``changed(keys=...)`` after a change."""

    def __init__(self, kind: type[Choices], project: Project, sections: dict[str, str]) -> None:
        self.kind = kind
        self.keys = tuple(f.name for f in fields(kind))
        self._sections = {key: sections.get(key, DATASET if kind is DataChoices else TRAINING) for key in self.keys}
        self._defaults = kind()
        self._project = project
        self.changed = Emitter()

    @property
    def value(self) -> Choices:
        """The settings now: what the project's file says, and the default for what it leaves out."""
        return self.kind(**{key: self.get(key) for key in self.keys})

    def get(self, key: str) -> Any:
        """One setting as stored (the default when it is not)."""
        for section in self._places(key):
            if key in section and (section[key] or key != "normalization"):
                return copy.deepcopy(section[key])
        return getattr(self._defaults, key)

    def is_set(self, key: str) -> bool:
        """Whether the project's file holds ``key`` (rather than leaving it to its default)."""
        return any(key in section for section in self._places(key))

    def update(self, **changes: Any) -> frozenset[str]:
        """Write the changed settings into the project; emit ``changed`` once with the keys that changed."""
        changed = set()
        for key, value in changes.items():
            if key not in self._sections:
                raise UnknownSettingError(f"'{key}' is not one of {', '.join(self.keys)}")
            section = getattr(self._project, self._sections[key])
            if value is None and key in OMITTED_WHEN_UNSET:
                if section.pop(key, None) is not None:
                    changed.add(key)
            elif key not in section or section[key] != value:
                section[key] = copy.deepcopy(value)
                changed.add(key)
        keys = frozenset(changed)
        if keys:
            self.changed.emit(keys=keys)
        return keys

    def bind(self, project: Project) -> None:
        """Follow another project (a new one was opened); every key counts as changed."""
        self._project = project
        self.changed.emit(keys=frozenset(self.keys))

    def _places(self, key: str) -> list[dict[str, Any]]:
        section = self._sections[key]
        places = [getattr(self._project, section)]
        if key == "normalization":  # files written before it moved to "training"
            places.append(self._project.dataset)
        return places


class ProjectSettings:
    """A project's settings, one model per owner: ``training`` and ``data``."""

    def __init__(self, project: Project) -> None:
        self.training: EventedChoices[TrainingChoices] = EventedChoices(TrainingChoices, project, {})
        self.data: EventedChoices[DataChoices] = EventedChoices(
            DataChoices, project, {"validation_split": TRAINING, "normalization": TRAINING})

    def bind(self, project: Project) -> None:
        """Follow another project: both models emit every key."""
        self.training.bind(project)
        self.data.bind(project)
