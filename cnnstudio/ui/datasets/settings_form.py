"""How the data is prepared: validation split, normalization, shuffled pixels, image size and colour.

The form shows a project's data settings and reports edits as the keys to change (of
`DataChoices`); it never writes the project itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.project_settings import DataChoices

NORMALIZATIONS = (
    ("scale", "Scale to 0…1", "Divide pixel values by their maximum (255 for 8-bit images): values from 0 to 1."),
    ("standardize", "Standardize", "Subtract each channel's mean and divide by its spread, both measured on the "
                                   "training images: values around 0, mostly between -2 and 2."),
    ("none", "None (raw values)", "Pixel values reach the network as stored, e.g. 0 to 255. Add a Rescaling "
                                  "layer to the network if you choose this."),
)
COLOR_MODES = ((None, "As stored"), ("grayscale", "Grayscale"), ("rgb", "Colour (RGB)"))


class DataSettingsForm(QWidget):
    """Emits ``edited(dataset_changes, training_changes)`` after each user edit."""

    edited = Signal(dict, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)

        self.validation = QSpinBox()
        self.validation.setObjectName("validationSplit")
        self.validation.setRange(0, 90)
        self.validation.setSingleStep(5)
        self.validation.setSuffix(" %")
        self.validation.setToolTip("Share of the training images kept apart to watch for over-fitting; the "
                                   "network never learns from them. The test images are a separate split.")
        self.validation.valueChanged.connect(
            lambda v: self.edited.emit({}, {"validation_split": round(v / 100, 4)}))
        form.addRow("Validation", self.validation)

        self.normalization = QComboBox()
        self.normalization.setObjectName("normalization")
        for key, text, tip in NORMALIZATIONS:
            self.normalization.addItem(text, key)
            self.normalization.setItemData(self.normalization.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.normalization.setToolTip("How pixel values are prepared before they reach the network")
        self.normalization.activated.connect(
            lambda i: self.edited.emit({}, {"normalization": self.normalization.itemData(i)}))
        form.addRow("Normalization", self.normalization)

        self.permute = QCheckBox("Shuffle pixel positions, seed")
        self.permute.setObjectName("permutePixels")
        self.permute.setToolTip("One fixed shuffle of the pixel positions, the same for every image of every "
                                "split. A multi-layer perceptron learns as well as before; a CNN loses the "
                                "advantage of neighbouring pixels.")
        self.permute_seed = QSpinBox()
        self.permute_seed.setObjectName("permuteSeed")
        self.permute_seed.setAccessibleName("Shuffle seed")
        self.permute_seed.setRange(0, 2**31 - 1)
        self.permute_seed.setToolTip("Which shuffle: the same seed always gives the same pixel order")
        self.permute.toggled.connect(self.permute_seed.setEnabled)
        self.permute.clicked.connect(lambda _on: self._emit_permute())
        self.permute_seed.valueChanged.connect(lambda _v: self._emit_permute())
        form.addRow("Pixels", _row(self.permute, self.permute_seed))

        self.resize_box = QCheckBox("Resize to")
        self.resize_box.setObjectName("resizeImages")
        self.resize_box.setToolTip("Stretch every image to this height x width when it is loaded")
        self.height = _size_spin("imageHeight")
        self.height.setAccessibleName("Image height")
        self.width = _size_spin("imageWidth")
        self.width.setAccessibleName("Image width")
        self.resize_box.toggled.connect(self.height.setEnabled)
        self.resize_box.toggled.connect(self.width.setEnabled)
        self.resize_box.clicked.connect(lambda _on: self._emit_size())
        self.height.valueChanged.connect(lambda _v: self._emit_size())
        self.width.valueChanged.connect(lambda _v: self._emit_size())
        form.addRow("Image size", _row(self.resize_box, self.height, QLabel("x"), self.width))

        self.color = QComboBox()
        self.color.setObjectName("colorMode")
        for key, text in COLOR_MODES:
            self.color.addItem(text, key)
        self.color.setToolTip("Convert every image to grayscale (1 channel) or colour (3 channels) when loading")
        self.color.activated.connect(lambda i: self.edited.emit({"color_mode": self.color.itemData(i)}, {}))
        form.addRow("Colour", self.color)

    def _emit_permute(self) -> None:
        seed = self.permute_seed.value() if self.permute.isChecked() else None
        self.edited.emit({"permute_pixels": seed}, {})

    def _emit_size(self) -> None:
        size = [self.height.value(), self.width.value()] if self.resize_box.isChecked() else None
        self.edited.emit({"image_size": size}, {})

    def show_settings(self, data: DataChoices, own_size: tuple[int, int] | None = None) -> None:
        """Show a project's values (``own_size``: the dataset's own image size, offered when not resizing)."""
        widgets = (self.validation, self.normalization, self.permute, self.permute_seed, self.resize_box,
                   self.height, self.width, self.color)
        with signals_blocked(*widgets):
            split = data.validation_split
            self.validation.setValue(round(100 * float(split)) if isinstance(split, (int, float)) else 10)
            normalization = data.normalization or "scale"
            self.normalization.setCurrentIndex(max(0, self.normalization.findData(normalization)))
            seed = data.permute_pixels
            has_seed = isinstance(seed, int) and not isinstance(seed, bool)
            self.permute.setChecked(has_seed)
            self.permute_seed.setEnabled(has_seed)
            if has_seed:
                self.permute_seed.setValue(seed)
            size = data.image_size
            resized = isinstance(size, (list, tuple)) and len(size) == 2
            self.resize_box.setChecked(resized)
            for spin in (self.height, self.width):
                spin.setEnabled(resized)
            shown = size if resized else own_size
            if shown:
                self.height.setValue(int(shown[0]))
                self.width.setValue(int(shown[1]))
            self.color.setCurrentIndex(max(0, self.color.findData(data.color_mode)))


def _size_spin(name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(1, 4096)
    spin.setValue(28)
    spin.setSuffix(" px")
    return spin


def _row(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return holder

