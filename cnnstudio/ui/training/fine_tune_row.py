"""The Training settings' "Fine-tune a pretrained backbone" row: the one-click recipe.

The head trains first with the backbone frozen, then the top layers of the backbone train too
(BatchNormalization stays frozen) at a lower learning rate: one run, saved in the project as
`training.fine_tune` = {"head_epochs", "unfreeze_top", "rate_factor"} (README, project files).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QLabel, QSpinBox, QVBoxLayout, QWidget
from superqt.utils import signals_blocked

from cnnstudio.core.catalog import CATALOG, get_spec
from cnnstudio.core.network import Network

DEFAULT_RECIPE = {"head_epochs": 1, "unfreeze_top": 20, "rate_factor": 0.1}
TIP = ("Transfer learning in one run: first only your layers after the pretrained backbone (the head) train, the "
       "backbone frozen; then the top layers of the backbone train too, at a lower learning rate, so that the "
       "pretrained features are adjusted gently. BatchNormalization layers stay frozen, as Keras recommends.")


def backbones(network: Network) -> list[str]:
    """The ids of the network's pretrained backbones."""
    return [node.id for node in network if node.type in CATALOG and get_spec(node.type).category == "Pretrained"]


class FineTuneRow(QWidget):
    """A check box and the recipe's three numbers; `write(value)` gets the recipe or None."""

    def __init__(self, write: Callable[[dict[str, Any] | None], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._write = write
        self.check = QCheckBox("Fine-tune a pretrained backbone")
        self.check.setObjectName("trainingField_fine_tune_on")
        self.check.setToolTip(TIP)
        self.head = QSpinBox(minimum=1, maximum=100000, suffix=" epochs")
        self.head.setObjectName("trainingField_fine_tune_head_epochs")
        self.head.setToolTip("Epochs of the first phase: only the head trains, the backbone frozen. The rest of "
                             "the run's epochs are the second phase. With early stopping on, the first phase ends when "
                             "the validation loss stops improving (keeping its best weights) and the second phase "
                             "starts at once, for its own epochs.")
        self.top = QSpinBox(minimum=0, maximum=100000, suffix=" layers")
        self.top.setObjectName("trainingField_fine_tune_unfreeze_top")
        self.top.setToolTip("How many of the backbone's last layers train in the second phase (BatchNormalization "
                            "among them stays frozen). MobileNetV2 has 154 layers, ResNet50 175.")
        self.factor = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=10.0, singleStep=0.05, prefix="x ")
        self.factor.setObjectName("trainingField_fine_tune_rate_factor")
        self.factor.setToolTip("The second phase's learning rate, as a multiple of the learning rate above "
                               "(0.1: ten times smaller).")
        self.note = QLabel()
        self.note.setObjectName("fineTuneNote")
        self.note.setWordWrap(True)
        numbers = QWidget()
        grid = QGridLayout(numbers)
        grid.setContentsMargins(20, 0, 0, 0)
        for row, (label, box) in enumerate((("Head first for", self.head), ("then unfreeze the top", self.top),
                                            ("at the learning rate", self.factor))):
            text = QLabel(label)
            text.setBuddy(box)
            grid.addWidget(text, row, 0)
            grid.addWidget(box, row, 1)
        self.numbers = numbers
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.check)
        layout.addWidget(numbers)
        layout.addWidget(self.note)
        self.check.toggled.connect(self._edited)
        for box in (self.head, self.top, self.factor):
            box.valueChanged.connect(self._edited)

    def show(self, recipe: Any, epochs: int, network: Network) -> None:  # noqa: D401 - the row's state
        """Show the project's recipe (None: off) for a run of `epochs`, and what the network allows."""
        on = isinstance(recipe, dict)
        values = {**DEFAULT_RECIPE, **(recipe if on else {})}
        with signals_blocked(self.check), signals_blocked(self.head), signals_blocked(self.top), \
                signals_blocked(self.factor):
            self.check.setChecked(on)
            self.head.setValue(int(values["head_epochs"]) if isinstance(values["head_epochs"], int) else 1)
            self.top.setValue(int(values["unfreeze_top"]) if isinstance(values["unfreeze_top"], int) else 20)
            self.factor.setValue(float(values["rate_factor"]))
        self.refresh(epochs, network)

    def refresh(self, epochs: int, network: Network) -> None:
        """Enable what applies, and say in the note what the run will do (or what is missing)."""
        found = backbones(network)
        on = self.check.isChecked()
        self.check.setEnabled(bool(found) or on)
        self.numbers.setVisible(on)
        if not found:
            note = "Add a backbone from the Pretrained section to fine-tune it." if not on else \
                "The network has no pretrained backbone: training will refuse the recipe; switch it off."
        elif not on:
            note = ""
        elif self.head.value() >= epochs:
            note = (f"Epochs ({epochs}) must be more than the head's {self.head.value()}, so that the backbone's "
                    "top layers train too.")
        else:
            note = (f"Epochs 1-{self.head.value()}: the head trains, {', '.join(found)} frozen; epochs "
                    f"{self.head.value() + 1}-{epochs}: its top {self.top.value()} layers train too "
                    "(BatchNormalization stays frozen).")
        self.note.setText(note)
        self.note.setVisible(bool(note))

    def recipe(self) -> dict[str, Any] | None:
        if not self.check.isChecked():
            return None
        return {"head_epochs": self.head.value(), "unfreeze_top": self.top.value(),
                "rate_factor": round(self.factor.value(), 6)}

    def _edited(self) -> None:
        self.numbers.setVisible(self.check.isChecked())
        self._write(self.recipe())
