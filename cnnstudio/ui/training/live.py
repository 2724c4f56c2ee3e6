"""The live look inside: the first convolution layer's filters and its feature maps of one
validation image, redrawn from the trainer's snapshots (every ~2 s) while the network learns.

Watching the filters turn from noise into edge and stroke detectors is the point: the
filters use a diverging colour map centred on zero (blue negative, red positive), each
feature map is scaled on its own (yellow: strong response).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from cnnstudio.ml.jobs.results import ProbeImage
from cnnstudio.ml.training.reporting import Snapshot

from ..plotting import menus_owned_by
from ..reflow import SteadyLabel
from .tiles import display_image, feature_map_tiles, filter_tiles, symmetric_level

FILTER_COLORS = "CET-D1A"  # blue - white - red, white at zero
MAP_COLORS = "viridis"
WAITING = ("The first convolution layer's filters appear here a few seconds after training starts, and change "
           "as the network learns.")


def _view() -> pg.ViewBox:
    box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
    box.setMouseEnabled(x=False, y=False)
    return box


def _title(text: str = "") -> QLabel:
    label = SteadyLabel(text)  # rewritten at each snapshot: a line more or less would redraw the pictures
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class LiveLookInside(QWidget):
    """Filters and feature maps of the watched layer, refreshed from snapshots."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveLookInside")
        with menus_owned_by(self):
            self._build()

    def _build(self) -> None:
        self.layer: str | None = None
        self.snapshots_shown = 0
        self.last_snapshot: Any = None
        self.probe = None
        self._maps_count = (0, 0)  # maps drawn, maps the layer has
        self.caption = SteadyLabel(WAITING)
        self.caption.setObjectName("liveCaption")

        self.filters_title = _title("Filters")
        self.filters_widget = pg.GraphicsLayoutWidget()
        self.filters_widget.setObjectName("liveFilters")
        self.filters_view = _view()
        self.filters_image = pg.ImageItem(axisOrder="row-major")
        self.filters_image.setColorMap(pg.colormap.get(FILTER_COLORS))
        self.filters_view.addItem(self.filters_image)
        self.filters_widget.addItem(self.filters_view, 0, 0)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(FILTER_COLORS),
                                        interactive=False, width=10, label="weight")
        self.colorbar.setImageItem(self.filters_image)
        self.filters_widget.addItem(self.colorbar, 0, 1)

        self.maps_title = _title("Feature maps")
        self.maps_widget = pg.GraphicsLayoutWidget()
        self.maps_widget.setObjectName("liveFeatureMaps")
        self.probe_view = _view()
        self.probe_image = pg.ImageItem(axisOrder="row-major")
        self.probe_view.addItem(self.probe_image)
        self.maps_view = _view()
        self.maps_image = pg.ImageItem(axisOrder="row-major")
        self.maps_image.setColorMap(pg.colormap.get(MAP_COLORS))
        self.maps_view.addItem(self.maps_image)
        self.maps_widget.addItem(self.probe_view, 0, 0)
        self.maps_widget.addItem(self.maps_view, 0, 1)
        self.maps_widget.ci.layout.setColumnStretchFactor(0, 1)
        self.maps_widget.ci.layout.setColumnStretchFactor(1, 4)

        pictures = QWidget()
        layout = QVBoxLayout(pictures)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filters_title)
        layout.addWidget(self.filters_widget, 2)
        layout.addWidget(self.maps_title)
        layout.addWidget(self.maps_widget, 3)
        self.note = QLabel()
        self.note.setObjectName("liveNote")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.pages = QStackedWidget()
        self.pages.addWidget(pictures)
        self.pages.addWidget(self.note)
        self.setMinimumWidth(300)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 0, 0, 0)
        outer.addWidget(self.caption)
        outer.addWidget(self.pages, 1)
        self._apply_colors()

    # ------------------------------------------------------------------ a run
    def reset(self) -> None:
        """Back to the state before any run: nothing watched, nothing drawn."""
        self.start_run("")
        self.layer = None
        self.caption.setText(WAITING)
        self.filters_title.setText("Filters")
        self.maps_title.setText("Feature maps")

    def start_run(self, layer: str | None) -> None:
        """A new run watches `layer` (None: the network has no convolution)."""
        self.layer, self.snapshots_shown, self.last_snapshot, self.probe = layer, 0, None, None
        self._maps_count = (0, 0)
        self.filters_image.clear()
        self.maps_image.clear()
        self.probe_image.clear()
        if layer is None:
            self.note.setText("This network has no convolution layer, so there are no filters or feature maps "
                              "to watch. The curves show how it learns.")
            self.pages.setCurrentWidget(self.note)
            self.caption.setText("")
            return
        self.pages.setCurrentIndex(0)
        self.filters_title.setText(f"Filters of {layer}")
        self.maps_title.setText(f"Feature maps of {layer}")
        self.caption.setText(f"Watching {layer}: its filters and feature maps appear after the first batches "
                             "and refresh every 2 seconds.")

    def set_probe(self, probe: ProbeImage) -> None:
        """The validation image whose feature maps are shown (`worker.ProbeImage`)."""
        self.probe = probe
        self.probe_image.setImage(display_image(probe.image), levels=(0, 1))
        self.probe_view.autoRange(padding=0.02)
        self._update_maps_title()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Redraw from a trainer Snapshot (weights and activations of the watched layer)."""
        layer = self.layer
        if layer is None or layer not in snapshot.weights:
            return
        self.last_snapshot = snapshot
        weights = snapshot.weights[layer]
        if weights:
            tiled = filter_tiles(weights[0])
            level = symmetric_level(tiled.image)
            self.filters_image.setImage(tiled.image, levels=(-level, level))
            self.colorbar.setLevels(values=(-level, level))
            self.filters_view.autoRange(padding=0.02)
            kh, kw = tiled.tile_shape
            kernel = weights[0].shape
            size = f"{kernel[0]}×{kernel[1]}" if len(kernel) == 4 else f"{kernel[0]}"
            more = f", first {tiled.count} shown" if tiled.total > tiled.count else ""
            channels = kernel[2] if len(kernel) == 4 else kernel[1]
            stacked = f"; its {min(channels, 3)} input channels top to bottom" if channels > 1 else ""
            self.filters_title.setText(f"Filters of {layer}: {tiled.total} of {size}{more}{stacked}")
        activation = snapshot.activations.get(layer)
        if activation is not None and len(activation):
            maps = feature_map_tiles(activation[0])
            self.maps_image.setImage(maps.image, levels=(0, 1))
            self.maps_view.autoRange(padding=0.02)
            self._maps_count = (maps.count, maps.total)
            self._update_maps_title()
        self.snapshots_shown += 1
        if snapshot.batch == 0:
            self.caption.setText(f"{layer} as training left it ({snapshot.epoch} finished epoch"
                                 f"{'s' * (snapshot.epoch != 1)})")
        else:
            self.caption.setText(f"{layer} during epoch {snapshot.epoch}, after batch {snapshot.batch} "
                                 "(refreshed every 2 seconds while training)")

    def _update_maps_title(self) -> None:
        if self.layer is None:
            return
        count, total = self._maps_count
        what = f"{total} feature maps of {self.layer}" if total else f"Feature maps of {self.layer}"
        if total > count:
            what += f" (first {count} shown)"
        if self.probe is not None:
            kind = f" (a {self.probe.class_name})" if self.probe.class_name else ""
            what += f" for a {self.probe.split} image{kind}, left; each map on its own scale, yellow = strong response"
        self.maps_title.setText(what)

    # ------------------------------------------------------------------ appearance
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_colors()
        super().changeEvent(event)

    def _apply_colors(self) -> None:
        background = self.palette().color(QPalette.ColorRole.Base)
        text = self.palette().color(QPalette.ColorRole.Text)
        for widget in (self.filters_widget, self.maps_widget):
            widget.setBackground(background)
        self.colorbar.axis.setPen(text)
        self.colorbar.axis.setTextPen(text)

