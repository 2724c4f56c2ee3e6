"""Help: the About box (versions, licences, data attributions) and the keyboard shortcuts."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnstudio import __version__
from cnnstudio.paths import resources_dir


def versions() -> list[tuple[str, str]]:
    """What CNN Studio runs on; read from package metadata, so TensorFlow is not imported."""

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        ("CNN Studio", __version__),
        ("Python", platform.python_version()),
        ("TensorFlow", installed("tensorflow")),
        ("Keras", installed("keras")),
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("pyqtgraph", installed("pyqtgraph")),
        ("NumPy", installed("numpy")),
        ("ONNX Runtime", installed("onnxruntime")),
    ]


def about_html() -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions())
    lines = (resources_dir() / "NOTICE-mnist.txt").read_text(encoding="utf-8").split("\n\n")[1].splitlines()
    notice = "The bundled digits: " + " ".join(line for line in lines if not line.startswith("http")) + "."
    return (
        "<h3>CNN Studio</h3>"
        "<p>Design, train and understand convolutional neural networks — offline and free.</p>"
        f"<table>{rows}</table>"
        "<p><b>Licence</b>: MIT. Qt and PySide6 are used under the LGPL v3; TensorFlow and Keras "
        "under the Apache License 2.0; pyqtgraph and NumPy under BSD/MIT-style licences.</p>"
        f"<p><b>Data</b>: {notice} Generated datasets (x-vs-o, stripes) are made by CNN Studio. "
        "MNIST, Fashion-MNIST (Zalando Research, MIT) and CIFAR-10/100 (A. Krizhevsky) are "
        "downloaded on request through Keras.</p>"
    )


class ShortcutsDialog(QDialog):
    """Every action that has a keyboard shortcut, with its keys."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        rows = sorted(
            {
                (action.text().replace("&", "").rstrip("…"), ", ".join(
                    s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()))
                for action in window.findChildren(QAction)
                if action.shortcuts() and action.text()
            }
        )
        table = QTableWidget(len(rows), 2)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(["Command", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (text, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(text))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnToContents(1)
        extra = QLabel("Canvas: wheel zooms; drag empty space to select; middle button, Space+drag or "
                       "Alt+drag pans; arrow keys nudge the selected layers.")
        extra.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(extra)
        layout.addWidget(buttons)
        self.resize(520, 560)
        self.table = table
