"""The filters view: every kernel of a convolution layer as one tiled picture, blue for negative
weights, red for positive, white for zero; hover reads a weight, a click enlarges the filter.

Works on the untrained network and on trained runs, and follows training live through the
trainer's snapshots of the watched layer (no work for the busy ML thread).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core import array_files
from cnnstudio.core.errors import UserError
from cnnstudio.ml.jobs.requests import LayerKernelsRequest
from cnnstudio.ml.jobs.results import LayerKernels
from cnnstudio.ml.training.reporting import Snapshot

from .. import saving
from ..plotting import menus_owned_by
from ..theme import ERROR_COLOR
from . import colors, filter_sets
from .controller import InspectController
from .filter_detail import FilterDetail
from .filter_sets import MODE_TEXT, RGB, FilterPicture
from .model_bar import ModelBar
from .plots import palette_color, style_view

NO_FILTERS = "This network has no convolution layer, so it has no filters to show."


class FiltersPage(QWidget):
    shown = Signal()  # the grid shows a new set of filters

    def __init__(self, controller: InspectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filtersView")
        self.controller = controller
        self.kernels: LayerKernels | None = None
        self.picture: FilterPicture | None = None
        self.live: tuple[int, int] | None = None  # (epoch, batch) of the snapshot shown, while training
        self._dirty = True
        self.model_bar = ModelBar(controller, self)
        self.layer_combo = QComboBox(self, objectName="filterLayer")
        self.layer_combo.setAccessibleName("Convolution layer")
        self.layer_combo.setToolTip("The convolution layer whose filters are shown")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode_combo = QComboBox(self, objectName="filterMode")
        self.mode_combo.setAccessibleName("Filter display")
        self.mode_combo.setToolTip("A filter has a kernel per input channel: show each, their average, "
                                   "or (first layer on colour images) the three as one colour picture")
        self.scale_combo = QComboBox(self, objectName="filterScale")
        self.scale_combo.setAccessibleName("Filter scale")
        self.scale_combo.addItem("One scale for all filters", True)
        self.scale_combo.addItem("Each filter on its own scale", False)
        self.scale_combo.setToolTip("One scale compares filters' strengths; each filter's own scale shows the "
                                    "pattern of weak filters too")
        self.png_button = QPushButton("Export PNG…", self, objectName="exportFiltersPng")
        self.npz_button = QPushButton("Export .npz…", self, objectName="exportFiltersNpz")
        self.npz_button.setToolTip("The kernels and biases as shown (cnnstudio.ml.inspection.load_filters reads it)")
        self.caption = QLabel(self, objectName="filtersCaption")
        self.caption.setWordWrap(True)
        self.banner = QLabel(self, objectName="filtersMessage")
        self.banner.setWordWrap(True)
        self.banner.hide()
        with menus_owned_by(self):
            self.plot = pg.GraphicsLayoutWidget(self)
            self.plot.setObjectName("filtersGrid")
            style_view(self.plot)
            self.grid = self.plot.addPlot(enableMenu=False)  # a plot for its axes: filters down, input channels across
            self.grid.hideButtons()
            self.grid.hideAxis("bottom")
            self.grid.showAxis("top")
            self.box = self.grid.getViewBox()
            self.box.setAspectLocked(True)
            self.box.invertY(True)
            self.image = pg.ImageItem(axisOrder="row-major")
            self.box.addItem(self.image)
            self.selection = QGraphicsRectItem()  # around the filter enlarged on the right
            self.selection.setPen(self._selection_pen())
            self.selection.setZValue(20)
            self.selection.hide()
            self.box.addItem(self.selection, ignoreBounds=True)
            self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=colors.colormap(colors.DIVERGING),
                                            interactive=False, width=14)
            self.colorbar.axis.enableAutoSIPrefix(False)
            self.colorbar.axis.setTextPen(pg.mkPen(palette_color(self, QPalette.ColorRole.Text)))
            self.plot.addItem(self.colorbar)
        self.detail = FilterDetail(self)
        self.readout = QLabel("Point at a filter to read its weights; click it to enlarge it.", self,
                              objectName="filtersReadout")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([1000, 360])
        self.splitter.setChildrenCollapsible(False)
        self.mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        top = QHBoxLayout()
        top.addWidget(self.model_bar, 1)
        top.addWidget(self.png_button)
        top.addWidget(self.npz_button)
        choices = QHBoxLayout()
        for text, widget in (("Layer", self.layer_combo), ("Show", self.mode_combo), ("Scale", self.scale_combo)):
            choices.addWidget(QLabel(text, self))
            choices.addWidget(widget)
        choices.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addLayout(top)
        layout.addLayout(choices)
        layout.addWidget(self.caption)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.readout)
        self.layer_combo.activated.connect(lambda _i: self.request())
        self.mode_combo.activated.connect(lambda _i: self.redraw())
        self.scale_combo.activated.connect(lambda _i: self.redraw())
        self.png_button.clicked.connect(self.export_png)
        self.npz_button.clicked.connect(self.export_npz)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.scene().sigMouseClicked.connect(self._click)
        controller.modelChanged.connect(self._fill_layers)
        controller.stale.connect(self._on_stale)
        controller.statusChanged.connect(lambda _text: self._update_caption())
        controller.training.snapshot.connect(self.show_snapshot)
        if controller.facts is not None:
            self._fill_layers(controller.facts)

    # -- model and layer --------------------------------------------------------------------------
    @property
    def layer(self) -> str | None:
        return self.layer_combo.currentData()

    def _fill_layers(self, facts) -> None:
        chosen = self.layer
        kinds = {layer.name: layer for layer in facts.layers}
        with signals_blocked(self.layer_combo):
            self.layer_combo.clear()
            for name in facts.conv_layers:
                fact = kinds[name]
                self.layer_combo.addItem(f"{name} ({fact.type}, {fact.output_shape[-1]} filters)", name)
            found = self.layer_combo.findData(chosen) if chosen is not None else -1
            self.layer_combo.setCurrentIndex(found if found >= 0 else 0)
        if not facts.conv_layers:
            self._no_filters(NO_FILTERS, error=False)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.request()

    def _on_stale(self) -> None:
        self._dirty = True
        self.live = None
        if self.isVisible():
            self.request()

    def request(self, layer: str | None = None) -> None:
        """Load the filters of `layer` (default: the one chosen) from the model now inspected."""
        self._dirty = False
        layer = layer or self.layer
        self.controller.submit("filters", LayerKernelsRequest(layer), on_result=self._loaded,
                               on_error=self._no_filters)

    def _loaded(self, kernels: LayerKernels | None) -> None:
        if kernels is None:
            self._no_filters(NO_FILTERS, error=False)
            return
        found = self.layer_combo.findData(kernels.layer)
        if found >= 0 and found != self.layer_combo.currentIndex():
            with signals_blocked(self.layer_combo):
                self.layer_combo.setCurrentIndex(found)
        self.live = None
        self.show_kernels(kernels)

    # -- drawing ----------------------------------------------------------------------------------
    def show_kernels(self, kernels: LayerKernels) -> None:
        """Draw a layer's per-channel kernels in the chosen mode and scale."""
        first = self.kernels is None or self.kernels.layer != kernels.layer \
            or self.kernels.kernels.shape != kernels.kernels.shape
        self.kernels = kernels
        self.banner.hide()
        if first:
            self._fill_modes(kernels)
        self.redraw(fit=first)

    def _fill_modes(self, kernels: LayerKernels) -> None:
        chosen = self.mode_combo.currentData()
        modes = filter_sets.available_modes(kernels)
        with signals_blocked(self.mode_combo):
            self.mode_combo.clear()
            for mode in modes:
                self.mode_combo.addItem(MODE_TEXT[mode], mode)
            mode = chosen if chosen in modes and chosen != RGB else filter_sets.default_mode(kernels)
            self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        self.mode_combo.setEnabled(kernels.kernels.shape[-1] > 1)

    def redraw(self, fit: bool = False) -> None:
        if self.kernels is None:
            return
        shared = bool(self.scale_combo.currentData())
        self.picture = filter_sets.picture(self.kernels, self.mode_combo.currentData(), shared)
        self.image.setImage(self.picture.rgba(), autoLevels=False)
        self._label_axes()
        if fit:
            self.box.autoRange(padding=0.01)
        vmax = self.picture.vmax if shared else 1.0
        self.colorbar.setLevels(values=(-vmax, vmax))
        self.colorbar.setVisible(self.picture.mode != RGB)
        self.colorbar.axis.setLabel("weight" if shared else "weight ÷ the filter's largest |weight|",
                                    color=palette_color(self, QPalette.ColorRole.Text).name())
        if self.detail.filter_index is not None and self.detail.filter_index < len(self.kernels.kernels):
            self._enlarge(self.detail.filter_index, None)
        else:
            self.detail.clear()
            self.selection.hide()
        self._update_caption()
        self.shown.emit()

    def _label_axes(self) -> None:
        (left, left_title), (top, top_title) = filter_sets.axis_ticks(self.picture)
        text = palette_color(self, QPalette.ColorRole.Text)
        for name, ticks, title in (("left", left, left_title), ("top", top, top_title)):
            axis = self.grid.getAxis(name)
            axis.setTicks([ticks])
            axis.setPen(pg.mkPen(palette_color(self, QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))  # after setPen, which recolours the title too
            axis.setLabel(title, color=text.name())

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:  # light / dark appearance
            style_view(self.plot, self)
            text = palette_color(self, QPalette.ColorRole.Text)
            self.colorbar.axis.setPen(pg.mkPen(palette_color(self, QPalette.ColorRole.Mid)))
            self.colorbar.axis.setTextPen(pg.mkPen(text))
            self.colorbar.axis.setLabel(self.colorbar.axis.labelText, color=text.name())
            self.selection.setPen(self._selection_pen())
            if self.picture is not None:
                self._label_axes()
        super().changeEvent(event)

    def _selection_pen(self) -> QPen:
        pen = QPen(palette_color(self, QPalette.ColorRole.Highlight), 3)
        pen.setCosmetic(True)
        return pen

    def _update_caption(self) -> None:
        if self.kernels is None:
            self.caption.setText(self.controller.status)
            return
        n, kh, kw, c = self.kernels.kernels.shape
        values = self.kernels.kernels
        source = self.controller.source_name
        trained = "trained model of run " + source if self.controller.context.model_source.run_dir else source
        text = (f"<b>{self.kernels.layer}</b> of the {trained}: {n} filter{'s' * (n != 1)} of {kh}×{kw}, "
                f"each reading {c} input channel{'s' * (c != 1)}; weights {values.min():+.3f} to {values.max():+.3f}")
        if self.live is not None:
            text += (f" — <span style='color:{ERROR_COLOR}; font-weight:600;'>live</span>: epoch {self.live[0]}, "
                     f"batch {self.live[1]}")
        elif self.controller.status:
            text += f" — {self.controller.status}"
        self.caption.setText(text)

    def _show_problem(self, message: str, error: bool = True) -> None:
        """A line above the grid: red for something that went wrong, plain for a fact."""
        self.banner.setText(message)
        self.banner.setStyleSheet(f"color: {ERROR_COLOR};" if error else "")
        self.banner.show()

    def _no_filters(self, message: str, error: bool = True) -> None:
        """Nothing to show for this model (no convolution, or it could not be loaded): say why."""
        self._show_problem(message, error)
        self.caption.setText("")
        self.image.clear()
        self.detail.clear()
        self.selection.hide()
        self.kernels, self.picture = None, None

    # -- mouse ------------------------------------------------------------------------------------
    def _pixel(self, scene_pos: QPointF) -> tuple[float, float] | None:
        if self.picture is None:
            return None
        point = self.image.mapFromScene(scene_pos)
        return point.x(), point.y()

    def _hover(self, scene_pos: QPointF) -> None:
        pixel = self._pixel(scene_pos)
        found = self.picture.at(*pixel) if pixel is not None else None
        if found is None:
            return
        tile, filter_index, row, col = found
        picture = self.picture
        channel = int(picture.channels[tile])
        if picture.mode == RGB:
            r, g, b = (float(v) for v in picture.values[tile][row, col])
            where, value = "", f"red {r:+.4f}, green {g:+.4f}, blue {b:+.4f}"
        else:
            value = f"weight {float(picture.values[tile][row, col]):+.4f}"
            if channel == -1:
                where = " (average of its input channels)"
            else:
                where = f", input channel {channel}" if self.kernels.kernels.shape[-1] > 1 else ""
        bias = ""
        if picture.biases is not None and filter_index < len(picture.biases):
            bias = f" (bias {float(picture.biases[filter_index]):+.4f})"
        text = f"filter {filter_index}{where}, row {row}, column {col}: {value}{bias}"
        self.readout.setText(text)
        self.plot.setToolTip(text)

    def _click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pixel = self._pixel(event.scenePos())
        found = self.picture.at(*pixel) if pixel is not None else None
        if found is not None:
            tile, filter_index, _row, _col = found
            self._enlarge(filter_index, int(self.picture.channels[tile]))

    def select_filter(self, filter_index: int, channel: int | None = None) -> None:
        """Enlarge a filter, as a click on it does."""
        if self.picture is not None:
            self._enlarge(filter_index, channel)

    def _enlarge(self, filter_index: int, channel: int | None) -> None:
        """Show the filter on the right and outline its tiles in the grid."""
        self.detail.show_filter(self.picture, filter_index, channel)
        tiles = np.flatnonzero(self.picture.filters == filter_index)
        if not len(tiles):
            self.selection.hide()
            return
        layout = self.picture.layout
        top, left = layout.origin(int(tiles[0]))
        bottom, right = layout.origin(int(tiles[-1]))
        bottom += layout.tile_h * layout.cell
        right += layout.tile_w * layout.cell
        self.selection.setRect(left - 0.5, top - 0.5, right - left + 1, bottom - top + 1)
        self.selection.show()

    # -- live during training ---------------------------------------------------------------------
    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Redraw from a training snapshot when it holds the weights of the layer shown."""
        weights = snapshot.weights
        layer = self.layer
        if layer not in weights:
            return
        kind = self.kernels.layer_type if self.kernels is not None and self.kernels.layer == layer else ""
        if not kind and self.controller.facts is not None:
            kind = next((f.type for f in self.controller.facts.layers if f.name == layer), "")
        kernels = filter_sets.kernels_from_weights(layer, kind, list(weights[layer]))
        if kernels is None:
            return
        self.live = (int(snapshot.epoch), int(snapshot.batch))
        self.show_kernels(kernels)

    # -- export -----------------------------------------------------------------------------------
    def _suggestion(self, suffix: str) -> str:
        layer = self.kernels.layer if self.kernels is not None else "filters"
        return str(Path.home() / f"filters-{layer}{suffix}")

    def export_png(self) -> None:
        path = saving.ask_save_path(self, "Export Filters as PNG", self._suggestion(".png"), saving.PNG_FILTER)
        if path is not None:
            self._saved(lambda: saving.save_widget_png(self.splitter, path))

    def export_npz(self) -> None:
        if self.picture is None or self.kernels is None:
            self._show_problem("There are no filters to export yet.", error=False)
            return
        path = saving.ask_save_path(self, "Export Filters as NumPy", self._suggestion(".npz"),
                                    f"{saving.NPZ_FILTER};;{saving.NPY_FILTER}")
        if path is None:
            return
        kernels = self.shown_kernels()
        if path.suffix.lower() == ".npy":
            self._saved(lambda: array_files.save_npy(path, kernels))
        else:
            vmax = float(np.abs(kernels).max()) if kernels.size else 1.0
            arrays = array_files.filter_set_arrays(self.kernels.layer, self.picture.mode, kernels, self.kernels.biases,
                                                   vmax if vmax > 0 else 1.0)
            self._saved(lambda: array_files.save_npz(path, arrays))

    def shown_kernels(self) -> np.ndarray:
        """The kernels in the mode shown, (n, kh, kw, channels) like `FilterSet.kernels`."""
        k = self.kernels.kernels
        if self.picture is not None and self.picture.mode == "average":
            return k.mean(axis=-1, keepdims=True)
        return k

    def _saved(self, save) -> None:
        try:
            path = save()
        except (UserError, OSError) as exc:  # the folder is gone, the disk is full, ...
            self._show_problem(str(exc))
            return
        self.controller.context.messages.show("info", f"Saved {path}")

