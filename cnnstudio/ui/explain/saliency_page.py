"""The Saliency page (objectName ``saliencyView``): where in the current input the network found its evidence.

Gradient saliency, SmoothGrad, Grad-CAM and HiResCAM for the predicted class or a chosen
one, shown side by side as the input, the heat map and the heat map laid over the input.
It follows the shared current input; the work runs on the ML thread, latest request wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.ml.jobs.requests import DatasetExampleRequest, ExplainRequest
from cnnstudio.ml.jobs.results import DatasetExample, Explanation, ModelFacts

from ..inspect_area import InputImage
from ..plotting import follow_palette, menus_owned_by
from ..reflow import Labelled, flow_row
from ..saving import PNG_FILTER, ask_and_save, save_widget_png
from .imaging import HEAT_COLORMAP, display_image, overlay

if TYPE_CHECKING:
    from ..context import AppContext

METHOD_NAMES = {
    "grad-cam": "Grad-CAM",
    "hires-cam": "HiResCAM",
    "smoothgrad": "SmoothGrad",
    "gradient": "Gradient (vanilla)",
}
METHOD_HELP = {
    "gradient": "Gradient saliency (Simonyan et al. 2013): how strongly each pixel would change the class "
                "score. Sharp, but speckled.",
    "smoothgrad": "SmoothGrad (Smilkov et al. 2017): the gradient averaged over noisy copies of the image, "
                  "which removes most of the speckle.",
    "grad-cam": "Grad-CAM (Selvaraju et al. 2017): where a convolution layer found evidence for the class, "
                "at that layer's resolution, stretched over the image.",
    "hires-cam": "HiResCAM (Draelos & Carin 2020): Grad-CAM weighted position by position; faithful for "
                 "networks that end in Flatten + Dense, where Grad-CAM can come out empty.",
}
AUTO_LAYER = ""


class SaliencyPage(QWidget):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.setObjectName("saliencyView")
        self.context = context
        self.explanation: Explanation | None = None
        self.shown_input: InputImage | None = None
        self._dirty = True
        self._job: Any = None

        self.method = QComboBox()
        self.method.setObjectName("saliencyMethod")
        for key, name in METHOD_NAMES.items():
            self.method.addItem(name, key)
        self.samples = QSpinBox()
        self.samples.setObjectName("smoothgradSamples")
        self.samples.setRange(1, 200)
        self.samples.setValue(25)
        self.samples.setToolTip("How many noisy copies to average (more: smoother, slower)")
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("smoothgradNoise")
        self.noise.setRange(0.0, 100.0)
        self.noise.setSingleStep(5.0)
        self.noise.setValue(15.0)
        self.noise.setSuffix(" %")
        self.noise.setToolTip("Noise standard deviation, as a share of the image's value range (10-20% works best)")
        self.layer = QComboBox()
        self.layer.setObjectName("gradcamLayer")
        self.layer.setToolTip("The layer whose feature maps Grad-CAM weighs; automatic: the last convolution block")
        self.layer.addItem("Automatic", AUTO_LAYER)
        self.target = QComboBox()
        self.target.setObjectName("saliencyClass")
        self.target.setToolTip("Explain the class the network predicted, or any other class")
        self.target.addItem("Predicted class", None)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("overlayOpacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(70)
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("How strongly the heat map covers the image in the overlay")
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setObjectName("exportSaliencyPng")
        self.export_button.clicked.connect(self._export_png)

        pairs = [Labelled(text, widget) for text, widget in (
            ("Method", self.method), ("Samples", self.samples), ("Noise", self.noise), ("Layer", self.layer),
            ("Class", self.target), ("Opacity", self.opacity))]
        self._smooth_widgets, self._layer_widgets = pairs[1:3], pairs[3:4]
        controls = flow_row(*pairs, self.export_button, spacing=12)

        self.picker = QSpinBox()
        self.picker.setObjectName("validationImageIndex")
        self.picker.setAccessibleName("Validation image number")
        self.picker.setRange(0, 999_999)
        self.picker.setToolTip("Which image of the validation split to explain")
        pick = QPushButton("Explain validation image")
        pick.setObjectName("pickValidationImage")
        pick.clicked.connect(lambda: self.pick_image("validation", self.picker.value()))
        self.input_label = QLabel()
        self.input_label.setObjectName("saliencyInput")
        self.input_label.setWordWrap(True)
        chooser = QHBoxLayout()
        chooser.addWidget(self.input_label, 1)
        chooser.addWidget(self.picker)
        chooser.addWidget(pick)

        self.status = QLabel()
        self.status.setObjectName("saliencyStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.help = QLabel()
        self.help.setObjectName("saliencyHelp")
        self.help.setWordWrap(True)

        with menus_owned_by(lambda: self.canvas):
            self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("saliencyImages")
        self.canvas.setMinimumHeight(260)
        with menus_owned_by(self.canvas):
            self.input_item, self.input_plot = self._panel("Input", 0)
            self.heat_item, self.heat_plot = self._panel("Heat map", 1)
            self.overlay_item, self.overlay_plot = self._panel("Overlay", 2)
            self.heat_item.setColorMap(pg.colormap.get(HEAT_COLORMAP))
            self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(HEAT_COLORMAP),
                                            interactive=False, width=14, label="importance")
            self.colorbar.setImageItem(self.heat_item, insert_in=self.heat_plot)
        for plot in (self.heat_plot, self.overlay_plot):
            plot.setXLink(self.input_plot)
            plot.setYLink(self.input_plot)
        follow_palette(self.canvas)

        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.help)

        self.method.currentIndexChanged.connect(self._method_changed)
        for widget in (self.samples, self.noise):
            widget.valueChanged.connect(self.refresh)
        self.layer.currentIndexChanged.connect(self.refresh)
        self.target.currentIndexChanged.connect(self.refresh)
        self.opacity.valueChanged.connect(self._draw_overlay)
        context.current_input.changed.connect(self._input_changed)
        context.ml.modelReady.connect(self._model_ready)
        context.ml.stale.connect(self._model_stale)
        self._method_changed()
        self._show_input(context.current_input.value)

    # ------------------------------------------------------------------ building
    def _panel(self, title: str, column: int) -> tuple[pg.ImageItem, pg.PlotItem]:
        plot = self.canvas.addPlot(row=0, col=column, title=title, enableMenu=False)
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.hideButtons()
        plot.setAspectLocked(True)
        plot.invertY(True)
        item = pg.ImageItem(axisOrder="row-major")
        plot.addItem(item)
        return item, plot

    # ------------------------------------------------------------------ state
    @property
    def method_key(self) -> str:
        return str(self.method.currentData())

    def set_method(self, key: str) -> None:
        self.method.setCurrentIndex(self.method.findData(key))

    def _method_changed(self) -> None:
        key = self.method_key
        for widget in self._smooth_widgets:
            widget.setVisible(key == "smoothgrad")
        for widget in self._layer_widgets:
            widget.setVisible(key in ("grad-cam", "hires-cam"))
        self.help.setText(METHOD_HELP[key])
        self.heat_plot.setTitle(f"Heat map ({METHOD_NAMES[key].split(' (')[0]})")
        self.refresh()

    def _model_ready(self, facts: ModelFacts) -> None:
        chosen = self.layer.currentData()
        with signals_blocked(self.layer):
            self.layer.clear()
            auto = f"Automatic ({facts.grad_cam_layer})" if facts.grad_cam_layer else "Automatic"
            self.layer.addItem(auto, AUTO_LAYER)
            for name in facts.spatial_layers:
                self.layer.addItem(name, name)
            found = self.layer.findData(chosen)
            self.layer.setCurrentIndex(max(found, 0))

    def _model_stale(self) -> None:
        self._dirty = True
        if self.isVisible():
            self.refresh()

    def _input_changed(self, value: InputImage | None) -> None:
        self._show_input(value)
        self.refresh()

    def _show_input(self, value: InputImage | None) -> None:
        self.shown_input = value
        if value is None:
            self.input_label.setText("No input chosen yet: click an image in the Evaluation page, or explain an "
                                     "image of the validation split →")
            for item in (self.input_item, self.heat_item, self.overlay_item):
                item.clear()
            return
        self.input_label.setText(f"Input: <b>{value.title}</b>")
        if value.split == "validation" and value.index is not None:  # the box shows the image shown
            with signals_blocked(self.picker):
                self.picker.setMaximum(max(self.picker.maximum(), value.index))
                self.picker.setValue(value.index)
        self.input_item.setImage(display_image(value.image), levels=(0.0, 1.0))
        self.input_plot.autoRange(padding=0.02)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        """Explain the current input with the chosen settings (when the page is on screen)."""
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        value = self.shown_input
        if value is None:
            self.status.setText("")
            return
        method = self.method_key
        self.status.setText(f"Computing {METHOD_NAMES[method].split(' (')[0]}…")
        self._job = self.context.ml.with_model(
            ExplainRequest(value.image, method, self.target.currentData(), self.layer.currentData() or None,
                           self.samples.value(), self.noise.value() / 100.0), key="saliency",
            on_result=self._explained, on_error=self._failed)

    def _failed(self, message: str) -> None:
        self._job = None
        self.status.setText(f"<span style='color:#d93636'>Not explained: {message}</span>")
        for item in (self.heat_item, self.overlay_item):
            item.clear()

    def _explained(self, found: Explanation) -> None:
        self._job = None
        self.explanation = found
        self._fill_classes(found)
        self.heat_item.setImage(found.heatmap, levels=(0.0, 1.0))
        self._draw_overlay()
        names = found.class_names
        method = METHOD_NAMES[found.method].split(" (")[0]
        where = f" at layer <b>{found.layer}</b>" if found.layer else ""
        if found.coarse_shape:
            where += f" ({'x'.join(map(str, found.coarse_shape))}, stretched to the image)"
        text = (f"Predicted <b>{names[found.predicted]}</b> ({found.probabilities[found.predicted]:.1%}) · "
                f"explaining <b>{names[found.class_index]}</b> ({found.probability:.1%}) with {method}{where}"
                f" · model: {found.source}")
        if found.empty:
            hint = "try HiResCAM, another layer or another class" if found.method == "grad-cam" else \
                "try another layer or another class"
            text += (f"<br><span style='color:#c77700'>The map is empty: {found.layer or 'the input'} holds no "
                     f"positive evidence for {names[found.class_index]}; {hint}.</span>")
        self.status.setText(text)

    def _fill_classes(self, found: Explanation) -> None:
        names = found.class_names
        wanted = [f"{i}: {name}" if name != str(i) else name for i, name in enumerate(names)]
        have = [self.target.itemText(i) for i in range(1, self.target.count())]
        if have == wanted:
            return
        chosen = self.target.currentData()
        with signals_blocked(self.target):
            while self.target.count() > 1:
                self.target.removeItem(1)
            for i, text in enumerate(wanted):
                self.target.addItem(text, i)
            found_index = self.target.findData(chosen) if chosen is not None else 0
            self.target.setCurrentIndex(max(found_index, 0))

    def _draw_overlay(self) -> None:
        found, value = self.explanation, self.shown_input
        if found is None or value is None or found.heatmap.shape != value.image.shape[:2]:
            return
        mixed = overlay(value.image, found.heatmap, self.opacity.value() / 100.0)
        self.overlay_item.setImage(mixed, levels=(0.0, 1.0))

    # ------------------------------------------------------------------ choosing an image
    def pick_image(self, split: str, index: int) -> None:
        """Make an image of the model's dataset the current input."""
        def chosen(found: DatasetExample) -> None:
            self.picker.setMaximum(found.split_size - 1)
            self.context.current_input.set(InputImage(
                found.image, f"{split} image {found.index} (a {found.class_names[found.label]})", label=found.label,
                origin="dataset", split=split, index=found.index))

        self.status.setText(f"Loading {split} image {index}…")
        self.context.ml.with_model(DatasetExampleRequest(split, index), key="saliency-pick",
                                   on_result=chosen, on_error=self._failed)

    # ------------------------------------------------------------------ export
    def export_png(self, path: str) -> str:
        return str(save_widget_png(self.canvas, path, scale=2.0))

    def _export_png(self) -> None:
        ask_and_save(self, "Export the Saliency Views as PNG", "saliency.png", PNG_FILTER, self.export_png,
                     self.context.messages.show)

