"""The questions the main window asks: save changes?, which template?, which file?, recover?

Kept as plain functions so tests can replace them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGraphicsView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import dims_text
from cnnstudio.core.project import Project, new_project
from cnnstudio.core.templates import TemplateInfo, list_templates, load_template

from .autosave import Recovery

FILE_FILTER = "CNN Studio projects (*.cnnproj);;All files (*)"
EMPTY = "empty"  # the template dialog's "Empty network" choice
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
    """Pick a starting network — or an empty canvas — with a preview of the network and its figures."""

    def __init__(self, parent: QWidget | None = None, title: str = "New Project from Template",
                 offer_empty: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("templateDialog")
        self.list = QListWidget(self)
        self.list.setObjectName("templateList")
        self.list.setAccessibleName("Templates")
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setIconSize(QSize(0, 0))
        entries = [(EMPTY, "Empty network", "A blank canvas: drag layers from the palette to build your own.",
                    "mnist-sample")] if offer_empty else []
        entries += [(i.name, i.title, i.description, i.dataset) for i in list_templates()]
        for name, heading, description, dataset in entries:
            item = QListWidgetItem(f"{heading}\n{description}  [{dataset}]")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"template '{name}'" if name != EMPTY else "start from nothing")
            self.list.addItem(item)
        self.preview = TemplatePreview(self)
        splitter = QSplitter(self)
        splitter.addWidget(self.list)
        splitter.addWidget(self.preview)
        splitter.setSizes([360, 420])
        self.list.currentItemChanged.connect(lambda item, _old: self.preview.show_template(
            item.data(Qt.ItemDataRole.UserRole) if item else None))
        self.list.setCurrentRow(1 if offer_empty else 0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from one of these networks:"))
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(900, 560)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None


class TemplatePreview(QWidget):
    """The chosen template drawn as on the canvas (read-only), with its size and parameter count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from .document import ProjectDocument
        from .editor.scene import NetworkScene

        self.document = ProjectDocument(new_project(), self)
        self.scene = NetworkScene(self.document, self)
        self.view = QGraphicsView(self.scene, self)
        self.view.setObjectName("templatePreview")
        self.view.setInteractive(False)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.figures = QLabel(self)
        self.figures.setObjectName("templateFigures")
        self.figures.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.figures)

    def show_template(self, name: str | None) -> None:
        project = template_project(name) if name else new_project()
        self.document.replace_project(project)
        result = analyze(project.network)
        if len(project.network) == 0:
            self.figures.setText("No layers yet: you add them on the canvas.")
        else:
            inputs = [result.layers[n].output_shape for n in project.network.input_nodes()]
            shape = ", ".join(dims_text(s) for s in inputs if s) or "?"
            self.figures.setText(f"{len(project.network)} layers · {result.total_params:,} parameters · "
                                 f"input {shape} · dataset {project.dataset.get('name')}")
        self.fit()

    def fit(self) -> None:
        """The whole network in view, never enlarged past its own size. Only once the view has a
        size: fitted into nothing, Qt's transform collapses and the template chosen first stayed empty."""
        if not self.scene.items() or self.view.viewport().width() < 20 or self.view.viewport().height() < 20:
            return
        self.view.resetTransform()
        self.view.fitInView(self.scene.itemsBoundingRect().adjusted(-20, -20, 20, 20),
                            Qt.AspectRatioMode.KeepAspectRatio)
        if self.view.transform().m11() > 1:
            self.view.resetTransform()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.fit()


def template_project(name: str) -> Project:
    """A fresh project from a template name, or an empty one for EMPTY."""
    return new_project() if name == EMPTY else load_template(name)


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
