"""Whether an experiment can be trained, checked as `cnnstudio train` checks a project: no TensorFlow.

    check_spec(project, spec)      # every key exists, every setting it plans can be trained; else UserError

The window checks a definition with these before it writes anything; the runner checks again
before it trains (`cnnstudio.ml.experiments`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..core.errors import UserError
from ..core.experiment_spec import ExperimentSpec, apply_values, assignment_text, check_keys
from ..core.experiments import Experiment, PlannedRun
from ..core.project import Project
from .training.preparation import precheck
from .training.settings import TrainingSettings

TRAINING_KEYS = tuple(f.name for f in dataclasses.fields(TrainingSettings))


def check_setting(project: Project, values: dict[str, Any], seed: int | None = None) -> Project:
    """The project of one setting, checked as `cnnstudio train` checks before training; UserError naming the values."""
    changed = apply_values(project, values, seed)
    try:
        settings = TrainingSettings.from_project(changed)
        precheck(changed, settings, str(changed.dataset.get("name")))
    except UserError as exc:
        raise UserError(f"with {assignment_text(values)}: {exc}") from None
    return changed


def check_spec(project: Project, spec: ExperimentSpec) -> None:
    """Every key of `spec` exists and every setting it plans can be trained (UserError for the first that cannot)."""
    check_keys(spec, project, TRAINING_KEYS)
    for values in spec.settings():
        check_setting(project, values)


def check_runs(experiment: Experiment, runs: list[PlannedRun]) -> None:
    """Every setting among `runs` can still be trained from the experiment's base project."""
    seen = set()
    for run in runs:
        key = json.dumps(run.values, sort_keys=True)
        if key not in seen:
            seen.add(key)
            check_setting(experiment.base, run.values)
