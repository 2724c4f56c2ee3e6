"""Where the window's training runs are kept: the runs folder of the open project.

New runs go into the folder the Preferences name, else ``runs/`` beside the project
file, else (an unsaved project) ``runs/`` in the user's data folder. Imported models
keep their weights in the last of these, since they belong to no project yet.
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.runs import RunSummary, load_history

from .. import preferences
from ..document import ProjectDocument


class RunStore:
    """The runs folder of the document's project, and the runs in it."""

    def __init__(self, document: ProjectDocument) -> None:
        self.document = document

    @property
    def folder(self) -> Path:
        """Where the open project's new runs go (it may not exist yet)."""
        return preferences.runs_folder(self.document.path)

    @property
    def imports_folder(self) -> Path:
        """Where an imported model's weights are kept (a run of no saved project)."""
        return preferences.runs_folder(None)

    def history(self) -> list[RunSummary]:
        """The runs in `folder`, as the Runs panel lists them."""
        return load_history(self.folder)
