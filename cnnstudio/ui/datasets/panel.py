"""The Dataset panel: choose the data, look at it, prepare it, and make the network fit it.

What is known without loading (names, shapes, classes: `cnnstudio.core.datasets`) shows
at once; images, class counts and exact split sizes come from the ML thread
(the job `cnnstudio.ml.jobs.datasets.preview`), with a progress bar and Cancel while a Keras dataset
downloads. Edits go into the document's evented data settings (which mark the project
modified), and the panel follows them whoever changes them; network changes
(augmentation layers, fixes) are undoable commands.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.datasets import DatasetInfo, dataset_info
from cnnstudio.core.errors import DatasetError
from cnnstudio.ml.jobs.requests import AugmentRequest

from ..context import AppContext
from . import edits
from .augmentation import AugmentationBox, starting_params
from .chooser import DatasetChooser, source_text
from .counts import ClassCountsPlot
from .fit import DataFacts, Problem, find_problems, output_layer
from .fit_box import FitBox
from .loader import LoadProgress, PreviewLoader
from .samples import SampleGrid
from .settings_form import DataSettingsForm

SAMPLE_COUNT = 32
FALLBACK_DATASET = "mnist-sample"
LOAD_DELAY_MS = 120  # settle typing in spin boxes before loading again


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "es" if word.endswith("s") else "s")


def _channels_text(c: int) -> str:
    return {1: "1 channel (grayscale)", 3: "3 channels (RGB)"}.get(c, f"{c} channels")


class DatasetPanel(QScrollArea):
    """The dock's content (objectName ``datasetPanel`` is on the dock)."""

    fitChanged = Signal(bool)  # whether the network has errors fitting the data

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.document = context.document
        self.settings = context.document.settings.data
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.preview = None  # DatasetPreview of the current settings, once loaded
        self.augmented_images = None
        self.info: DatasetInfo | None = None
        self._preview_key: tuple | None = None
        self._requested_key: tuple = ()
        self._stale = True
        self._shown = False  # the dock is open and in front (not a hidden tab)
        self._sample_seed = 0
        self.loader = PreviewLoader(context.ml, self)
        self._build()
        self._load_timer = QTimer(self, singleShot=True, interval=LOAD_DELAY_MS)
        self._load_timer.timeout.connect(self.load)
        self._wire()
        self.refresh_from_project()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        body = QWidget()
        body.setObjectName("datasetPanelBody")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)

        self.chooser = DatasetChooser()
        layout.addWidget(self.chooser)
        self.description = QLabel()
        self.description.setObjectName("datasetDescription")
        self.description.setWordWrap(True)
        layout.addWidget(self.description)

        self.progress_row = LoadProgress()
        self.progress, self.cancel_button = self.progress_row.bar, self.progress_row.cancel_button
        layout.addWidget(self.progress_row)

        self.status = QLabel()
        self.status.setObjectName("datasetStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        layout.addWidget(self.status)
        self.status_actions = QWidget()
        actions = QHBoxLayout(self.status_actions)
        actions.setContentsMargins(0, 0, 0, 0)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setObjectName("datasetRetry")
        self.fallback_button = QPushButton(f"Use {FALLBACK_DATASET}")
        self.fallback_button.setObjectName("datasetFallback")
        self.fallback_button.setToolTip("The bundled sample of 10,000 MNIST digits: works offline")
        actions.addWidget(self.retry_button)
        actions.addWidget(self.fallback_button)
        actions.addStretch(1)
        self.status_actions.hide()
        layout.addWidget(self.status_actions)

        self.fit_box = FitBox()
        layout.addWidget(self.fit_box)

        self.facts = QLabel()
        self.facts.setObjectName("datasetFacts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.facts)

        samples_box = QGroupBox("Sample images (as the network sees them)")
        samples_layout = QVBoxLayout(samples_box)
        self.samples = SampleGrid()
        samples_layout.addWidget(self.samples)
        sample_actions = QHBoxLayout()
        self.reshuffle_button = QPushButton("Other samples")
        self.reshuffle_button.setObjectName("datasetReshuffle")
        self.reshuffle_button.setToolTip("Show another random choice of training images")
        self.show_augmented = QCheckBox("With augmentation")
        self.show_augmented.setObjectName("showAugmented")
        self.show_augmented.setToolTip("Pass the samples through the network's augmentation layers, as in training")
        sample_actions.addWidget(self.reshuffle_button)
        sample_actions.addWidget(self.show_augmented)
        sample_actions.addStretch(1)
        samples_layout.addLayout(sample_actions)
        layout.addWidget(samples_box)

        counts_box = self.counts_box = QGroupBox("Images per class")
        counts_layout = QVBoxLayout(counts_box)
        self.counts = ClassCountsPlot()
        counts_layout.addWidget(self.counts)
        layout.addWidget(counts_box)

        settings_box = QGroupBox("Preparing the data")
        settings_layout = QVBoxLayout(settings_box)
        self.settings_form = DataSettingsForm()
        settings_layout.addWidget(self.settings_form)
        layout.addWidget(settings_box)

        augment_box = QGroupBox("Augmentation (layers of the network)")
        augment_layout = QVBoxLayout(augment_box)
        self.augmentation = AugmentationBox()
        augment_layout.addWidget(self.augmentation)
        layout.addWidget(augment_box)
        layout.addStretch(1)
        self.setWidget(body)

    def _wire(self) -> None:
        document = self.document
        self._after_edit = QTimer(self, singleShot=True, interval=150)
        self._after_edit.timeout.connect(self._network_settled)
        self.settings.changed.connect(self._data_changed)
        document.settings.training.changed.connect(self._training_changed)
        document.analysisChanged.connect(lambda _analysis: self._network_changed())
        document.lockedChanged.connect(self._apply_lock)
        self.chooser.chosen.connect(self.set_dataset)
        self.chooser.refused.connect(lambda message: self._show_status(message, error=True))
        self.settings_form.edited.connect(self._settings_edited)
        self.augmentation.toggled.connect(self.toggle_augmentation)
        self.fit_box.fixChosen.connect(self.apply_fix)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.retry_button.clicked.connect(self.load)
        self.fallback_button.clicked.connect(lambda: self.set_dataset(FALLBACK_DATASET))
        self.reshuffle_button.clicked.connect(self.reshuffle)
        self.show_augmented.toggled.connect(lambda _on: self._update_augmented())
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.loader.downloading.connect(
            lambda fraction: self.progress_row.download(fraction, self.info.title if self.info else ""))

    # ------------------------------------------------------------------ the project
    @property
    def dataset_name(self) -> str:
        return str(self.settings.get("name") or "")

    def refresh_from_project(self) -> None:
        """Show the project's dataset and settings (on start and when another project opens)."""
        self.chooser.set_current(self.dataset_name)
        self._update_info()
        self._show_settings()
        self.augmentation.show_network(self.document.network)
        self._apply_lock(self.document.locked)
        self._show_facts()
        self._after_edit.start()  # the fit is checked once the new network is drawn (a large one takes a while)
        self._invalidate()

    def _show_settings(self) -> None:
        own = self.info.input_shape[:2] if self.info and self.info.input_shape else None
        if own is None and self.preview is not None:
            own = self.preview.input_shape[:2]
        self.settings_form.show_settings(self.settings.value, own)

    def _update_info(self) -> None:
        try:
            self.info = dataset_info(self.dataset_name)
        except DatasetError as exc:
            self.info = None
            self.description.setText("")
            self._show_status(str(exc), error=True)
            return
        self.description.setText(f"{self.info.description} <i>({source_text(self.info)})</i>")

    def set_dataset(self, name: str) -> None:
        """Train and inspect on another dataset (a registry name, ``folder:PATH`` or ``npz:PATH``)."""
        try:
            info = dataset_info(name)
        except DatasetError as exc:
            self._show_status(str(exc), error=True)
            return
        with self.settings.changed.blocker(self._data_changed):
            if self.settings.update(name=info.name):
                self.context.messages.show("info", f"Dataset: {info.title}")
        self.chooser.set_current(info.name)
        self._clear_status()
        self._update_info()
        self._show_settings()
        self._show_facts()
        self.update_fit()
        self._invalidate(now=True)

    def _settings_edited(self, dataset: dict[str, Any], training: dict[str, Any]) -> None:
        self._write(dataset, training)

    def _write(self, dataset: dict[str, Any], training: dict[str, Any]) -> None:
        with self.settings.changed.blocker(self._data_changed):
            changed = self.settings.update(**dataset, **training)
        if changed:
            self._settings_shown()

    def _data_changed(self, keys: frozenset[str]) -> None:
        """The data settings changed elsewhere (a new project, say): show what they are now."""
        if "name" in keys:
            self.refresh_from_project()
        else:
            self._settings_shown()

    def _training_changed(self, keys: frozenset[str]) -> None:
        """The loss decides what the output must be; the seed, which images are held out."""
        if keys & {"loss", "seed"}:
            self._show_facts()
            self._after_edit.start()  # the fit is checked a moment later (a large network takes a while)
        if "seed" in keys:
            self._invalidate()

    def _settings_shown(self) -> None:
        self._show_settings()
        self._show_facts()
        self.update_fit()
        self._invalidate()

    # ------------------------------------------------------------------ loading
    def _options_key(self) -> tuple:
        return (repr(self.settings.value), self.document.settings.training.get("seed"), self._sample_seed)

    def _invalidate(self, now: bool = False) -> None:
        """The shown images may be out of date: load again when the panel is visible."""
        self._stale = True
        if self._shown or now:
            self._load_timer.start(0 if now else LOAD_DELAY_MS)

    def set_shown(self, shown: bool) -> None:
        """The dock came to the front (load what is out of date) or went behind another tab."""
        self._shown = shown
        if shown and self._stale:
            self._load_timer.start(0)

    def load(self) -> None:
        """Ask the ML thread for the dataset's preview (downloading it first if needed)."""
        self._load_timer.stop()
        if self.info is None:
            return
        self._stale = False
        self._requested_key = self._options_key()
        self._clear_status()
        self.progress_row.busy(f"Loading {self.info.title}…")
        self.loader.load(self.document.project.copy(), SAMPLE_COUNT, self._sample_seed)

    def _loaded(self, preview) -> None:
        self.progress_row.done()
        self.preview = preview
        self._preview_key = self._requested_key[:2]  # what the facts depend on (not which samples were drawn)
        if preview.warnings:
            self._show_status("\n".join(preview.warnings), error=False)
        value_range = (0.0, 1.0) if preview.normalization == "scale" else None
        self.samples.set_samples(preview.images, preview.labels, preview.class_names, value_range)
        self.counts.set_counts(preview.counts, preview.class_names)
        self.counts_box.show()
        self._show_settings()
        self._show_facts()
        self.update_fit()
        self._update_augmented()

    def _failed(self, message: str) -> None:
        self.progress_row.done()
        self.preview = None
        self.samples.clear("No images: the dataset could not be loaded")
        self.counts.clear_counts()
        self.counts_box.hide()
        self._show_status(message, error=True, offer_fallback=self.dataset_name != FALLBACK_DATASET)
        self._show_facts()

    def cancel_download(self) -> None:
        """Stop a download in progress (the dataset stays chosen; Try again resumes it)."""
        self.loader.cancel()
        self._stale = True
        self.progress_row.done()
        title = self.info.title if self.info else self.dataset_name
        self._show_status(f"Download of {title} cancelled. It is not on this computer yet: try again "
                          "later, or choose another dataset.", error=False, offer_fallback=True)

    def reshuffle(self) -> None:
        self._sample_seed += 1
        self.load()

    @property
    def loading(self) -> bool:
        return self.loader.loading

    # ------------------------------------------------------------------ status and facts
    def _show_status(self, text: str, error: bool, offer_fallback: bool = False) -> None:
        color = "#d93636" if error else ""
        self.status.setStyleSheet(f"color: {color}" if color else "")
        self.status.setText(text)
        self.status.show()
        self.status_actions.setVisible(offer_fallback or error)
        self.fallback_button.setVisible(offer_fallback)
        self.retry_button.setVisible(error or offer_fallback)

    def _clear_status(self) -> None:
        self.status.hide()
        self.status_actions.hide()

    def data_facts(self) -> DataFacts | None:
        """The data the network must fit, as known now (exact once the preview is loaded)."""
        if self.info is None:
            return None
        data = self.settings.value
        normalization = str(data.normalization or "scale")
        if self.preview is not None and self._preview_key == self._options_key()[:2]:
            return DataFacts(self.info.name, tuple(self.preview.input_shape), len(self.preview.class_names),
                             normalization, self.info.input_shape)
        own = self.info.input_shape
        size, color = data.image_size, data.color_mode
        shape = own
        if own is not None or (size and color):
            h, w, c = own if own is not None else (0, 0, 0)
            if isinstance(size, (list, tuple)) and len(size) == 2:
                h, w = int(size[0]), int(size[1])
            if color in ("grayscale", "rgb"):
                c = 1 if color == "grayscale" else 3
            shape = (h, w, c)
        return DataFacts(self.info.name, shape, self.info.num_classes, normalization, own)

    def _show_facts(self) -> None:
        facts = self.data_facts()
        if facts is None:
            self.facts.setText("")
            return
        lines = []
        if facts.shape is not None:
            h, w, c = facts.shape
            lines.append(f"Images {h}x{w} pixels, {_channels_text(c)}")
        else:
            lines.append("Image size: known once the folder is read")
        if facts.num_classes:
            lines[-1] += f" · {_plural(facts.num_classes, 'class')}"
        if self.preview is not None:
            sizes = [self.preview.split_size(s) for s in ("train", "validation", "test")]
            lines.append(f"Train {sizes[0]:,} · validation {sizes[1]:,} · test {sizes[2]:,} images")
        elif self.info is not None and self.info.num_train:
            split = self.settings.get("validation_split")
            split = float(split) if isinstance(split, (int, float)) else 0.1
            validation = round(self.info.num_train * split)
            lines.append(f"Train ~{self.info.num_train - validation:,} · validation ~{validation:,} · "
                         f"test {self.info.num_test or 0:,} images")
        self.facts.setText("<br>".join(lines))

    # ------------------------------------------------------------------ the network
    def _network_changed(self) -> None:
        """After an edit: checked a moment later, once a burst of edits is over, so that trying
        the fixes on copies of the network never slows the editing itself."""
        self.augmentation.show_network(self.document.network)
        self._after_edit.start()

    def _network_settled(self) -> None:
        self.update_fit()
        self._update_augmented()

    def problems(self) -> list[Problem]:
        """What keeps the network from fitting the data now (with fixes)."""
        facts = self.data_facts()
        if facts is None:
            return []
        network = self.document.network
        analysis = self.document.analysis()
        input_id = edits.the_input(network)
        input_info = analysis.layers.get(input_id) if input_id else None
        out = output_layer(network)
        out_info = analysis.layers.get(out) if out else None
        units = None
        if out_info is not None and out_info.output_shape and len(out_info.output_shape) == 1:
            units = out_info.output_shape[0]
        return find_problems(network, facts, loss=self.document.settings.training.get("loss"),
                             output_units=units,
                             input_shape=input_info.output_shape if input_info else None)

    def update_fit(self) -> None:
        problems = self.problems()
        facts = self.data_facts()
        ok = ""
        if facts is not None and facts.shape is not None and not problems:
            ok = f"The network fits {self.info.title if self.info else 'the data'}."
        self.fit_box.show_problems(problems, ok)
        self.fitChanged.emit(any(p.severity == "error" for p in problems))

    def apply_fix(self, fix) -> None:
        """One click: an undoable network edit, or new dataset/training settings."""
        if fix.command is not None:
            if not self.document.push(fix.command(self.document.network)):
                return
        if fix.dataset or fix.training:
            self._write(dict(fix.dataset), dict(fix.training))
        self.context.messages.show("info", f"Dataset fit: {fix.label}")

    def toggle_augmentation(self, type_name: str, on: bool) -> None:
        """Add or remove one augmentation layer after the Input (one undoable step)."""
        network = self.document.network
        if on:
            normalization = str(self.settings.get("normalization") or "scale")
            command = edits.add_augmentation(network, type_name, starting_params(type_name, normalization))
        else:
            command = edits.remove_augmentation(network, type_name)
        if command is None:
            self._show_status("Augmentation layers go after the Input, and this network has no single Input.",
                              error=True)
        else:
            self.document.push(command)
        self.augmentation.show_network(self.document.network)

    def _apply_lock(self, locked: bool) -> None:
        self.augmentation.setEnabled(not locked)
        self.fit_box.setEnabled(not locked)
        self.chooser.setEnabled(not locked)
        self.settings_form.setEnabled(not locked)

    # ------------------------------------------------------------------ augmented samples
    def _augmentation_nodes(self) -> list[dict[str, Any]]:
        network = self.document.network
        chain = edits.augmentation_chain(network)
        ids = chain or [n.id for n in network if edits.is_augmentation(n.type)]
        return [{"type": network.node(i).type, "params": dict(network.node(i).params)} for i in ids]

    def _update_augmented(self) -> None:
        layers = self._augmentation_nodes()
        self.show_augmented.setEnabled(bool(layers))
        if self.preview is None:
            return
        value_range = (0.0, 1.0) if self.preview.normalization == "scale" else None
        if not (layers and self.show_augmented.isChecked()):
            self.samples.set_samples(self.preview.images, self.preview.labels, self.preview.class_names,
                                     value_range)
            return
        preview = self.preview
        self.context.ml.run(
            AugmentRequest(preview.images, tuple(layers), self._sample_seed), key="dataset-augmented",
            on_result=lambda images: self._show_augmented(preview, images, value_range),
            on_error=lambda message: self._show_status(message, error=True))

    def _show_augmented(self, preview, images, value_range) -> None:
        if preview is self.preview and self.show_augmented.isChecked():
            self.augmented_images = images
            self.samples.set_samples(images, preview.labels, preview.class_names, value_range)
