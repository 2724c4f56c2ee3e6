"""Experiments: the same project trained under several settings, each several seeds, as normal runs.

    spec = ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.004)),
                                Variation("conv1.filters", (6, 16))), seeds=3)
    experiment = Experiment.create(folder, project, spec)   # plans 4 settings x 3 seeds = 12 runs
    experiment.project_for(experiment.runs[0])               # what run 1 trains

What varies (keys, values, grid / random / list) is in `experiment_spec`. Runs are ordered seed by seed (every setting once, then every setting again with the
next seed), so a budget that stops early still covers every setting.

On disk an experiment is a folder:

    runs/<project>-exp-<YYYYmmdd-HHMMSS>/
        experiment.json     the spec, and every run: values, seed, run dir, status, results
        project.cnnproj     the project every run starts from
        run-001/ ...        normal run directories (see cnnstudio.ml.runs)

experiment.json is replaced atomically after every change (core/files.py). Training
lives in `cnnstudio.ml.experiments`; this module is pure Python.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError
from .experiment_spec import ExperimentSpec, apply_values, setting_id, values_label
from .files import atomic_write_text, read_user_file, write_error
from .project import Project, dumps, load_project
from .runs import RUNNING, read_run_info

EXPERIMENT_FORMAT = "cnnstudio-experiment"
EXPERIMENT_VERSION = 1
EXPERIMENT_FILE = "experiment.json"
BASE_PROJECT_FILE = "project.cnnproj"

# run statuses: the trainer's (finished, stopped, early_stopping, diverged, running) and these
PENDING, FAILED = "pending", "failed"
STOPPED = "stopped"
DONE = ("finished", "early_stopping", "diverged")  # a result to count; "stopped" runs are trained again


# -- planned runs ----------------------------------------------------------------------------

@dataclass
class PlannedRun:
    """One run of an experiment: its setting, its seed, where it is recorded, and how it went."""

    index: int  # 1-based, in the order runs are trained
    values: dict[str, Any]
    seed: int
    run_dir: str  # relative to the experiment folder
    status: str = PENDING
    test_accuracy: float | None = None
    test_loss: float | None = None
    val_accuracy: float | None = None
    val_loss: float | None = None
    seconds: float | None = None
    epochs: int = 0
    message: str = ""
    earlier: list[str] = field(default_factory=list)  # run dirs of stopped attempts, kept as they are

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def label(self) -> str:
        return values_label(self.values)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "values": self.values, "seed": self.seed, "run_dir": self.run_dir,
                "status": self.status, "test_accuracy": self.test_accuracy, "test_loss": self.test_loss,
                "val_accuracy": self.val_accuracy, "val_loss": self.val_loss, "seconds": self.seconds,
                "epochs": self.epochs, "message": self.message, "earlier": list(self.earlier)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedRun:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: copy.deepcopy(v) for k, v in data.items() if k in known})

    def take_results(self, info: Mapping[str, Any]) -> None:
        """Status and figures from the run's run.json."""
        test = info.get("test") if isinstance(info.get("test"), dict) else {}
        final = info.get("final") if isinstance(info.get("final"), dict) else {}
        self.status = str(info.get("status") or self.status)
        self.test_accuracy, self.test_loss = _number(test.get("accuracy")), _number(test.get("loss"))
        self.val_accuracy, self.val_loss = _number(final.get("val_accuracy")), _number(final.get("val_loss"))
        self.seconds = _number(info.get("seconds"))
        self.epochs = int(info.get("epochs_completed") or 0)
        self.message = str(info.get("message") or "")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# -- the experiment folder --------------------------------------------------------------------

class Experiment:
    """An experiment folder: its spec, its planned runs and the project they start from."""

    def __init__(self, folder: Path, name: str, base: Project, spec: ExperimentSpec, runs: list[PlannedRun],
                 created: str, project_file: str | None = None) -> None:
        self.folder = Path(folder)
        self.name = name
        self.base = base
        self.spec = spec
        self.runs = runs
        self.created = created
        self.project_file = project_file

    # -- creating and opening --------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, project: Project, spec: ExperimentSpec) -> Experiment:
        """A new experiment folder with every run planned (nothing trained yet).

        An existing folder that is not empty is refused, never touched.
        """
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise UserError(f"{folder} already exists; choose another experiment folder (nothing there was changed)")
        spec.check_shape()
        now = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        project_file = None if project.path is None else str(project.path)
        base = project.copy()
        experiment = cls(folder, project.name, base, spec, [], now, project_file)
        experiment._plan(spec)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(folder / BASE_PROJECT_FILE, dumps(base))
        except OSError as exc:
            raise write_error(exc, folder / BASE_PROJECT_FILE, "the experiment") from None
        base.path = folder / BASE_PROJECT_FILE
        experiment.save()
        return experiment

    @classmethod
    def open(cls, folder: str | Path) -> Experiment:
        """The experiment in `folder`; UserError when it is not one."""
        folder = Path(folder)
        path = folder / EXPERIMENT_FILE
        if not path.is_file():
            raise UserError(f"{folder} is not an experiment folder (it has no {EXPERIMENT_FILE})")
        try:
            data = json.loads(read_user_file(path, what="experiment file").decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise UserError(f"{path}: not valid JSON; the experiment file is damaged") from None
        if not isinstance(data, dict) or data.get("format") != EXPERIMENT_FORMAT:
            raise UserError(f"{path}: not a CNN Studio experiment (\"format\" should be \"{EXPERIMENT_FORMAT}\")")
        version = data.get("version")
        if not isinstance(version, int) or version > EXPERIMENT_VERSION:
            raise UserError(f"{path}: was written by a newer CNN Studio (experiment format {version}); update CNN "
                            "Studio to open it")
        base = load_project(folder / BASE_PROJECT_FILE)
        try:
            spec = ExperimentSpec.from_json(data.get("spec") or {})
            runs = [PlannedRun.from_json(r) for r in data.get("runs", [])]
        except (TypeError, ValueError, KeyError) as exc:
            raise UserError(f"{path}: the experiment file is damaged ({exc})") from None
        return cls(folder, str(data.get("name") or base.name), base, spec, runs, str(data.get("created") or ""),
                   data.get("project_file"))

    def save(self) -> None:
        """Replace experiment.json atomically."""
        data = {"format": EXPERIMENT_FORMAT, "version": EXPERIMENT_VERSION, "name": self.name,
                "project_file": self.project_file, "created": self.created, "keys": self.spec.keys,
                "spec": self.spec.to_json(), "runs": [r.to_json() for r in self.runs]}
        try:
            atomic_write_text(self.folder / EXPERIMENT_FILE, json.dumps(data, indent=1, allow_nan=False) + "\n")
        except OSError as exc:
            raise write_error(exc, self.folder / EXPERIMENT_FILE, "the experiment") from None

    # -- planning --------------------------------------------------------------------------
    def _plan(self, spec: ExperimentSpec) -> list[PlannedRun]:
        """Add the runs of `spec` not planned yet (seed by seed); returns them."""
        have = {(setting_id(r.values), r.seed) for r in self.runs}
        first_seed = int(self.base.training.get("seed") or 0)
        added = []
        for s in range(spec.seeds):
            for values in spec.settings():
                if (setting_id(values), first_seed + s) in have:
                    continue
                index = len(self.runs) + 1
                run = PlannedRun(index, values, first_seed + s, self._free_run_dir(f"run-{index:03d}"))
                self.runs.append(run)
                added.append(run)
        return added

    def extend(self, more: ExperimentSpec) -> list[PlannedRun]:
        """Plan more runs: new values for the varied keys, new combinations, more seeds. Returns the new runs."""
        if more.vary or more.combinations:
            more.check_shape()
        more.check_seeds()
        merged = self.spec.merged_with(more)
        added = self._plan(merged)
        self.spec = merged
        self.save()
        return added

    def _free_run_dir(self, name: str) -> str:
        taken = {r.run_dir for r in self.runs} | {d for r in self.runs for d in r.earlier}
        candidate, n = name, 2
        while candidate in taken or (self.folder / candidate).exists():
            candidate = f"{name}-{n}"
            n += 1
        return candidate

    # -- runs ------------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return self.spec.keys

    def run_path(self, run: PlannedRun) -> Path:
        return self.folder / run.run_dir

    def project_for(self, run: PlannedRun) -> Project:
        """What `run` trains: the base project with the run's values and seed."""
        return apply_values(self.base, run.values, run.seed)

    def to_train(self) -> list[PlannedRun]:
        """The runs still to train, in order: pending, interrupted, stopped or failed ones."""
        return [r for r in self.runs if not r.done]

    def prepare_retry(self, run: PlannedRun) -> None:
        """A run whose folder holds a record that cannot be resumed (stopped, failed) is trained
        again in a fresh folder; the old one is kept as it is and listed in `earlier`."""
        if self.run_path(run).exists() and not self.resumable(run):
            run.earlier.append(run.run_dir)
            run.run_dir = self._free_run_dir(f"run-{run.index:03d}")
            run.status = PENDING

    def refresh(self) -> None:
        """Bring each started run's status and figures up to date from its run.json."""
        for run in self.runs:
            info = read_run_info(self.run_path(run))
            if info is not None:
                run.take_results(info)

    def resumable(self, run: PlannedRun) -> bool:
        """The run was interrupted (killed) mid-training: the trainer resumes it from its checkpoint."""
        info = read_run_info(self.run_path(run))
        return info is not None and info.get("status") == RUNNING


def default_experiment_dir(project: Project, stem: str | None = None, now: datetime.datetime | None = None,
                           runs_folder: Path | None = None) -> Path:
    """`runs/<stem>-exp-<YYYYmmdd-HHMMSS>` next to the project file (or in the current folder), or in
    `runs_folder` when given (the window's runs folder)."""
    if stem is None:
        stem = project.path.stem if project.path else _slug(project.name)
    base = Path(runs_folder) if runs_folder is not None else (project.path.parent if project.path else Path.cwd()) / "runs"
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate, n = base / f"{stem}-exp-{stamp}", 2
    while candidate.exists():
        candidate = base / f"{stem}-exp-{stamp}-{n}"
        n += 1
    return candidate


def _slug(name: str) -> str:
    cleaned = "".join(ch.lower() if ch.isalnum() else "-" for ch in name).strip("-")
    return "-".join(part for part in cleaned.split("-") if part) or "experiment"


def is_experiment_dir(path: str | Path) -> bool:
    return (Path(path) / EXPERIMENT_FILE).is_file()
