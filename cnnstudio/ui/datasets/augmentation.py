"""Augmentation checkboxes: each adds (or removes) one of the catalog's Random* layers after the Input.

They are layers of the network (Keras applies them only while training), so they are
saved with the project, shown on the canvas, exported with the model, and every
toggle is one undoable step.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.core.catalog import get_spec
from cnnstudio.core.network import Network

from . import edits

# (layer type, checkbox text, starting parameters, what it does in a student's words)
CHOICES: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("RandomFlip", "Flip left-right", {"mode": "horizontal"},
     "Mirrors each training image left-right at random. Good for photos; wrong for digits and letters."),
    ("RandomRotation", "Rotate ±18°", {"factor": 0.05},
     "Turns each training image by a random angle of up to 18 degrees (factor 0.05 of a full turn)."),
    ("RandomTranslation", "Shift ±10%", {"height_factor": 0.1, "width_factor": 0.1},
     "Moves each training image up to 10% of its size in any direction."),
    ("RandomZoom", "Zoom ±10%", {"height_factor": 0.1},
     "Zooms each training image in or out by up to 10%."),
    ("RandomContrast", "Contrast ±20%", {"factor": 0.2},
     "Changes each training image's contrast by up to 20%."),
)


def starting_params(type_name: str, normalization: str) -> dict[str, Any]:
    """The parameters a checkbox gives its new layer (checked against the catalog)."""
    params = dict(next(p for t, _, p, _ in CHOICES if t == type_name))
    if type_name == "RandomContrast":
        # Keras clips contrast-changed values to value_range: make it the range the data has.
        params["value_range"] = {"scale": [0, 1], "none": [0, 255]}.get(normalization, [-10, 10])
    spec = get_spec(type_name)
    return {**spec.initial_params(), **params}


class AugmentationBox(QWidget):
    """The checkboxes; ``toggled(type_name, on)`` asks for the layer to be added or removed."""

    toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        note = QLabel("Each box adds a layer right after the Input. Keras applies these layers only while "
                      "training; evaluation, prediction and the inspection views see the images unchanged.")
        note.setWordWrap(True)
        note.setObjectName("augmentationNote")
        layout.addWidget(note)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        self._tips: dict[str, str] = {}
        for i, (type_name, text, _params, tip) in enumerate(CHOICES):
            box = QCheckBox(text)
            box.setObjectName(f"augment{type_name[len('Random'):]}")
            self._tips[type_name] = tip
            box.clicked.connect(lambda on, t=type_name: self.toggled.emit(t, on))
            grid.addWidget(box, i // 2, i % 2)
            self.boxes[type_name] = box
        layout.addLayout(grid)

    def show_network(self, network: Network) -> None:
        """Tick the boxes whose layer type is in the network."""
        for type_name, box in self.boxes.items():
            found = edits.augmentation_layers(network, type_name)
            box.setChecked(bool(found))
            where = (f"In the network as {', '.join(found)}; untick to remove it." if found
                     else f"Adds a {type_name} layer to the network.")
            box.setToolTip(f"{self._tips[type_name]}\n{where}")
