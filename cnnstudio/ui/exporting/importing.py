"""File > Import Keras Model… and dropping a .keras/.h5 file on the window.

The model is read on the ML thread with Keras's safe mode (a Lambda layer carrying
code is refused), its weights are kept in a run folder (`save_imported_run`), and the
network opens in the editor as a new, unsaved project; the inspection views then show
the imported weights. Any problem is explained in one dialog and the editor is left
as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from cnnstudio.core.errors import UserError
from cnnstudio.core.project import Project, load_project
from cnnstudio.ml.jobs.requests import ImportRequest
from cnnstudio.ml.jobs.results import ImportedModel

from .. import dialogs, preferences

if TYPE_CHECKING:
    from ..context import AppContext

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"


def choose_model_file(parent: QWidget, folder: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Import Keras Model", folder, MODEL_FILTER)
    return Path(path) if path else None


def model_files(event: QDropEvent | QDragEnterEvent) -> list[Path]:
    """The local .keras/.h5 files a drag carries."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in MODEL_SUFFIXES]


class ModelImporter(QObject):
    """Imports Keras models into a window: the File menu action and drops onto the window."""

    def __init__(self, context: AppContext) -> None:
        window = context.parent
        super().__init__(window)
        self.setObjectName("modelImporter")
        self.context = context
        self.job: Any = None
        self.last_error: str | None = None
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        context.shell.editor.view.viewport().installEventFilter(self)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # ------------------------------------------------------------------ entry points
    def choose_and_import(self) -> bool:
        document = self.context.document
        folder = str(document.path.parent) if document.path else ""
        path = choose_model_file(self.context.parent, folder)
        return self.import_file(path) if path is not None else False

    def import_file(self, path: str | Path) -> bool:
        """Start importing `path`; False when nothing was started (refused, or the user cancelled)."""
        path = Path(path)
        context, document = self.context, self.context.document
        if self.busy:
            context.messages.status("An import is already running; wait for it to finish", 5000)
            return False
        if document.locked:
            return self._refuse(f"The network cannot be replaced now: {document.lock_reason}.")
        if path.suffix.lower() not in MODEL_SUFFIXES:
            return self._refuse(f"{path.name} is not a Keras model file; import a .keras or .h5 file.")
        if not path.is_file():
            return self._refuse(f"{path}: no such file.")
        if not context.shell.confirm_discard():
            return False
        self.last_error = None
        generation = document.generation
        runs_folder = context.runs.imports_folder
        context.messages.status(f"Importing {path.name}…")
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self.job = context.ml.run(
            ImportRequest(path, runs_folder),
            on_result=lambda result: self._imported(path, result, generation),
            on_error=lambda message: self._failed(path, message))
        return True

    # ------------------------------------------------------------------ outcomes
    def _imported(self, path: Path, result: ImportedModel, generation: int) -> None:
        self._finish()
        context, shell = self.context, self.context.shell
        if context.document.generation != generation and not shell.confirm_discard():
            context.messages.show("info", f"Import of {path.name} not opened: the current project was kept "
                                          f"(its weights are kept in {result.run_dir})")
            return
        project = self._project(result)
        shell.show_project(project)
        context.document.mark_modified()  # a new project that has not been saved yet
        context.model_source.set_run_dir(result.run_dir)
        shell.show_tab(shell.editor)
        shell.editor.zoom_to_fit()
        for note in result.notes:
            context.messages.show("info", f"Import: {note}")
        context.messages.show("info", (
            f"Imported {path.name} as a new, unsaved project “{project.name}” with its trained weights "
            f"(kept in {result.run_dir}). Next: look at its filters and feature maps (the inspection views "
            "now show this model), train it further from these weights to fine-tune it, or change the network "
            "and train it again. Save the project to keep it."))

    def _project(self, result: ImportedModel) -> Project:
        """The run's project snapshot (network, dataset, settings), as a new unsaved project."""
        snapshot = result.run_dir / "project.cnnproj"
        try:
            project = load_project(snapshot)
        except UserError:
            project = Project(result.name, result.network)
        project.path = None
        project.name = result.name
        project.training = preferences.with_default_training(project.training)
        return project

    def _failed(self, path: Path, message: str) -> None:
        self._finish()
        self._refuse(message if message.startswith(path.name) else f"{path.name} was not imported: {message}")

    def _refuse(self, message: str) -> bool:
        self.last_error = message
        self.context.messages.show("error", message)
        dialogs.show_error(self.context.parent, "Cannot import model", message)
        return False

    def _finish(self) -> None:
        self.job = None
        QApplication.restoreOverrideCursor()
        self.context.messages.clear_status()

    # ------------------------------------------------------------------ drag and drop
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and model_files(event):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return True
        if kind == QEvent.Type.Drop:
            files = model_files(event)
            if files:
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
                path = files[0]  # after the drop has finished, so a question may be asked
                QTimer.singleShot(0, lambda: self.import_file(path))
                return True
        return super().eventFilter(watched, event)
