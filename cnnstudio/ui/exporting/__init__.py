"""Taking a model away and bringing one in: File > Export… and File > Import Keras Model….

`install(context)` adds both to the File menu and accepts .keras/.h5 files dropped onto the
window; `may_close` (a close guard) stops a running export first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from cnnstudio.core.errors import UserError

from ..context import AppContext
from .dialog import ExportDialog
from .importing import ModelImporter

__all__ = ["ExportDialog", "ModelImporter", "TransferFeature", "install"]


class TransferFeature(QObject):
    """The window's export dialog (made on first use) and model importer."""

    def __init__(self, context: AppContext) -> None:
        window = context.parent
        super().__init__(window)
        self.setObjectName("transferFeature")
        self.context = context
        self.importer = ModelImporter(context)
        self._dialog: ExportDialog | None = None
        self.import_action = QAction("&Import Keras Model…", window)
        self.import_action.setObjectName("action_import_model")
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setStatusTip("Open a .keras or .h5 model with its weights as an editable network")
        self.import_action.triggered.connect(lambda: self.importer.choose_and_import())
        self.export_action = QAction("&Export…", window)
        self.export_action.setObjectName("action_export")
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setStatusTip("Write the model (.keras, SavedModel, TFLite, ONNX), a Python script, "
                                        "the diagram, the metrics or a run report")
        self.export_action.triggered.connect(lambda: self.show_dialog())
        context.shell.add_action("import_model", self.import_action)
        context.shell.add_action("export", self.export_action)
        context.document.lockedChanged.connect(lambda locked: self.import_action.setEnabled(not locked))
        self._add_to_file_menu()

    def _add_to_file_menu(self) -> None:
        menu = self.context.shell.menu("&File")
        quit_action = self.context.shell.action("quit")
        before = quit_action if quit_action in menu.actions() else None
        # File: ..., Save As, | Import Keras Model…, Export…, | Quit
        menu.insertActions(before, [self.import_action, self.export_action])
        menu.insertSeparator(before)

    @property
    def dialog(self) -> ExportDialog:
        if self._dialog is None:
            self._dialog = ExportDialog(self.context)
        return self._dialog

    def show_dialog(self, run_dir: Path | None = None) -> ExportDialog:
        """Open the export dialog; with `run_dir`, on that run's trained model (the run history uses this)."""
        dialog = self.dialog
        dialog.prepare()
        if run_dir is not None and not dialog.running:
            try:
                dialog.select_source(Path(run_dir))
            except UserError as exc:
                self.context.messages.show("error", str(exc))
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def may_close(self) -> bool:
        """Before the window closes: a running export stops after its current file (nothing half-written)."""
        if self._dialog is not None and self._dialog.running:
            self._dialog.cancel()
        return True


def install(context: AppContext) -> TransferFeature:
    """Add File > Import Keras Model… (Ctrl+I) and File > Export… (Ctrl+E) to the window."""
    return TransferFeature(context)
