"""The import job: read a Keras model safely and keep its weights in a new run folder."""

from __future__ import annotations

from pathlib import Path

from ..importer import import_model, save_imported_run
from ..workspace import Workspace
from .protocol import Progress
from .requests import ImportRequest
from .results import ImportedModel


def import_model_file(workspace: Workspace, request: ImportRequest, progress: Progress) -> ImportedModel:
    """The model at `request.path` as an editable network, its weights kept in a run folder."""
    imported = import_model(request.path)
    request.runs_folder.mkdir(parents=True, exist_ok=True)
    run_dir = save_imported_run(imported, request.runs_folder)
    return ImportedModel(imported.name, imported.network, tuple(imported.notes or ()), Path(run_dir))
