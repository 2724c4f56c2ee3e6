""""Check these labels": the validation images of a folder-dataset run that the model got wrong
while most sure of itself, named by their files so the user can relabel or exclude them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.datasets import parse_dataset_name
from ..core.errors import UserError
from ..core.label_edits import Suspect, suspects
from ..core.project import Project, load_project
from ..core.runs import read_val_predictions
from .training.preparation import dataset_options
from .training.settings import TrainingSettings


def folder_of_run(run_dir: str | Path) -> tuple[Project, Path]:
    """The run's project snapshot and the folder of pictures it trained on; UserError for any other dataset."""
    run_dir = Path(run_dir)
    project = load_project(Path(run_dir) / "project.cnnproj")
    name = str(project.dataset.get("name") or "")
    kind, root = parse_dataset_name(name)
    if kind != "folder" or root is None:
        raise UserError(f"{run_dir.name} was trained on '{name}'; checking labels works for a folder of your own "
                        "pictures (folder:PATH), whose files can be relabelled")
    return project, Path(root)


def check_these_labels(run_dir: str | Path, *, epoch: int | None = None, limit: int = 20,
                       dataset: Any = None) -> list[Suspect]:
    """The run's most confident mistakes on its validation split (default: at its last epoch).

    The folder is listed as the run saw it (with the relabels and exclusions it was trained
    with), so each prediction meets its own file. `dataset`: the run's dataset already loaded.
    """
    run_dir = Path(run_dir)
    project, root = folder_of_run(run_dir)
    predictions = read_val_predictions(run_dir)
    if predictions is None or not predictions.predicted:
        raise UserError(f"{run_dir.name} kept no validation predictions; train with a validation split to check "
                        "labels")
    if dataset is None:
        from .data import load_dataset

        dataset = load_dataset(str(project.dataset["name"]),
                               **dataset_options(project, TrainingSettings.from_project(project)))
    files = [Path(f).relative_to(root).as_posix() for f in dataset.files("validation")]
    return suspects(predictions, files, dataset.class_names, epoch=epoch, limit=limit)
