"""Where the playground's input comes from: a picture (X/O grids, an MNIST digit, stripes, a drawn
X or O, an image file) and, in 1-D mode, a signal (a test signal or one row of the picture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core import playground_inputs as inputs
from cnnstudio.core.errors import UserError
from cnnstudio.core.images import GREY, IMAGE_FILTER, fitted_size, image_size_and_colour, read_image
from cnnstudio.core.playground import XO_GRIDS

MAX_FILE_SIDE = 128  # larger pictures are shrunk: every step of the window must stay visible


def grayscale_from_file(path: str | Path) -> tuple[np.ndarray, str]:
    """A picture file as grey values 0 (black) to 1 (white), shrunk to fit 128x128; and a note on what
    was done. A file that is not a picture raises UserError in plain words."""
    size, colour = image_size_and_colour(path)
    fitted = fitted_size(size, MAX_FILE_SIDE)
    note = f"{Path(path).name}: {size[1]}x{size[0]}"
    if colour != GREY:
        note += ", turned to grey"
    if fitted != size:
        note += f", shrunk to {fitted[1]}x{fitted[0]}"
    return read_image(path, GREY, fitted).astype(np.float64) / 255.0, note


def _spin(low: int, high: int, tip: str, name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setToolTip(tip)
    spin.setObjectName(name)
    return spin


def _combo() -> QComboBox:
    """A combo box whose long item texts do not widen the controls column."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(16)
    return combo


class ImageSource(QWidget):
    """Choose the picture to convolve; ``imageChanged(array, title)`` carries it."""

    imageChanged = Signal(object, str)
    problem = Signal(str)  # a file that could not be read, in plain words

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundImageSource")
        self.kind = _combo()
        self.kind.setObjectName("playgroundImageKind")
        self.kind.setAccessibleName("Input picture")
        for grid in XO_GRIDS:
            self.kind.addItem(f"{grid} — the lecture's 9×9 grid", f"grid:{grid}")
        self.kind.addItem("A handwritten digit (MNIST sample)", "mnist")
        self.kind.addItem("Stripes (like the stripes dataset)", "stripes")
        self.kind.addItem("A drawn X or O (like the x-vs-o dataset)", "drawn")
        self.kind.addItem("A picture file…", "file")
        self.pages = QStackedWidget()
        self.pages.addWidget(self._grid_page())
        self.pages.addWidget(self._mnist_page())
        self.pages.addWidget(self._stripes_page())
        self.pages.addWidget(self._drawn_page())
        self.pages.addWidget(self._file_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind)
        layout.addWidget(self.pages)
        self.file_image: np.ndarray | None = None
        self.file_note = ""
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.image, self.title = np.zeros((0, 0)), ""
        self._kind_changed()

    # ------------------------------------------------------------------ pages
    def _grid_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.shift_down = _spin(-4, 4, "Move the picture down (negative: up) by this many pixels", "playgroundShiftDown")
        self.shift_down.setAccessibleName("Shift down in pixels")
        self.shift_right = _spin(-4, 4, "Move the picture right (negative: left) by this many pixels",
                                 "playgroundShiftRight")
        self.shift_right.setAccessibleName("Shift right in pixels")
        row = QHBoxLayout()
        row.addWidget(QLabel("down"))
        row.addWidget(self.shift_down)
        row.addWidget(QLabel("right"))
        row.addWidget(self.shift_right)
        row.addStretch(1)
        form.addRow("Shift", row)
        for spin in (self.shift_down, self.shift_right):
            spin.valueChanged.connect(lambda _v: self.refresh())
        return page

    def _mnist_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.digit = QComboBox()
        self.digit.setObjectName("playgroundDigit")
        self.digit.addItem("any digit", None)
        for d in range(10):
            self.digit.addItem(f"a {d}", d)
        self.digit_index = _spin(0, 0, "Which picture of that digit", "playgroundDigitIndex")
        self.digit_index.setAccessibleName("Picture of that digit")
        self.random_digit = QPushButton("Random")
        self.random_digit.setToolTip("Pick another picture of that digit at random")
        row = QHBoxLayout()
        row.addWidget(self.digit_index, 1)
        row.addWidget(self.random_digit)
        form.addRow("Digit", self.digit)
        form.addRow("Picture no.", row)
        self.digit.currentIndexChanged.connect(self._digit_changed)
        self.digit_index.valueChanged.connect(lambda _v: self.refresh())
        self.random_digit.clicked.connect(
            lambda: self.digit_index.setValue(int(np.random.default_rng().integers(self.digit_index.maximum() + 1)))
        )
        return page

    def _stripes_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.orientation = QComboBox()
        self.orientation.setObjectName("playgroundStripesOrientation")
        self.orientation.addItem("vertical lines", True)
        self.orientation.addItem("horizontal lines", False)
        self.stripes_seed = _spin(0, 9999, "Another number draws other stripes", "playgroundStripesSeed")
        form.addRow("Lines", self.orientation)
        form.addRow("Variant", self.stripes_seed)
        self.orientation.currentIndexChanged.connect(lambda _i: self.refresh())
        self.stripes_seed.valueChanged.connect(lambda _v: self.refresh())
        return page

    def _drawn_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.letter = QComboBox()
        self.letter.setObjectName("playgroundLetter")
        self.letter.addItems(["X", "O"])
        self.drawn_seed = _spin(0, 9999, "Another number draws another X or O", "playgroundDrawnSeed")
        form.addRow("Letter", self.letter)
        form.addRow("Variant", self.drawn_seed)
        self.letter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.drawn_seed.valueChanged.connect(lambda _v: self.refresh())
        return page

    def _file_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.open_button = QPushButton("Open picture…")
        self.open_button.setObjectName("playgroundOpenImage")
        self.open_button.setToolTip("A PNG, JPEG, BMP or GIF file; colour pictures are turned to grey")
        self.open_button.clicked.connect(self.ask_file)
        self.file_label = QLabel("No picture opened yet.")
        self.file_label.setWordWrap(True)
        layout.addWidget(self.open_button)
        layout.addWidget(self.file_label)
        return page

    # ------------------------------------------------------------------ choosing
    def choose(self, key: str) -> None:
        """Select a source by key: ``grid:X``, ``grid:O``, ``grid:X (shifted)``, ``mnist``, ``stripes``,
        ``drawn`` or ``file``."""
        index = self.kind.findData(key)
        if index < 0:
            raise ValueError(f"no picture source {key!r}")
        self.kind.setCurrentIndex(index)
        self.refresh()

    def open_file(self, path: str | Path) -> bool:
        """Use a picture file; False (and ``problem`` emitted) when it cannot be read."""
        try:
            image, note = grayscale_from_file(path)
        except UserError as exc:
            self.problem.emit(str(exc))
            return False
        self.file_image, self.file_note = image, note
        self.file_label.setText(note)
        with signals_blocked(self.kind):
            self.kind.setCurrentIndex(self.kind.findData("file"))
        self.pages.setCurrentIndex(4)
        self.refresh()
        return True

    def ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture", "", IMAGE_FILTER)
        if path:
            self.open_file(path)

    def _kind_changed(self) -> None:
        key = self.kind.currentData()
        page = {"grid": 0, "mnist": 1, "stripes": 2, "drawn": 3, "file": 4}[key.split(":")[0]]
        self.pages.setCurrentIndex(page)
        if key == "mnist":
            self._digit_changed()
        self.refresh()

    def _digit_changed(self) -> None:
        count = inputs.mnist_count(self.digit.currentData())
        self.digit_index.setMaximum(max(count - 1, 0))
        self.refresh()

    def refresh(self) -> None:
        """Make the picture the controls describe and announce it."""
        key = self.kind.currentData()
        try:
            image, title = self._make(key)
        except (UserError, ValueError) as exc:
            self.problem.emit(str(exc))
            return
        if image is None:
            return
        self.image, self.title = image, title
        self.imageChanged.emit(image, title)

    def _make(self, key: str) -> tuple[np.ndarray | None, str]:
        if key.startswith("grid:"):
            name = key.split(":", 1)[1]
            down, right = self.shift_down.value(), self.shift_right.value()
            moved = f", moved {down} down and {right} right" if down or right else ""
            return inputs.xo_grid(name, down, right), f"{name}{moved} (1 = stroke, -1 = background)"
        if key == "mnist":
            digit, index = self.digit.currentData(), self.digit_index.value()
            image, label = inputs.mnist_digit(digit, index)
            return image, f"MNIST sample: a {label} (picture {index})"
        if key == "stripes":
            vertical = bool(self.orientation.currentData())
            image = inputs.stripes_picture(vertical, self.stripes_seed.value())
            return image, f"stripes: {'vertical' if vertical else 'horizontal'} lines"
        if key == "drawn":
            letter = self.letter.currentText()
            return inputs.x_or_o_picture(letter, self.drawn_seed.value()), f"a drawn {letter}"
        if self.file_image is None:
            return None, ""
        return self.file_image, self.file_note


class SignalSource(QWidget):
    """Choose the 1-D signal: the test signal (sine + step + noise) or one row of the picture."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundSignalSource")
        self.kind = _combo()
        self.kind.setObjectName("playgroundSignalKind")
        self.kind.addItem("Test signal: sine + step + noise", "demo")
        self.kind.addItem("A row of the picture", "row")
        self.length = _spin(8, 256, "How many samples the signal has", "playgroundSignalLength")
        self.length.setValue(48)
        self.seed = _spin(0, 9999, "Another number draws other noise", "playgroundSignalSeed")
        self.row = _spin(0, 0, "Which row of the picture (0 = top)", "playgroundSignalRow")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Signal", self.kind)
        form.addRow("Samples", self.length)
        form.addRow("Noise variant", self.seed)
        form.addRow("Row", self.row)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for spin in (self.length, self.seed, self.row):
            spin.valueChanged.connect(lambda _v: self.changed.emit())
        self._kind_changed()

    def _kind_changed(self) -> None:
        demo = self.kind.currentData() == "demo"
        form: QFormLayout = self.layout()
        form.setRowVisible(self.length, demo)
        form.setRowVisible(self.seed, demo)
        form.setRowVisible(self.row, not demo)
        self.changed.emit()

    def choose(self, key: str) -> None:
        """``demo`` (the test signal) or ``row`` (a row of the picture)."""
        self.kind.setCurrentIndex(self.kind.findData(key))

    def signal(self, picture: np.ndarray) -> tuple[np.ndarray, str]:
        """The signal and its title; ``picture`` is the 2-D input, for the row option."""
        if self.kind.currentData() == "row" and picture.ndim == 2 and picture.size:
            with signals_blocked(self.row):
                self.row.setMaximum(picture.shape[0] - 1)
            row = self.row.value()
            return np.array(picture[row], dtype=np.float64), f"row {row} of the picture"
        signal = inputs.demo_signal(self.length.value(), self.seed.value())
        return signal, f"test signal: sine + step + noise, {len(signal)} samples"
