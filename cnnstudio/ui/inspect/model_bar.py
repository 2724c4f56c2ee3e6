"""Which model the inspection views look at, said plainly at the top of each view, and the
place to switch between the untrained network and a training run's model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget
from superqt.utils import signals_blocked

from .controller import InspectController

OPEN_RUN = "open-run"


def ask_run_folder(parent: QWidget, start: str = "") -> Path | None:
    """Ask for a training run's folder (tests replace this)."""
    from PySide6.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(parent, "Open Training Run", start)
    return Path(folder) if folder else None


def has_model(folder: Path) -> bool:
    return (folder / "model.keras").is_file() or (folder / "checkpoints" / "last.keras").is_file()


class ModelBar(QWidget):
    """"Model: [Untrained network | run …]" with what the views are doing next to it."""

    def __init__(self, controller: InspectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.source = controller.context.model_source
        self.combo = QComboBox(self, objectName="modelChoice")
        self.combo.setAccessibleName("Model shown")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("The model the views show: the network as designed (untrained, its starting "
                              "weights), or the trained model of a run")
        self.status = QLabel(self, objectName="inspectStatus")
        self.status.setStyleSheet("color: palette(placeholder-text);")
        label = QLabel("Model:", self)
        label.setStyleSheet("font-weight: 600;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.status, 1, Qt.AlignmentFlag.AlignVCenter)
        self.combo.activated.connect(self._chosen)
        self.source.changed.connect(lambda _run: self._fill())
        controller.runsChanged.connect(self._fill)
        controller.statusChanged.connect(self.status.setText)
        self._fill()

    def _fill(self) -> None:
        with signals_blocked(self.combo):
            self.combo.clear()
            self.combo.addItem("Untrained network (as designed now)", None)
            for run in self.controller.runs:
                self.combo.addItem(f"Trained: {run.name}", str(run))
                self.combo.setItemData(self.combo.count() - 1, str(run), Qt.ItemDataRole.ToolTipRole)
            self.combo.addItem("Open Training Run…", OPEN_RUN)
            current = self.source.run_dir
            self.combo.setCurrentIndex(0 if current is None else max(self.combo.findData(str(current)), 0))

    def _chosen(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == OPEN_RUN:
            self.controller.open_run(self)
            self._fill()
        else:
            self.source.set_run_dir(None if data is None else Path(data))
