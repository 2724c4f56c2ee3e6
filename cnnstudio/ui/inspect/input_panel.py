"""Where the input comes from (the dataset, a picture, a drawing) and the input as the network gets it.

The chosen source makes the shared current input (`inspect_area.current_input`); the image
shown under it is exactly what the network receives (resized, converted, normalized as the
training data were), with the receptive field of a clicked feature-map position marked on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError
from cnnstudio.core.images import IMAGE_FILTER, read_image
from cnnstudio.ml.jobs.requests import DatasetImageRequest, PictureRequest
from cnnstudio.ml.jobs.results import BROWSED_SPLITS

from ..inspect_area import InputImage
from . import colors
from .controller import InspectController
from .dataset_browser import DatasetBrowser
from .draw_canvas import DrawingPad
from .pixel_view import Mark, PixelView

DATASET, PICTURE, DRAWING = 0, 1, 2
DRAWN_BY_HAND = "drawn by hand"  # the title of what the pad sends (a lesson may set a drawing of its own)
FIELD_COLOR = "#ffb000"


def ask_picture_path(parent: QWidget) -> Path | None:
    """Ask for a picture to open (tests replace this)."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, "Open Picture", "", IMAGE_FILTER)
    return Path(path) if path else None


class InputPanel(QWidget):
    """Source tabs (Dataset / Picture / Draw) above the network's input image."""

    failed = Signal(str)
    hovered = Signal(str)  # the input pixel under the mouse, in words

    def __init__(self, controller: InspectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputPanel")
        self.controller = controller
        self.picture: np.ndarray | None = None  # the opened picture, kept to convert again for a new model
        self.picture_name = ""
        self.sources = QTabWidget(self, objectName="inputSources")
        self.sources.setDocumentMode(True)
        self.browser = DatasetBrowser(controller, self)
        self.browser.failed.connect(self.failed)
        self.sources.addTab(self.browser, "Dataset")
        self.sources.addTab(self._picture_tab(), "Picture")
        self.pad = DrawingPad(self)
        self.pad.drawn.connect(self._drawn)
        self.pad.blank.connect(self._blank)
        self.sources.addTab(self.pad, "Draw")
        self.sources.currentChanged.connect(self._source_chosen)
        self.image_view = PixelView(self, minimum=120)
        self.image_view.setObjectName("inputImage")
        self.image_view.setToolTip("The input exactly as the network receives it")
        self.image_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.caption = QLabel("No input chosen yet.", self, objectName="inputCaption")
        self.caption.setWordWrap(True)
        self.field_label = QLabel(self, objectName="fieldCaption")
        self.field_label.setWordWrap(True)
        heading = QLabel("The network's input", self)
        heading.setStyleSheet("font-weight: 600;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.sources, 3)
        layout.addWidget(heading)
        layout.addWidget(self.image_view, 2)
        layout.addWidget(self.caption)
        layout.addWidget(self.field_label)
        self.image_view.hovered.connect(self._hover)
        controller.current.changed.connect(self.show_input)
        controller.modelChanged.connect(self._on_model)
        controller.context.document.projectReplaced.connect(self._new_project)
        self.show_input(controller.current.value)

    def _picture_tab(self) -> QWidget:
        tab = QWidget(self)
        self.open_button = QPushButton("Open Picture…", tab, objectName="openPicture")
        self.open_button.setToolTip("A PNG or JPEG image of any size: it is converted to the network's input")
        self.open_button.clicked.connect(self.choose_picture)
        self.invert_box = QCheckBox("Invert (dark ink on light paper)", tab, objectName="invertPicture")
        self.invert_box.setToolTip("MNIST digits are white on black: invert photos of dark ink on paper")
        self.invert_box.toggled.connect(lambda _on: self._reload_picture())
        self.picture_label = QLabel("…or drop a picture anywhere on this page.", tab, objectName="pictureName")
        self.picture_label.setWordWrap(True)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.open_button)
        layout.addWidget(self.invert_box)
        layout.addWidget(self.picture_label)
        layout.addStretch(1)
        return tab

    # -- sources ----------------------------------------------------------------------------------
    def _source_chosen(self, tab: int) -> None:
        if tab != DATASET:
            self.browser.stop_waiting()
        if tab == DATASET:
            self.browser.show_first()
        elif tab == PICTURE and self.picture is not None:
            self._reload_picture()
        elif tab == DRAWING:
            self.pad.send_again()

    def choose_picture(self) -> None:
        path = ask_picture_path(self)
        if path is not None:
            self.open_picture(path)

    def open_picture(self, path: str | Path) -> bool:
        """Read a picture file and make it the input (converted to the network's size and colours)."""
        path = Path(path)
        try:
            raw = read_image(path)
        except UserError as exc:  # the one decoder says in words what is wrong with the file
            self.failed.emit(str(exc))
            return False
        self.picture, self.picture_name = raw, path.name
        shape = "x".join(map(str, raw.shape))
        self.picture_label.setText(f"{path.name} ({shape}, {'colour' if raw.ndim == 3 else 'grey'})")
        if self.sources.currentIndex() != PICTURE:
            self.sources.setCurrentIndex(PICTURE)  # loads it
        else:
            self._reload_picture()
        return True

    def _reload_picture(self) -> None:
        if self.picture is None:
            return
        raw = 255 - self.picture if self.invert_box.isChecked() else self.picture
        self.controller.load_input("picture", PictureRequest(raw, self.picture_name, "file"),
                                   on_error=self.failed.emit)

    def _drawn(self, drawing: np.ndarray) -> None:
        self.controller.load_input("drawing", PictureRequest(drawing, DRAWN_BY_HAND, "drawing"),
                                   on_error=self.failed.emit)

    def _from_pad(self, value: InputImage | None) -> bool:
        return value is not None and value.origin == "drawing" and value.title == DRAWN_BY_HAND

    def _blank(self) -> None:
        """An empty drawing is no input: nothing is predicted from it."""
        if self._from_pad(self.controller.current.value) or self.sources.currentIndex() == DRAWING:
            self.controller.drop_pending_inputs()
            self.controller.current.set(None)

    def _new_project(self) -> None:
        """A new project (opened, a template, a lesson): the drawing and the marked field were the old one's."""
        self.show_field(None)
        if not self.pad.canvas.is_blank():
            self.pad.canvas.clear()

    def reload(self) -> None:
        """Make the input again from its source, for the model now inspected (e.g. after an edit)."""
        value = self.controller.current.value
        if value is None:
            self._source_chosen(self.sources.currentIndex())
        elif value.origin == "dataset" and value.split in BROWSED_SPLITS and value.index is not None:
            self.controller.load_input("browse", DatasetImageRequest(value.split, value.index),
                                       on_error=self.failed.emit)
        elif value.origin == "file" and self.picture is not None:
            self._reload_picture()
        elif self._from_pad(value):
            self.pad.send_again()
        else:
            self.controller.analyse()

    def _on_model(self, facts) -> None:
        shape = tuple(facts.input_shape)
        is_image = len(shape) == 3 and None not in shape
        if is_image:
            self.pad.set_input_size(int(shape[0]), int(shape[1]))
        for tab in (PICTURE, DRAWING):
            self.sources.setTabEnabled(tab, is_image)
            self.sources.setTabToolTip(tab, "" if is_image else "This network's input is not an image")

    # -- the input shown --------------------------------------------------------------------------
    def show_input(self, value: InputImage | None) -> None:
        self.show_field(None)
        if value is None:
            self.image_view.set_image(None)
            self.caption.setText("Nothing drawn yet: draw with the mouse above." if self.sources.currentIndex() == DRAWING
                                 else "No input chosen yet.")
            return
        image = np.asarray(value.image)
        self.image_view.set_image(colors.input_rgba(image) if image.ndim >= 2 else None)
        shape = "x".join(map(str, image.shape))
        low, high = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
        analysis = self.controller.analysis
        note = analysis.note if analysis is not None and analysis.input is value and analysis.note else ""
        self.caption.setText(f"{value.title} — {shape}, values {low:.2g} to {high:.2g}"
                             + (f" ({note})" if note else ""))
        self.browser.follow(value)

    def _hover(self, pixel) -> None:
        value = self.controller.current.value
        if pixel is None or value is None or np.ndim(value.image) < 2:
            return
        col, row = int(pixel[0]), int(pixel[1])
        numbers = np.atleast_1d(np.asarray(value.image)[row, col])
        text = ", ".join(f"{v:.4g}" for v in numbers[:4])
        self.hovered.emit(f"input, row {row}, column {col}: {text}")

    def show_field(self, box: tuple[int, int, int, int] | None, text: str = "") -> None:
        """Mark input rows top..bottom, columns left..right (half-open) as a receptive field."""
        if box is None:
            self.image_view.set_marks([])
        else:
            top, left, bottom, right = box
            self.image_view.set_marks([Mark(left, top, right - left, bottom - top, FIELD_COLOR, fill=True)])
        self.field_label.setText(text)

    def field_box(self) -> tuple[int, int, int, int] | None:
        """The receptive field marked now, as (top, left, bottom, right)."""
        if not self.image_view.marks:
            return None
        mark = self.image_view.marks[0]
        return int(mark.y), int(mark.x), int(mark.y + mark.height), int(mark.x + mark.width)

    def dropped_path(self, urls) -> Path | None:
        for url in urls:
            if url.isLocalFile():
                return Path(url.toLocalFile())
        return None

    def focus_draw(self) -> None:
        self.sources.setCurrentIndex(DRAWING)
        self.pad.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
