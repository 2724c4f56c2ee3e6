"""The questions the main window asks: save changes?, which template?, which file?, recover?

Kept as plain functions so tests can replace them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.templates import TemplateInfo, list_templates

from .autosave import Recovery

FILE_FILTER = "CNN Studio projects (*.cnnproj);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_save_changes(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel' for a project with unsaved changes."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Do you want to save the changes to “{name}”?")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    box.deleteLater()
    return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(
        QMessageBox.StandardButton(answer), CANCEL
    )


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def open_file(parent: QWidget, folder: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Project", folder, FILE_FILTER)
    return Path(path) if path else None


def save_file(parent: QWidget, suggestion: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Project As", suggestion, FILE_FILTER)
    if not path:
        return None
    path = Path(path)
    return path if path.suffix else path.with_suffix(".cnnproj")


class TemplateDialog(QDialog):
    """Pick a starting network: title, what it is and what data it expects."""

    def __init__(self, parent: QWidget | None = None, title: str = "New Project from Template") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("templateDialog")
        self.list = QListWidget(self)
        self.list.setObjectName("templateList")
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setIconSize(QSize(0, 0))
        for info in list_templates():
            item = QListWidgetItem(f"{info.title}\n{info.description}  [{info.dataset}]")
            item.setData(Qt.ItemDataRole.UserRole, info.name)
            item.setToolTip(f"template '{info.name}'")
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from one of these networks:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(560, 460)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None


def choose_template(parent: QWidget, title: str = "New Project from Template") -> str | None:
    dialog = TemplateDialog(parent, title)
    try:
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


def templates() -> list[TemplateInfo]:
    return list_templates()


def ask_recover(parent: QWidget | None, recovery: Recovery) -> bool:
    where = f" ({recovery.original})" if recovery.original else ""
    answer = QMessageBox.question(
        parent,
        "Recover unsaved work?",
        f"CNN Studio did not close normally last time. A recovery copy of “{recovery.name}”{where} "
        "with unsaved changes was found.\n\nOpen the recovered copy?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


ABOUT = """<h3>CNN Studio</h3>
<p>Design, train and understand convolutional neural networks.</p>
<p><b>Canvas</b>: drag layers from the palette; drop one on a connection to insert it;
double-click a palette entry to append it after the selected layer. Drag from a layer's
bottom port to another layer to connect them. Wheel zooms, middle button, Space+drag
or Alt+drag pan, drag on empty canvas to select several.</p>"""


def about(parent: QWidget) -> None:
    from .help import about_html

    QMessageBox.about(parent, "About CNN Studio", about_html() + ABOUT.split("</p>", 1)[1])
