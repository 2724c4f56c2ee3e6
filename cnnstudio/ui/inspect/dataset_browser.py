"""Choosing an input from the project's dataset: by split and class, one after another or at
random, or only the images the model gets wrong."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.ml.jobs.requests import DatasetImageRequest
from cnnstudio.ml.jobs.results import SPLIT_WORDS, DatasetIndex, Misclassified

from ..inspect_area import InputImage
from .controller import InspectController

SPLITS = (("validation", "Validation"), ("train", "Training"))


class DatasetBrowser(QWidget):
    """Split, class and "only misclassified" filters, with previous / next / random."""

    failed = Signal(str)

    def __init__(self, controller: InspectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetBrowser")
        self.controller = controller
        self.index: DatasetIndex | None = None
        self.positions = np.zeros(0, np.int64)  # split positions that pass the filters
        self.cursor = 0
        self._want_first = False
        self.split_combo = QComboBox(self, objectName="browseSplit")
        for key, text in SPLITS:
            self.split_combo.addItem(text, key)
        self.split_combo.setToolTip("Validation images were not learned from; training images were")
        self.class_combo = QComboBox(self, objectName="browseClass")
        self.class_combo.setToolTip("Show only images of this class (their true label)")
        self.wrong_box = QCheckBox("Only misclassified", self, objectName="onlyMisclassified")
        self.wrong_box.setToolTip("Only the images the model inspected now gets wrong")
        self.previous_button = QPushButton("◀ Previous", self, objectName="previousImage")
        self.next_button = QPushButton("Next ▶", self, objectName="nextImage")
        self.random_button = QPushButton("Random", self, objectName="randomImage")
        self.position_label = QLabel(self, objectName="browsePosition")
        self.position_label.setWordWrap(True)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Split", self.split_combo)
        form.addRow("Class", self.class_combo)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.previous_button, self.next_button, self.random_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.wrong_box)
        layout.addLayout(buttons)
        layout.addWidget(self.position_label)
        layout.addStretch(1)
        self.split_combo.currentIndexChanged.connect(lambda _i: self._split_changed())
        self.class_combo.currentIndexChanged.connect(lambda _i: self._filters_changed())
        self.wrong_box.toggled.connect(lambda _on: self._filters_changed())
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.random_button.clicked.connect(self.random)
        controller.indexReady.connect(self._on_index)
        controller.misclassifiedReady.connect(self._on_misclassified)
        controller.indexFailed.connect(self._on_index_failed)
        controller.stale.connect(self._forget)
        self._enable(False)
        self.position_label.setText("Loading the dataset…")

    # -- what there is ----------------------------------------------------------------------------
    @property
    def split(self) -> str:
        return str(self.split_combo.currentData())

    @property
    def class_filter(self) -> int | None:
        value = self.class_combo.currentData()
        return None if value is None else int(value)

    def _forget(self) -> None:
        self.index = None
        self._enable(False)

    def ensure_index(self) -> None:
        if self.index is None:
            self.controller.request_index()

    def show_first(self) -> None:
        """Show an image as soon as the dataset is known (the first one passing the filters)."""
        if self.index is None:
            self._want_first = True
            self.ensure_index()
        else:
            self.show_current()

    def stop_waiting(self) -> None:
        """Another source was chosen meanwhile: the dataset, once known, shows no image by itself."""
        self._want_first = False

    def _on_index(self, index: DatasetIndex) -> None:
        self.index = index
        self._fill_classes()
        self._enable(True)
        self._refilter(keep=True)
        if self._want_first:
            self._want_first = False
            self.show_current()

    def _on_index_failed(self, message: str) -> None:
        self._want_first = False
        self._enable(False)
        self.position_label.setText(f"The dataset cannot be browsed: {message}. "
                                    "Open a picture or draw an input instead.")
        self.failed.emit(message)

    def _enable(self, on: bool) -> None:
        for widget in (self.split_combo, self.class_combo, self.wrong_box, self.previous_button,
                       self.next_button, self.random_button):
            widget.setEnabled(on)

    def _fill_classes(self) -> None:
        """The class choices with how many images of each the split holds."""
        chosen = self.class_filter
        index = self.index
        with signals_blocked(self.class_combo):
            self.class_combo.clear()
            self.class_combo.addItem("All classes", None)
            counts = np.bincount(index.labels[self.split], minlength=len(index.class_names))
            for i, name in enumerate(index.class_names):
                self.class_combo.addItem(f"{name} ({counts[i]})", i)
            found = self.class_combo.findData(chosen) if chosen is not None else 0
            self.class_combo.setCurrentIndex(max(found, 0))

    # -- filtering --------------------------------------------------------------------------------
    def _split_changed(self) -> None:
        if self.index is not None:
            self._fill_classes()
        self._filters_changed()

    def _filters_changed(self) -> None:
        if self.index is None:
            return
        if self.wrong_box.isChecked() and self.split not in self.controller.misclassified:
            self.position_label.setText("Finding the images the model gets wrong…")
            self.controller.request_misclassified(self.split)
            return
        self._refilter(keep=False)
        self.show_current()

    def _on_misclassified(self, found: Misclassified) -> None:
        if self.wrong_box.isChecked() and found.split == self.split:
            self._refilter(keep=False)
            self.show_current()

    def _refilter(self, keep: bool) -> None:
        if self.index is None:
            return
        labels = self.index.labels.get(self.split, np.zeros(0, np.int32))
        keep_index = int(self.positions[self.cursor]) if keep and len(self.positions) else None
        mask = np.ones(len(labels), bool)
        if self.class_filter is not None:
            mask &= labels == self.class_filter
        wrong = self.controller.misclassified.get(self.split) if self.wrong_box.isChecked() else None
        if wrong is not None:
            only = np.zeros(len(labels), bool)
            only[wrong.indices] = True
            mask &= only
        self.positions = np.flatnonzero(mask)
        found = np.flatnonzero(self.positions == keep_index) if keep_index is not None else []
        self.cursor = int(found[0]) if len(found) else 0
        self._update_label()

    def _update_label(self, chosen_elsewhere: InputImage | None = None) -> None:
        if chosen_elsewhere is not None:
            self.position_label.setText(f"Showing {chosen_elsewhere.title}, chosen elsewhere")
            return
        total = len(self.positions)
        if self.index is None:
            return
        if not total:
            what = "misclassified images" if self.wrong_box.isChecked() else "images"
            self.position_label.setText(f"No {what} here.")
            return
        word = "misclassified" if self.wrong_box.isChecked() else "images"
        self.position_label.setText(f"{self.cursor + 1} of {total} {word} — image {self.positions[self.cursor]} "
                                    f"of the {SPLIT_WORDS[self.split]} split")
        for button in (self.previous_button, self.next_button, self.random_button):
            button.setEnabled(total > 1)

    # -- moving -----------------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        if len(self.positions):
            self.cursor = (self.cursor + delta) % len(self.positions)
            self.show_current()

    def random(self) -> None:
        if len(self.positions) > 1:
            choice = self.cursor
            rng = np.random.default_rng()
            while choice == self.cursor:
                choice = int(rng.integers(len(self.positions)))
            self.cursor = choice
            self.show_current()

    def show_current(self) -> None:
        """Load the image under the cursor and make it the current input."""
        if self.index is None or not len(self.positions):
            self._update_label()
            return
        self._update_label()
        index = int(self.positions[self.cursor])
        self.controller.load_input("browse", DatasetImageRequest(self.split, index), on_error=self.failed.emit)

    def follow(self, value: InputImage | None) -> None:
        """Keep the cursor on an image chosen elsewhere (e.g. from the confusion matrix)."""
        if value is None or value.origin != "dataset" or value.index is None:
            return
        if value.split == self.split and len(self.positions):
            found = np.flatnonzero(self.positions == value.index)
            if len(found):
                self.cursor = int(found[0])
                self._update_label()
                return
        self._update_label(chosen_elsewhere=value)
