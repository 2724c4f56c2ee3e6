""""Check these labels" (objectName ``labelCheckView``): the validation pictures of a folder dataset that
the model gets wrong while most sure of itself — often a picture filed under the wrong class.

Each one can be given another class or left out: the project records it (undoable; the files stay
where they are), and Retrain trains on the corrected data. Only when asked does a file really move
into another class folder (undoable too, and never over another file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.datasets import parse_dataset_name
from cnnstudio.core.errors import UserError
from cnnstudio.core.label_edits import EXCLUDE, RELABEL, Suspect
from cnnstudio.core.runs import PREDICTIONS_FILE
from cnnstudio.ml.jobs.requests import LabelCheckRequest
from cnnstudio.ml.jobs.results import LabelCheck

from ..explain.imaging import display_image, icon_for, to_qimage
from .commands import leave_out, move_file, relabel, restore

if TYPE_CHECKING:
    from ..context import AppContext
    from ..training import TrainingController

LIMIT = 48  # suspects listed, the most confident mistakes first
ICON = 48
PREVIEW = 192  # the selected picture, large enough to judge its label
COLUMNS = ("Picture", "File", "Filed under", "Model says", "Sure", "In the project")
INTRO = ("The validation pictures the model gets wrong while it is most sure of itself: often a picture filed "
         "under the wrong class. Give one its right class or leave it out: the project records it (Edit > Undo "
         "takes it back) and your files stay where they are, unless you move one. Then retrain.")


def ask_move(parent: QWidget, path: str, class_name: str) -> bool:
    """"Move the file?" — True to move it (tests replace this)."""
    answer = QMessageBox.question(
        parent, "Move the File",
        f"Move {path} into the folder '{class_name}'? The file itself moves on disk (Edit > Undo moves it back); "
        "nothing is overwritten.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class LabelCheckPage(QWidget):
    """The list of suspects (``suspectTable``) and what can be done with the selected one."""

    def __init__(self, context: AppContext, training: TrainingController) -> None:
        super().__init__()
        self.setObjectName("labelCheckView")
        self.context = context
        self.training = training
        self.check: LabelCheck | None = None
        self.retraining = False  # Retrain was pressed here: the run it makes is checked when it ends
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.run_label = QLabel()
        self.run_label.setObjectName("labelCheckRun")
        self.check_button = QPushButton("Check Labels")
        self.check_button.setObjectName("checkLabelsButton")
        self.check_button.setToolTip("List the run's most confident mistakes on its validation pictures")
        self.status = QLabel()
        self.status.setObjectName("labelCheckStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.run_label)
        top.addWidget(self.check_button)
        top.addWidget(self.status, 1)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("suspectTable")
        self.table.setAccessibleName("Pictures whose labels to check, most confident mistakes first")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ICON + 8)
        self.table.setIconSize(QSize(ICON, ICON))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        self.class_choice = QComboBox()
        self.class_choice.setObjectName("labelClassChoice")
        self.class_choice.setAccessibleName("Class to file the picture under")
        self.relabel_button = QPushButton("Relabel")
        self.relabel_button.setObjectName("relabelButton")
        self.relabel_button.setToolTip("Record in the project that this picture belongs to the chosen class")
        self.leave_out_button = QPushButton("Leave Out")
        self.leave_out_button.setObjectName("leaveOutButton")
        self.leave_out_button.setToolTip("Record in the project that this picture is not used at all")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("restoreLabelButton")
        self.restore_button.setToolTip("Forget the project's edit of this picture: its folder's class again")
        self.move_button = QPushButton("Move the File…")
        self.move_button.setObjectName("moveFileButton")
        self.move_button.setToolTip("Move the picture's file into the chosen class's folder on disk (undoable)")
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setObjectName("retrainButton")
        self.retrain_button.setToolTip("Train the project again, on the data as the project now labels it")
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Selected picture: class"))
        for widget in (self.class_choice, self.relabel_button, self.leave_out_button, self.restore_button,
                       self.move_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.retrain_button)
        self.edits = QLabel()
        self.edits.setObjectName("labelEditsSummary")
        self.edits.setWordWrap(True)

        self.preview = QLabel()
        self.preview.setObjectName("labelCheckPreview")
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("QLabel#labelCheckPreview { border: 1px solid palette(mid); }")
        self.caption = QLabel()
        self.caption.setObjectName("labelCheckCaption")
        self.caption.setWordWrap(True)
        self.caption.setFixedWidth(PREVIEW)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side = QVBoxLayout()
        side.addWidget(self.preview)
        side.addWidget(self.caption)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addLayout(side)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addLayout(actions)
        layout.addWidget(self.edits)

        self.check_button.clicked.connect(self.run_check)
        self.relabel_button.clicked.connect(lambda: self.relabel_selected(self.class_choice.currentText()))
        self.leave_out_button.clicked.connect(lambda: self.leave_out_selected())
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.move_button.clicked.connect(lambda: self.move_selected(self.class_choice.currentText()))
        self.retrain_button.clicked.connect(self.retrain)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        context.settings.data.changed.connect(self._edits_changed)
        training.runFinished.connect(self._retrained)
        context.model_source.changed.connect(lambda _run: self._run_changed())
        context.document.projectReplaced.connect(self._refresh)
        context.document.lockedChanged.connect(lambda _locked: self._update_buttons())
        self._run_changed()

    # ------------------------------------------------------------------ which run
    def run_to_check(self) -> Path | None:
        """The inspected run; else this project's newest run on its folder dataset that kept predictions."""
        run = self.context.model_source.run_dir
        if run is not None:
            return run
        name = str(self.context.settings.data.get("name") or "")
        for summary in self.context.runs.history():
            if summary.dataset == name and (summary.path / PREDICTIONS_FILE).is_file():
                return summary.path
        return None

    def _run_changed(self) -> None:
        run = self.run_to_check()
        self.run_label.setText(f"Run: <b>{run.name}</b>" if run else "Run: none yet")
        self.run_label.setToolTip(str(run) if run else "Train the network on a folder of your pictures first")
        if run is not None and self.check is not None and run != self.check.run_dir and self.isVisible():
            self.run_check()  # a new run (retrained, say): its own suspects
        self._update_buttons()

    # ------------------------------------------------------------------ checking
    def run_check(self) -> None:
        run = self.run_to_check()
        if run is None:
            self.status.setText("No run to check yet: train the network on a folder of your pictures "
                                "(Dataset panel: Folder…), then check its labels.")
            return
        self.status.setText(f"Looking at the validation pictures of {run.name}…")
        self.check_button.setEnabled(False)
        self.context.ml.run(LabelCheckRequest(run, LIMIT), key="label-check", on_result=self.show_check,
                            on_error=self._failed)

    def _failed(self, message: str) -> None:
        self.check_button.setEnabled(True)
        self.status.setText(message)

    def show_check(self, check: LabelCheck) -> None:
        self.check = check
        self.check_button.setEnabled(True)
        count = len(check.suspects)
        if count:
            most = f" (the {LIMIT} it is most sure of)" if count == LIMIT else ", the one it is most sure of first"
            self.status.setText(f"{check.run_dir.name} gets {'these' if count != 1 else 'this'} {count} of its "
                                f"{check.validated:,} validation pictures wrong after epoch {check.epoch}{most}.")
        else:
            self.status.setText(f"{check.run_dir.name} gets all {check.validated:,} validation pictures right: "
                                "nothing to check.")
        self.table.setUpdatesEnabled(False)
        try:
            self.table.setRowCount(count)
            for row, (suspect, image) in enumerate(zip(check.suspects, check.images, strict=True)):
                picture = QTableWidgetItem()
                picture.setIcon(icon_for(display_image(image), ICON))
                picture.setToolTip(f"validation picture {suspect.index}")
                cells = [picture, QTableWidgetItem(suspect.path), QTableWidgetItem(suspect.label),
                         QTableWidgetItem(suspect.predicted), QTableWidgetItem(f"{suspect.confidence:.0%}"),
                         QTableWidgetItem("")]
                cells[1].setToolTip(str(check.root / suspect.path))
                for column, item in enumerate(cells):
                    self.table.setItem(row, column, item)
        finally:
            self.table.setUpdatesEnabled(True)
        self.class_choice.clear()
        self.class_choice.addItems(list(check.class_names))
        self._refresh()
        if count:
            self.table.selectRow(0)

    # ------------------------------------------------------------------ what the project says
    def state_of(self, suspect: Suspect) -> str:
        """What the project (or the folder) now says of a suspect's picture, in words."""
        relabelled = self.context.settings.data.get(RELABEL) or {}
        if suspect.path in relabelled:
            return f"relabelled: {relabelled[suspect.path]}"
        if suspect.path in (self.context.settings.data.get(EXCLUDE) or []):
            return "left out"
        moved = self._moved_to(suspect)
        return f"file moved to {moved}/" if moved else ""

    def _moved_to(self, suspect: Suspect) -> str | None:
        root = self.check.root
        if (root / suspect.path).exists():
            return None
        name = Path(suspect.path).name
        return next((c for c in self.check.class_names if (root / c / name).is_file()), None)

    def _edits_changed(self, keys: frozenset[str]) -> None:
        if keys & {RELABEL, EXCLUDE, "name"}:
            self._refresh()

    def _refresh(self) -> None:
        if self.check is not None:
            for row, suspect in enumerate(self.check.suspects):
                self.table.item(row, 5).setText(self.state_of(suspect))
            self._show_selected()
        relabelled = len(self.context.settings.data.get(RELABEL) or {})
        left_out = len(self.context.settings.data.get(EXCLUDE) or [])
        if relabelled or left_out:
            self.edits.setText(f"In the project: {relabelled} picture{'s' * (relabelled != 1)} relabelled, "
                               f"{left_out} left out (their files untouched). Retrain to learn from them.")
        else:
            self.edits.setText("The project labels every picture by its folder.")
        problem = self.not_editable()
        if problem:
            self.edits.setText(problem)
        self._update_buttons()

    def not_editable(self) -> str:
        """Why the listed pictures cannot be edited in the open project ("" when they can)."""
        if self.check is None:
            return ""
        kind, root = parse_dataset_name(str(self.context.settings.data.get("name") or ""))
        if kind != "folder" or root is None or Path(root).resolve() != Path(self.check.root).resolve():
            return (f"The open project does not train on {self.check.root}, so these pictures cannot be relabelled "
                    "in it: open the project that trains on that folder.")
        return ""

    # ------------------------------------------------------------------ editing
    def selected(self) -> Suspect | None:
        rows = self.table.selectionModel().selectedRows() if self.check is not None else []
        return self.check.suspects[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        suspect = self.selected()
        if suspect is not None:
            self.class_choice.setCurrentText(suspect.predicted)
        self._show_selected()
        self._update_buttons()

    def _show_selected(self) -> None:
        """The selected picture, large, with what the folder, the model and the project say of it."""
        rows = self.table.selectionModel().selectedRows() if self.check is not None else []
        if not rows:
            self.preview.clear()
            self.caption.setText("Select a picture to look at it.")
            return
        row = rows[0].row()
        suspect = self.check.suspects[row]
        pixmap = QPixmap.fromImage(to_qimage(display_image(self.check.images[row])))
        self.preview.setPixmap(pixmap.scaled(PREVIEW - 2, PREVIEW - 2, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.FastTransformation))
        state = self.state_of(suspect)
        self.caption.setText(f"<b>{suspect.path}</b><br>filed under <b>{suspect.label}</b>; the model says "
                             f"<b>{suspect.predicted}</b>, {suspect.confidence:.0%} sure"
                             + (f"<br>In the project: {state}" if state else ""))

    def _update_buttons(self) -> None:
        suspect = self.selected()
        editable = suspect is not None and not self.not_editable() and not self.context.document.locked
        for button in (self.relabel_button, self.leave_out_button, self.move_button):
            button.setEnabled(editable)
        self.restore_button.setEnabled(editable and bool(suspect) and self.state_of(suspect).startswith(
            ("relabelled", "left out")))
        self.retrain_button.setEnabled(not self.training.is_running)

    def _push(self, command) -> bool:
        return self.context.document.push(command)

    def relabel_selected(self, class_name: str) -> bool:
        suspect = self.selected()
        if suspect is None or not class_name:
            return False
        return self._push(relabel(self.context.settings.data, suspect.path, class_name))

    def leave_out_selected(self) -> bool:
        suspect = self.selected()
        return suspect is not None and self._push(leave_out(self.context.settings.data, suspect.path))

    def restore_selected(self) -> bool:
        suspect = self.selected()
        return suspect is not None and self._push(restore(self.context.settings.data, suspect.path))

    def move_selected(self, class_name: str) -> bool:
        """Move the selected picture's file into `class_name`'s folder, after asking."""
        suspect = self.selected()
        if suspect is None or self.check is None:
            return False
        if self.context.document.locked:
            self.context.messages.show("warning", f"Not moved: {self.context.document.lock_reason}")
            return False
        if not ask_move(self, suspect.path, class_name):
            return False
        try:
            command = move_file(self.context.settings.data, self.check.root, suspect.path, class_name,
                                lambda text: self.context.messages.show("error", text), self._refresh)
        except UserError as exc:
            self.context.messages.show("error", str(exc))
            return False
        self.context.messages.show("info", f"Moved {suspect.path} to {class_name}/ (Edit > Undo moves it back)")
        return self._push(command)

    def retrain(self) -> bool:
        """Train the open project again (its edits included); the new run is checked when it ends."""
        self.retraining = self.training.start()
        return self.retraining

    def _retrained(self, _run_dir) -> None:
        if self.retraining:
            self.retraining = False
            self.run_check()  # the run just made (the inspected run now): its own suspects

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._run_changed()
