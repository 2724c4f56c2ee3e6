"""Jobs about finished runs: the pictures behind a run's kept predictions, and which labels to check.

They read the run's own project snapshot, so its dataset is split (and relabelled) exactly as
it was when the run trained; the dataset is loaded once and kept in the workspace.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import load_project
from cnnstudio.core.runs import read_run_info, read_val_predictions

from ..label_check import check_these_labels, folder_of_run
from ..workspace import Workspace
from .protocol import Progress
from .requests import LabelCheckRequest, RunImagesRequest
from .results import LabelCheck, RunImages

SPLITS = ("train", "validation", "test")


def run_images(workspace: Workspace, request: RunImagesRequest, progress: Progress) -> RunImages:
    """The pictures at `indices` of a split of the run's dataset, as its network received them."""
    run_dir = Path(request.run_dir)
    if request.split not in SPLITS:
        raise UserError(f"unknown split {request.split!r}; use 'train', 'validation' or 'test'")
    if read_run_info(run_dir) is None:
        raise UserError(f"{run_dir} is not a training run (it has no run.json)")
    project = load_project(run_dir / "project.cnnproj")
    progress.event("stage", "loading the dataset")
    data = workspace.dataset(project)
    indices = np.asarray(request.indices, dtype=np.int64)
    images, labels = data.images(request.split, indices)
    return RunImages(run_dir, request.split, indices, images, np.asarray(labels, np.int64), tuple(data.class_names))


def check_labels(workspace: Workspace, request: LabelCheckRequest, progress: Progress) -> LabelCheck:
    """The run's most confident mistakes on its validation images, with their files and pictures."""
    run_dir = Path(request.run_dir)
    project, root = folder_of_run(run_dir)
    progress.event("stage", "listing the pictures")
    data = workspace.dataset(project)
    found = check_these_labels(run_dir, limit=request.limit, dataset=data)
    images, _ = data.images("validation", np.array([s.index for s in found], dtype=np.int64))
    kept = read_val_predictions(run_dir)
    return LabelCheck(run_dir, str(project.dataset["name"]), root, tuple(data.class_names),
                      int(kept.last_epoch or 0), len(kept.labels), tuple(found), images)
