"""File > Export…: pick a source and formats, write every file, show each file's size and check.

Model files, the script, the metrics and the report are written on the ML thread
(the job `cnnstudio.ml.jobs.exporting.export`); the diagrams are drawn here, on the GUI thread. The list below
shows each file as it is written, with its size and the result of reading it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.errors import UserError
from cnnstudio.ml.export_paths import check_destination
from cnnstudio.ml.jobs.requests import PLACE

from .. import settings
from ..icons import severity_icon
from .diagram import export_diagrams
from .formats import (
    BY_KEY,
    FORMATS,
    GUI_FORMATS,
    MODEL_FORMATS,
    QUANTIZATIONS,
    TOLERANCES,
    ExportItem,
    ExportPlan,
    ItemResult,
    base_name_problem,
    human_size,
    item_label,
    slug,
    target_path,
)
from .sources import Source, list_sources, run_source, source_project

if TYPE_CHECKING:
    from ..context import AppContext

DEFAULT_FORMATS = ("keras", "onnx", "png", "report")
COLUMNS = ("Format", "File", "Size", "Check")


def confirm_replace(parent: QWidget, paths: list[Path]) -> bool:
    """Ask once before files that already exist are replaced."""
    names = "\n".join(f"  {p.name}" for p in paths[:8]) + ("\n  …" if len(paths) > 8 else "")
    answer = QMessageBox.question(
        parent, "Replace files?",
        f"{len(paths)} file{'s' * (len(paths) != 1)} already exist in {paths[0].parent}:\n{names}\n\n"
        "Replace them? (An old file is only replaced once its new version has been written and checked.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class ExportDialog(QDialog):
    """The export dialog (objectName ``exportDialog``); one per window, reused."""

    def __init__(self, context: AppContext) -> None:
        super().__init__(context.parent)
        self.context = context
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.sources: list[Source] = []
        self.results: dict[str, ItemResult] = {}
        self.rows: dict[str, QTreeWidgetItem] = {}
        self.job: Any = None
        self.plan: ExportPlan | None = None
        self._base_edited = False
        self._build()
        self.resize(860, 720)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.source_box = QComboBox(objectName="exportSource")
        self.source_box.setAccessibleName("Export from")
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.setMinimumContentsLength(40)
        self.source_box.currentIndexChanged.connect(self._source_changed)
        other = QPushButton("Other Run…", objectName="exportOtherRun")
        other.setToolTip("Export the trained model of a run folder not listed here")
        other.setAutoDefault(False)  # Enter in a field exports, even after Tab passed this button
        other.clicked.connect(self._choose_run)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source_box, 1)
        source_row.addWidget(other)

        self.checks: dict[str, QCheckBox] = {}
        self.file_labels: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.quantize = QComboBox(objectName="exportQuantization")
        self.quantize.setAccessibleName("TFLite quantization")
        for value, text in QUANTIZATIONS.items():
            self.quantize.addItem(text, value)
        self.quantize.setToolTip("Quantization makes the TFLite file smaller; its predictions are checked "
                                 "against the Keras model (they may differ slightly)")
        self.quantize.currentIndexChanged.connect(self._update_names)
        row = 0
        for fmt in FORMATS:
            check = QCheckBox(fmt.label, objectName=f"exportFormat_{fmt.key}")
            check.setToolTip(fmt.description)
            check.toggled.connect(self._update_buttons)
            about = QLabel(fmt.description)
            about.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # a quieter colour
            file_label = QLabel()
            file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.checks[fmt.key], self.file_labels[fmt.key] = check, file_label
            grid.addWidget(check, row, 0)
            grid.addWidget(about, row, 1)
            grid.addWidget(file_label, row, 2)
            row += 1
            if fmt.key == "tflite":
                check.toggled.connect(self.quantize.setEnabled)
                grid.addWidget(self.quantize, row, 1)
                row += 1
        formats = QGroupBox("Formats")
        formats.setLayout(grid)

        self.folder = QLineEdit(objectName="exportFolder")
        self.folder.setAccessibleName("Export folder")
        self.folder.textChanged.connect(self._update_names)
        choose = QPushButton("Choose…")
        choose.setAccessibleName("Choose the export folder")
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.base = QLineEdit(objectName="exportBaseName")
        self.base.textEdited.connect(self._base_was_edited)
        self.base.textChanged.connect(self._update_names)
        self.tolerance = QComboBox(objectName="exportTolerance")
        for value, text in TOLERANCES.items():
            self.tolerance.addItem(text, value)
        self.tolerance.setToolTip("Each model file is loaded back in its own runtime and its predictions are "
                                  "compared with the Keras model's, relative to the output's largest value; "
                                  "a file that differs by more is not written")
        form = QFormLayout()
        form.addRow("From:", source_row)
        form.addRow("Folder:", folder_row)
        form.addRow("File name:", self.base)
        form.addRow("Check:", self.tolerance)

        self.progress = QProgressBar(objectName="exportProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v of %m files")
        self.tree = QTreeWidget(objectName="exportResults")
        self.tree.setAccessibleName("Exported files")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tree.currentItemChanged.connect(lambda item, _old: self._show_detail(item))
        self.detail = QLabel(objectName="exportDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel(objectName="exportSummary")
        self.summary.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportButton")
        self.export_button.setDefault(True)
        self.open_button = self.buttons.addButton("Open Folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setObjectName("openFolderButton")
        self.open_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        for button in (self.open_button, self.close_button):  # Enter exports wherever the keyboard is,
            button.setAutoDefault(False)                      # even after Tab has passed these buttons
        self.export_button.clicked.connect(self.start_export)
        self.open_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.close_or_cancel)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(formats)
        layout.addWidget(self.progress)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

    # ------------------------------------------------------------------ state
    def prepare(self) -> None:
        """Refresh the sources and defaults before the dialog is shown (it is reused)."""
        if self.running:
            return
        context = self.context
        self.sources = list_sources(context.model_source.run_dir, context.runs.folder, context.document.project)
        with signals_blocked(self.source_box):
            self.source_box.clear()
            for source in self.sources:
                self.source_box.addItem(source.label, str(source.run_dir or ""))
        store = settings.settings()
        chosen = store.value("export/formats", list(DEFAULT_FORMATS))
        chosen = [chosen] if isinstance(chosen, str) else list(chosen or [])
        for key, check in self.checks.items():
            check.setChecked(key in chosen)
        index = self.quantize.findData(store.value("export/quantize") or None)
        self.quantize.setCurrentIndex(max(index, 0))
        self.quantize.setEnabled(self.checks["tflite"].isChecked())
        self.tolerance.setCurrentIndex(0)  # a larger difference is accepted for one export at a time
        if not self.folder.text():
            default = context.document.path.parent if context.document.path else Path.home()
            self.folder.setText(str(store.value("export/folder") or default))
        self._base_edited = False
        self.source_box.setCurrentIndex(0)
        self._source_changed()
        self.tree.clear()
        self.rows.clear()
        self.results.clear()
        self._update_buttons()
        self.detail.clear()
        self.summary.setText("Choose what to write, then Export. Every file is read back and checked.")
        self.open_button.setEnabled(False)

    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def source(self) -> Source:
        return self.sources[max(self.source_box.currentIndex(), 0)]

    def select_source(self, run_dir: Path | None) -> None:
        """Choose the source for `run_dir` (None: the current network), adding a run not listed."""
        for i, source in enumerate(self.sources):
            if (source.run_dir is None and run_dir is None) or (
                    source.run_dir is not None and run_dir is not None
                    and source.run_dir.resolve() == Path(run_dir).resolve()):
                self.source_box.setCurrentIndex(i)
                return
        if run_dir is None:
            return
        source = run_source(Path(run_dir))
        self.sources.append(source)
        self.source_box.addItem(source.label, str(source.run_dir))
        self.source_box.setCurrentIndex(len(self.sources) - 1)

    def set_formats(self, keys: list[str] | tuple[str, ...], quantize: str | None = None) -> None:
        for key, check in self.checks.items():
            check.setChecked(key in keys)
        self.quantize.setCurrentIndex(max(self.quantize.findData(quantize), 0))

    def _source_changed(self) -> None:
        if not self.sources:
            return
        source = self.source
        self._apply_source_limits()
        if not self._base_edited:
            name = source.run_dir.name if source.run_dir else slug(self.context.document.name)
            with signals_blocked(self.base):
                self.base.setText(name)
        self._update_names()

    def _apply_source_limits(self) -> None:
        """Metrics and the report exist only for a trained run."""
        source = self.source
        for fmt in FORMATS:
            if fmt.runs_only:
                check = self.checks[fmt.key]
                check.setEnabled(source.is_run)
                check.setToolTip(fmt.description if source.is_run else
                                 f"{fmt.description} — only for a trained run; choose a run under From")

    def _base_was_edited(self, _text: str) -> None:
        self._base_edited = True

    def _update_names(self) -> None:
        base = self.base.text().strip()
        for key, label in self.file_labels.items():
            label.setText(target_path(Path("."), base, key).name if base else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        can = not self.running and bool(self.chosen_keys()) and base_name_problem(self.base.text()) is None
        self.export_button.setEnabled(can and bool(self.folder.text().strip()))
        if not self.running and not self.results:  # before an export: how many files the ticks ask for
            chosen = len(self.chosen_keys())
            self.progress.setRange(0, max(chosen, 1))
            self.progress.setValue(0)
            self.progress.setFormat(f"{chosen} file{'s' * (chosen != 1)} to write" if chosen else "no format chosen")

    def chosen_keys(self) -> list[str]:
        return [key for key, check in self.checks.items() if check.isChecked() and check.isEnabled()]

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to Folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _choose_run(self) -> None:
        start = str(self.context.runs.folder)
        folder = QFileDialog.getExistingDirectory(self, "Choose a Training Run", start)
        if not folder:
            return
        try:
            self.select_source(Path(folder))
        except UserError as exc:
            QMessageBox.warning(self, "Not a trained run", str(exc))

    # ------------------------------------------------------------------ exporting
    def start_export(self) -> bool:
        """Write the chosen files; False when nothing was started (a problem was explained)."""
        if self.running:
            return False
        problem = base_name_problem(self.base.text())
        keys = self.chosen_keys()
        folder = Path(self.folder.text().strip()).expanduser()
        if problem or not keys:
            self.summary.setText(f"Not exported: {problem or 'choose at least one format'}.")
            return False
        try:
            folder.mkdir(parents=True, exist_ok=True)
            project = source_project(self.source, self.context.document.project)
        except OSError as exc:
            self.summary.setText(f"Not exported: cannot create the folder {folder} ({exc.strerror or exc}).")
            return False
        except UserError as exc:
            self.summary.setText(f"Not exported: {exc}")
            return False
        base = self.base.text().strip()
        quantize = self.quantize.currentData()
        items = [ExportItem(key, target_path(folder, base, key), quantize if key == "tflite" else None)
                 for key in keys]
        try:  # a folder that is not an export CNN Studio wrote, or a place in the run exported: not even asked
            for item in items:
                if item.key in (*MODEL_FORMATS, "python"):
                    check_destination(item.key, item.path, source=self.source.run_dir, option=PLACE)
        except UserError as exc:
            self.summary.setText(f"Not exported: {exc}")
            return False
        existing = [item.path for item in items if item.path.exists()]
        if existing and not confirm_replace(self, existing):
            return False
        self._remember(folder, keys, quantize)
        self.plan = ExportPlan(project, self.source.run_dir, tuple(i for i in items if i.key not in GUI_FORMATS),
                               tolerance=self.tolerance.currentData())
        self._show_rows(items)
        for result in export_diagrams(project, [i for i in items if i.key in GUI_FORMATS]):
            self._finished(result)
        if not self.plan.items:
            self._done()
            return True
        busy = self.context.ml.busy
        self.job = self.context.ml.run(self.plan, on_event=self._event, on_result=lambda _results: self._done(),
                                       on_error=self._failed)
        self._set_running(True)
        if busy:  # training, say: jobs run one after another on the ML thread
            self.summary.setText("Waiting for the work already running (training, say) to finish; "
                                 "the export starts right after it.")
        return True

    def _remember(self, folder: Path, keys: list[str], quantize: str | None) -> None:
        store = settings.settings()
        store.setValue("export/folder", str(folder))
        store.setValue("export/formats", keys)
        store.setValue("export/quantize", quantize or "")

    def _show_rows(self, items: list[ExportItem]) -> None:
        self.tree.clear()
        self.rows.clear()
        self.results.clear()
        for item in items:
            row = QTreeWidgetItem([item_label(item), item.path.name, "", "waiting…"])
            row.setToolTip(1, str(item.path))
            row.setIcon(0, severity_icon("info"))
            self.tree.addTopLevelItem(row)
            self.rows[item.key] = row
        self.progress.setFormat("%v of %m files")
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)
        self.detail.clear()
        self.summary.setText(f"Writing {len(items)} file{'s' * (len(items) != 1)} to {items[0].path.parent}…")

    def _event(self, kind: str, payload: Any) -> None:
        if kind == "started" and payload.key in self.rows:
            self.rows[payload.key].setText(3, "writing and checking…")
            self.summary.setText(f"Writing {payload.path.name}…")
        elif kind == "finished":
            self._finished(payload)

    def _finished(self, result: ItemResult) -> None:
        self.results[result.key] = result
        row = self.rows.get(result.key)
        if row is None:
            return
        row.setIcon(0, severity_icon("ok" if result.ok else "error"))
        row.setText(2, human_size(result.size_bytes) if result.ok else "—")
        row.setText(3, result.detail if result.ok else f"Failed: {result.detail}")
        row.setToolTip(3, result.detail)
        self.progress.setValue(len(self.results))
        if self.tree.currentItem() is None or not result.ok:
            self.tree.setCurrentItem(row)

    def _show_detail(self, row: QTreeWidgetItem | None) -> None:
        for key, candidate in self.rows.items():
            if candidate is row:
                result = self.results.get(key)
                if result is not None:
                    verdict = "Written and checked" if result.ok else "Not written"
                    self.detail.setText(f"<b>{candidate.text(0)}</b> — {verdict}: {_escape(result.detail)}"
                                        f"<br><span style='color:gray'>{_escape(str(result.path))}</span>")
                return

    def _failed(self, message: str) -> None:
        for key, row in self.rows.items():
            if key not in self.results:
                self._finished(ItemResult(key, Path(row.toolTip(1)), False, detail=message))
        self._done()

    def _done(self) -> None:
        self.job = None
        self._set_running(False)
        written = [r for r in self.results.values() if r.ok]
        failed = [r for r in self.results.values() if not r.ok]
        folder = next(iter(self.results.values())).path.parent if self.results else Path(self.folder.text())
        text = f"{len(written)} of {len(self.results)} written to {folder} and checked"
        if failed:
            text += f"; {len(failed)} failed: " + ", ".join(BY_KEY[r.key].label for r in failed)
        self.summary.setText(text + ".")
        self.open_button.setEnabled(bool(written))
        self.context.messages.show("error" if failed else "info", f"Export: {text}")
        if failed:
            self.tree.setCurrentItem(self.rows[failed[0].key])

    def _set_running(self, running: bool) -> None:
        self.close_button.setText("Cancel" if running else "Close")
        for widget in (self.source_box, self.folder, self.base, self.quantize, self.tolerance, *self.checks.values()):
            widget.setEnabled(not running)
        if not running:
            self._apply_source_limits()
            self.quantize.setEnabled(self.checks["tflite"].isChecked())
        self._update_buttons()

    def cancel(self) -> None:
        """Stop after the file being written now; the rest are not written."""
        if self.job is not None:
            self.job.cancel()
            self.summary.setText("Cancelling: the file being written now is finished first…")

    def close_or_cancel(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.close()

    def open_folder(self) -> None:
        written = [r.path for r in self.results.values() if r.ok]
        folder = written[0].parent if written else Path(self.folder.text())
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def reject(self) -> None:  # Escape: cancel a running export first
        if self.running:
            self.cancel()
            return
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Enter exports from any field (Qt's default button is lost once Tab has passed other buttons);
        on a focused button, Enter presses that button, as everywhere."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not isinstance(QApplication.focusWidget(), QPushButton) and self.export_button.isEnabled():
            self.start_export()
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
