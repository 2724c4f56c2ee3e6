"""The feature-maps view: the input on the left, what every layer makes of it in the middle,
the network's answer on the right. Clicking a position in a map marks the input pixels that
position sees (its receptive field, from core's exact arithmetic)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core import array_files
from cnnstudio.core.errors import UserError
from cnnstudio.core.images import is_image_path
from cnnstudio.core.receptive import field_box
from cnnstudio.ml.jobs.results import Analysis

from .. import saving
from ..reflow import flow_row
from ..theme import ERROR_COLOR
from .controller import InspectController
from .input_panel import InputPanel
from .layer_rows import MAP_SIZES, LayerRow, MapsRow, make_row
from .model_bar import ModelBar
from .prediction_view import PredictionView

HIDDEN_TYPES = {"InputLayer"}  # the input is shown on the left

READOUT_HINT = "Point at a map to read its values; click a position to see its receptive field."

class FeatureMapsPage(QWidget):
    shown = Signal()  # every row shows the current analysis (for timings and tests)

    def __init__(self, controller: InspectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapsView")
        self.setAcceptDrops(True)
        self.controller = controller
        self.rows: dict[str, LayerRow] = {}
        self.analysis: Analysis | None = None
        self._selection: tuple[str, int, int, int] | None = None  # the map position clicked last
        self._dirty = True
        self.model_bar = ModelBar(controller, self)
        self.scale_combo = QComboBox(self, objectName="mapScale")
        self.scale_combo.setAccessibleName("Feature map scale")
        self.scale_combo.addItem("Each map on its own scale", False)
        self.scale_combo.addItem("One scale per layer", True)
        self.scale_combo.setToolTip("Stretch every map to its own range (shows patterns), or use one range "
                                    "for the whole layer (shows which maps are strongest)")
        self.size_combo = QComboBox(self, objectName="mapSize")
        self.size_combo.setAccessibleName("Feature map size")
        for key in MAP_SIZES:
            self.size_combo.addItem(f"{key.title()} maps", MAP_SIZES[key])
        self.size_combo.setCurrentIndex(1)
        self.png_button = QPushButton("Export PNG…", self, objectName="exportMapsPng")
        self.npz_button = QPushButton("Export .npz…", self, objectName="exportMapsNpz")
        self.npz_button.setToolTip("Every layer's output for this input, one array per layer id")
        self.banner = QLabel(self, objectName="mapsMessage")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(f"color: {ERROR_COLOR};")
        self.banner.hide()
        self.input_panel = InputPanel(controller, self)
        self.prediction = PredictionView(self)
        self.rows_widget = QWidget(self)
        self.rows_layout = QVBoxLayout(self.rows_widget)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(0)
        self.rows_layout.addStretch(1)
        self.scroll = QScrollArea(self, objectName="mapsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.rows_widget)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.readout = QLabel(READOUT_HINT, self, objectName="mapsReadout")
        self.readout.setWordWrap(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.input_panel)
        self.splitter.addWidget(self.scroll)
        self.splitter.addWidget(self.prediction)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 1000, 300])
        self.splitter.setChildrenCollapsible(False)
        top = flow_row(self.model_bar, self.scale_combo, self.size_combo, self.png_button, self.npz_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.readout)
        self.scale_combo.currentIndexChanged.connect(lambda _i: self._restyle())
        self.size_combo.currentIndexChanged.connect(lambda _i: self._restyle())
        self.png_button.clicked.connect(self.export_png)
        self.npz_button.clicked.connect(self.export_npz)
        self.input_panel.failed.connect(self.show_problem)
        self.input_panel.hovered.connect(self._hover)
        controller.modelChanged.connect(self._build_rows)
        controller.stale.connect(self._on_stale)
        controller.analysisReady.connect(self._show_analysis)
        controller.analysisFailed.connect(self.show_problem)
        controller.indexFailed.connect(self.show_problem)
        controller.indexReady.connect(lambda _index: self._refresh_prediction())
        controller.current.changed.connect(self._input_changed)
        controller.context.document.projectReplaced.connect(self._forget_selection)
        if controller.facts is not None:
            self._build_rows(controller.facts)

    # -- visibility and refresh -------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.controller.facts is not None:
            self._build_rows(self.controller.facts)  # rows are made when first seen (a plot each: slow)
        self.controller.want_maps = True
        if self._dirty:
            self.refresh()
        else:
            self.controller.analyse()  # the input may have changed while hidden (cached if not)

    def hideEvent(self, event) -> None:  # noqa: N802
        self.controller.want_maps = False
        super().hideEvent(event)

    def refresh(self) -> None:
        """Make the input again for the current model and show what every layer makes of it."""
        self._dirty = False
        self.controller.want_maps = True
        self.controller.request_index()
        self.input_panel.reload()

    def _on_stale(self) -> None:
        self._dirty = True
        if self.isVisible():
            self.refresh()

    # -- rows -------------------------------------------------------------------------------------
    def _build_rows(self, facts) -> None:
        if not self.isVisible():
            return  # made at the next showEvent: a new run's model must not stall the window while it trains
        wanted = [(layer.name, layer.type, tuple(layer.output_shape)) for layer in facts.layers
                  if layer.type not in HIDDEN_TYPES]
        if [(r.name, r.kind, r.shape) for r in self.rows.values()] == wanted:
            return
        for row in self.rows.values():
            row.deleteLater()
        self.rows.clear()
        for name, kind, shape in wanted:
            row = make_row(name, kind, shape, self.rows_widget)
            row.hovered.connect(self._hover)
            row.exportRequested.connect(self.export_layer)
            if isinstance(row, MapsRow):
                row.positionClicked.connect(self.show_field)
                row.set_style(self._shared_scale(), self._map_size())
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
            self.rows[name] = row
        self.input_panel.show_field(None)

    def _shared_scale(self) -> bool:
        return bool(self.scale_combo.currentData())

    def _map_size(self) -> int:
        return int(self.size_combo.currentData())

    def _restyle(self) -> None:
        for row in self.rows.values():
            if isinstance(row, MapsRow):
                row.set_style(self._shared_scale(), self._map_size())

    # -- results ----------------------------------------------------------------------------------
    def _show_analysis(self, analysis: Analysis) -> None:
        self.banner.hide()
        self.analysis = analysis
        if self.controller.facts is not None:
            self._build_rows(self.controller.facts)
        self._refresh_prediction()
        if analysis.activations is None:
            self._dirty = self._dirty or self.isVisible()
            return
        for name, row in self.rows.items():
            row.set_values(analysis.activations.get(name), analysis.orders.get(name))
        self._reselect()
        self.shown.emit()

    def _input_changed(self, value) -> None:
        """No input (an empty drawing): no prediction and no maps, rather than the last ones."""
        if value is not None:
            return
        self.analysis = None
        self.prediction.clear("Draw something, or choose an image, to see what the network makes of it.")
        for row in self.rows.values():
            row.set_values(None, None)

    def _forget_selection(self) -> None:
        """A new project: the position clicked and the value read were in the old network."""
        self._selection = None
        self.readout.setText(READOUT_HINT)

    def _refresh_prediction(self) -> None:
        if self.analysis is None:
            return
        index = self.controller.index
        names = index.class_names if index is not None else ()
        self.prediction.show_probabilities(self.analysis.probabilities, names, self.analysis.input.label)

    def show_problem(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.show()
        self.controller.context.messages.status(message, 8000)

    def _hover(self, text: str) -> None:
        if text:
            self.readout.setText(text)

    # -- receptive field --------------------------------------------------------------------------
    def show_field(self, layer: str, channel: int, row: int, col: int) -> None:
        """Mark on the input the pixels that (row, col) of `layer`'s maps see."""
        facts = self.controller.facts
        for other in self.rows.values():
            if isinstance(other, MapsRow):
                other.select(channel if other.name == layer else None, row, col)
        self._selection = (layer, channel, row, col)
        if facts is None:
            return
        try:
            box = field_box(facts.project.network, layer, row, col)
        except (UserError, KeyError) as exc:
            self.input_panel.show_field(None, f"No receptive field to show: {exc}")
            return
        if box is None:
            self.input_panel.show_field(None, f"{layer} at row {row}, column {col} sees only padding zeros.")
            return
        top, left, bottom, right = box
        value = ""
        maps = self.rows[layer].values if layer in self.rows else None
        if maps is not None:
            value = f" (map {channel}: {float(maps[row, col, channel]):.4g})"
        self.input_panel.show_field(
            box, f"{layer} at row {row}, column {col}{value} sees input rows {top}–{bottom - 1}, "
                 f"columns {left}–{right - 1}: {bottom - top}×{right - left} pixels.")

    def _reselect(self) -> None:
        if self._selection is not None and self._selection[0] in self.rows:
            self.show_field(*self._selection)

    # -- dropping pictures ------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        path = self.input_panel.dropped_path(event.mimeData().urls()) if event.mimeData().hasUrls() else None
        if path is not None and is_image_path(path):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = self.input_panel.dropped_path(event.mimeData().urls())
        if path is not None:
            event.acceptProposedAction()
            self.input_panel.open_picture(path)

    # -- export -----------------------------------------------------------------------------------
    def _suggestion(self, suffix: str) -> str:
        title = self.analysis.input.title if self.analysis else "input"
        stem = "".join(ch if ch.isalnum() else "-" for ch in title).strip("-") or "input"
        return str(Path.home() / f"feature-maps-{stem}{suffix}")

    def export_png(self) -> None:
        path = saving.ask_save_path(self, "Export Feature Maps as PNG", self._suggestion(".png"), saving.PNG_FILTER)
        if path is not None:
            self._saved(lambda: saving.save_widget_png(self.splitter, path))

    def export_npz(self) -> None:
        """Every layer's output for the current input, one array per layer id (load_activations reads it)."""
        if self.analysis is None or self.analysis.activations is None:
            self.show_problem("There are no feature maps to export yet: choose an input first.")
            return
        activations = self.analysis.activations
        path = saving.ask_save_path(self, "Export Feature Maps as NumPy", self._suggestion(".npz"), saving.NPZ_FILTER)
        if path is not None:
            self._saved(lambda: array_files.save_npz(path, activations))

    def export_layer(self, layer: str) -> None:
        """One layer's output for the current input as a .npy file."""
        if self.analysis is None or not self.analysis.activations or layer not in self.analysis.activations:
            return
        values = self.analysis.activations[layer]
        path = saving.ask_save_path(self, f"Export {layer} as NumPy", self._suggestion(f"-{layer}.npy"),
                                    saving.NPY_FILTER)
        if path is not None:
            self._saved(lambda: array_files.save_npy(path, values))

    def _saved(self, save) -> None:
        try:
            path = save()
        except (UserError, OSError) as exc:  # the folder is gone, the disk is full, ...
            self.show_problem(str(exc))
            return
        self.controller.context.messages.show("info", f"Saved {path}")
