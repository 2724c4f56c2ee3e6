"""The convolution playground: an input, a kernel, and what a convolution layer makes of them.

Left, the controls (input, kernel, stride, padding, pooling); right, the input with
the kernel's window, the feature map, the map after ReLU and after max pooling, and
under them the stepper with the multiply-and-sum of the current position written out.
Pure NumPy on the GUI thread: the arithmetic is ``cnnstudio.core.convolution``, which
computes exactly what Keras computes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.errors import UserError

from ..reflow import WrappedLabel
from ..saving import save_widget_png
from .experiment import Experiment, Outcome, calculation_text, compute, number
from .kernel_editor import KernelEditor
from .plots import GridPlot, SignalPlot
from .sources import ImageSource, SignalSource
from .stepper import Stepper

PICTURE, SIGNAL = 2, 1  # the two modes, by the rank of input and kernel


def _spin(low: int, high: int, value: int, tip: str, name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setObjectName(name)
    return spin


def _size_formula(n: int, pads: tuple[int, int], k: int, s: int) -> str:
    """How one output size comes about: ⌊(input + zeros − kernel) / stride⌋ + 1."""
    padded = f"{n} + {sum(pads)}" if sum(pads) else f"{n}"
    return f"⌊({padded} − {k}) / {s}⌋ + 1 = {(n + sum(pads) - k) // s + 1}"


class PlaygroundView(QWidget):
    """The "Playground" tab (objectName ``playgroundView``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundView")
        self.outcome: Outcome | None = None
        self.problem = ""
        self.image_source = ImageSource()
        self.signal_source = SignalSource()
        self.kernel_editor = KernelEditor()
        self.mode = QComboBox()
        self.mode.setObjectName("playgroundMode")
        self.mode.setAccessibleName("Convolution kind")
        self.mode.addItem("Picture (2-D convolution)", PICTURE)
        self.mode.addItem("Signal (1-D convolution)", SIGNAL)
        self.mode.setToolTip("Conv2D slides over pictures; Conv1D over signals such as sound or sensor readings")
        self.stride = _spin(1, 5, 1, "How far the kernel moves between positions", "playgroundStride")
        self.padding = QComboBox()
        self.padding.setObjectName("playgroundPadding")
        self.padding.addItem("valid (no zeros added)", "valid")
        self.padding.addItem("same (zeros around the input)", "same")
        self.padding.setToolTip("'same' adds zeros so that with stride 1 the output is as big as the input")
        self.pool_size = _spin(1, 5, 2, "The size of each max-pooling window", "playgroundPoolSize")
        self.pool_stride = _spin(1, 5, 2, "How far the pooling window moves", "playgroundPoolStride")
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setObjectName("playgroundExport")
        self.export_button.setToolTip("Save the pictures and the calculation as a PNG file")
        self.message = QLabel()
        self.message.setObjectName("playgroundProblem")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d93636;")
        self.message.setVisible(False)

        self.input_plot = GridPlot("Input", "playgroundInput")
        self.feature_plot = GridPlot("Feature map (blue below 0, red above)", "playgroundFeatureMap")
        self.relu_plot = GridPlot("After ReLU", "playgroundRelu")
        self.pool_plot = GridPlot("After max pooling", "playgroundPooled")
        self.input_curve = SignalPlot("Input signal", "playgroundInputSignal", "#5b6e82")
        self.feature_curve = SignalPlot("Feature map", "playgroundFeatureSignal", "#3a72d8")
        self.relu_curve = SignalPlot("After ReLU", "playgroundReluSignal", "#e0791c")
        self.pool_curve = SignalPlot("After max pooling", "playgroundPooledSignal", "#1497a3")
        self.stepper = Stepper()
        self.heading = WrappedLabel()
        self.heading.setObjectName("playgroundStepHeading")
        self.calculation = QLabel()
        self.calculation.setObjectName("playgroundCalculation")
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setPointSizeF(fixed.pointSizeF() * 1.15)
        self.calculation.setFont(fixed)
        self.calculation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.calculation.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        calculation_scroll = QScrollArea()
        calculation_scroll.setWidget(self.calculation)
        calculation_scroll.setWidgetResizable(True)
        calculation_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        calculation_scroll.setMinimumHeight(110)

        self.views = QStackedWidget()
        self.views.addWidget(self._grid_of(self.input_plot, self.feature_plot, self.relu_plot, self.pool_plot))
        self.views.addWidget(self._grid_of(self.input_curve, self.feature_curve, self.relu_curve, self.pool_curve))
        self.picture_area = QWidget()  # what Export PNG saves: the views, the stepper and the sum
        self.picture_area.setObjectName("playgroundPictures")
        right = QVBoxLayout(self.picture_area)
        right.setContentsMargins(6, 6, 6, 6)
        right.addWidget(self.message)
        right.addWidget(self.views, 1)
        right.addWidget(self.stepper)
        right.addWidget(self.heading)
        right.addWidget(calculation_scroll)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._controls())
        splitter.addWidget(self.picture_area)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([310, 1000])
        splitter.setCollapsible(1, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.mode.currentIndexChanged.connect(lambda _i: self.set_mode(self.mode.currentData()))
        self.image_source.imageChanged.connect(lambda _image, _title: self.recompute())
        self.image_source.problem.connect(self._show_problem)
        self.signal_source.changed.connect(self._show_sources)
        self.signal_source.changed.connect(self.recompute)
        self.kernel_editor.kernelChanged.connect(lambda _k: self.recompute())
        for spin in (self.stride, self.pool_size, self.pool_stride):
            spin.valueChanged.connect(lambda _v: self.recompute())
        self.padding.currentIndexChanged.connect(lambda _i: self.recompute())
        self.stepper.moved.connect(self._show_step)
        self.export_button.clicked.connect(self.ask_export)
        self.recompute()

    # ------------------------------------------------------------------ layout
    def _controls(self) -> QWidget:
        host = QWidget()
        column = QVBoxLayout(host)
        mode_box = QGroupBox("What to convolve")
        mode_layout = QVBoxLayout(mode_box)
        mode_layout.addWidget(self.mode)
        mode_layout.addWidget(self.signal_source)
        mode_layout.addWidget(self.image_source)
        self.signal_source.setVisible(False)
        kernel_box = QGroupBox("Kernel")
        QVBoxLayout(kernel_box).addWidget(self.kernel_editor)
        conv_box = QGroupBox("Convolution")
        conv_form = QFormLayout(conv_box)
        conv_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: the choice goes below
        conv_form.addRow("Stride", self.stride)
        conv_form.addRow("Padding", self.padding)
        pool_box = QGroupBox("Max pooling (after ReLU)")
        pool_form = QFormLayout(pool_box)
        pool_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        pool_form.addRow("Pool size", self.pool_size)
        pool_form.addRow("Stride", self.pool_stride)
        for box in (mode_box, kernel_box, conv_box, pool_box):
            column.addWidget(box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        column.addLayout(buttons)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("playgroundControls")
        scroll.setWidget(host)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # it scrolls down, never sideways
        bar = scroll.style().pixelMetric(scroll.style().PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(host.minimumSizeHint().width() + bar + 2 * scroll.frameWidth())
        return scroll

    @staticmethod
    def _grid_of(*plots: QWidget) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        for index, plot in enumerate(plots):
            plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            grid.addWidget(plot, index // 2, index % 2)
        return page

    # ------------------------------------------------------------------ public
    @property
    def rank(self) -> int:
        return int(self.mode.currentData())

    def set_mode(self, rank: int) -> None:
        """``PICTURE`` (2) for images and 2-D kernels, ``SIGNAL`` (1) for signals and 1-D kernels."""
        if self.mode.currentData() != rank:
            self.mode.setCurrentIndex(self.mode.findData(rank))  # comes back here through the signal
            return
        self.views.setCurrentIndex(0 if rank == PICTURE else 1)
        self._show_sources()
        if self.kernel_editor.rank != rank:
            self.kernel_editor.set_rank(rank)  # recomputes through kernelChanged
        self.stepper.set_position(0)
        self.recompute()

    def _show_sources(self) -> None:
        """In 1-D mode the picture chooser is only needed for "a row of the picture"."""
        signal = self.rank == SIGNAL
        self.signal_source.setVisible(signal)
        self.image_source.setVisible(not signal or self.signal_source.kind.currentData() == "row")

    def set_padding(self, padding: str) -> None:
        self.padding.setCurrentIndex(self.padding.findData(padding))

    def current_input(self) -> np.ndarray:
        """The picture (2-D mode) or signal (1-D mode) the kernel slides over."""
        if self.rank == PICTURE:
            return self.image_source.image
        return self.signal_source.signal(self.image_source.image)[0]

    def experiment(self) -> Experiment:
        return Experiment(self.current_input(), self.kernel_editor.kernel(), self.stride.value(),
                          self.padding.currentData(), self.pool_size.value(), self.pool_stride.value())

    def go_to(self, step: int) -> None:
        """Explain output position ``step`` (counted row by row from 0)."""
        self.stepper.set_position(step)

    def recompute(self) -> None:
        """Convolve again after any change and redraw every view."""
        image = self.current_input()
        if not np.size(image):
            return
        try:
            outcome = compute(self.experiment())
        except ValueError as exc:
            self._show_problem(f"This cannot be computed: {exc}.")
            self.outcome = None
            self._clear()
            return
        self.outcome = outcome
        self._show_problem(outcome.pooling_problem and f"No pooling: {outcome.pooling_problem}.")
        if self.rank == PICTURE:
            self._draw_pictures(outcome)
        else:
            self._draw_signals(outcome)
        self.stepper.set_count(outcome.positions)  # shows the current step again

    # ------------------------------------------------------------------ drawing
    def _show_problem(self, text: str) -> None:
        self.problem = text
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _clear(self) -> None:
        for plot in (self.input_plot, self.feature_plot, self.relu_plot, self.pool_plot):
            plot.show_array(None)
        for curve in (self.input_curve, self.feature_curve, self.relu_curve, self.pool_curve):
            curve.show_signal(None)
        self.stepper.set_count(0)
        self.heading.setText("")
        self.calculation.setText("")

    def _titles(self, outcome: Outcome) -> dict[str, str]:
        e = outcome.experiment
        pads = outcome.pads
        fm = outcome.feature_map
        formulas = [_size_formula(n, pad, k, e.stride) for n, pad, k in zip(e.image.shape, pads, e.kernel.shape)]
        sizes = f"rows {formulas[0]}, columns {formulas[1]}" if len(formulas) == 2 else f"length {formulas[0]}"
        padded = ""
        if any(before or after for before, after in pads):
            sides = ("above", "below", "left", "right") if len(pads) == 2 else ("before", "after")
            amounts = [amount for pair in pads for amount in pair]
            padded = "; zeros added: " + ", ".join(f"{a} {side}" for a, side in zip(amounts, sides))
            if len(pads) == 2:
                padded += " (outside the dashed line)"
        negatives = int(np.count_nonzero(fm < 0))
        shape = f"input size {'×'.join(map(str, e.image.shape))}"
        pool = (f"the largest value in each window of {e.pool_size}, moved {e.pool_stride} at a time: "
                f"{'×'.join(map(str, outcome.pooled.shape))}") if outcome.pooled is not None else \
            outcome.pooling_problem
        return {
            "input": f"{shape}{padded}",
            "feature": f"{'×'.join(map(str, fm.shape))}: {sizes}",
            "relu": f"negative values become 0 ({negatives} of {fm.size} were negative)",
            "pool": pool,
        }

    def _draw_pictures(self, outcome: Outcome) -> None:
        e, titles = outcome.experiment, self._titles(outcome)
        (top, bottom), (left, right) = outcome.pads
        self.input_plot.header.setText(f"Input: {self.image_source.title}")
        self.input_plot.show_array(outcome.padded, colormap="gray", origin=(-left, -top),
                                   levels=(min(float(e.image.min()), 0.0), max(float(e.image.max()), 1e-9)),
                                   description=titles["input"])
        rows, cols = e.image.shape
        self.input_plot.show_edge(QRectF(0, 0, cols, rows) if top or bottom or left or right else None)
        extent = float(np.max(np.abs(outcome.feature_map))) or 1.0
        levels = (-extent, extent)
        self.feature_plot.show_array(outcome.feature_map, levels=levels, description=titles["feature"])
        self.relu_plot.show_array(outcome.after_relu, levels=levels, description=titles["relu"])
        self.pool_plot.show_array(outcome.pooled, levels=levels, description=titles["pool"])

    def _draw_signals(self, outcome: Outcome) -> None:
        titles = self._titles(outcome)
        before, after = outcome.pads[0]
        _, signal_title = self.signal_source.signal(self.image_source.image)
        self.input_curve.header.setText(f"Input: {signal_title}")
        self.input_curve.show_signal(outcome.padded, start=-before, pads=(before, after), description=titles["input"])
        self.feature_curve.show_signal(outcome.feature_map, description=titles["feature"])
        self.relu_curve.show_signal(outcome.after_relu, description=titles["relu"])
        self.pool_curve.show_signal(outcome.pooled, description=titles["pool"])

    def _show_step(self, step: int) -> None:
        outcome = self.outcome
        if outcome is None or not outcome.positions:
            return
        e = outcome.experiment
        index = outcome.output_index(step)
        patch, corner = outcome.window(step)
        value = float(outcome.feature_map[index])
        pooled_index = self._pooled_cell(index)
        if self.rank == PICTURE:
            (top, _), (left, _) = outcome.pads
            kernel_rows, kernel_cols = e.kernel.shape
            self.input_plot.highlight_cells(QRectF(corner[1] - left, corner[0] - top, kernel_cols, kernel_rows))
            cell = QRectF(index[1], index[0], 1, 1)
            self.feature_plot.highlight_cells(cell)
            self.relu_plot.highlight_cells(cell)
            self.pool_plot.highlight_cells(
                QRectF(pooled_index[1], pooled_index[0], 1, 1) if pooled_index is not None else None)
            where = (f"Output row {index[0]}, column {index[1]}: the kernel's top-left corner is on input "
                     f"row {corner[0] - top}, column {corner[1] - left}")
        else:
            before = outcome.pads[0][0]
            start = corner[0] - before
            self.input_curve.highlight_span(start, start + len(e.kernel) - 1)
            self.feature_curve.mark(index[0])
            self.relu_curve.mark(index[0])
            self.pool_curve.mark(pooled_index[0] if pooled_index is not None else None)
            where = f"Output {index[0]}: the kernel covers input samples {start} to {start + len(e.kernel) - 1}"
        self.heading.setText(
            f"<b>{where}</b>. Each input value under the kernel times the kernel's number there, all added up "
            f"(= {number(value, 4)}; after ReLU {number(max(value, 0.0), 4)}):"
        )
        self.calculation.setText(calculation_text(patch, e.kernel))

    def _pooled_cell(self, index: tuple[int, ...]) -> tuple[int, ...] | None:
        """The first pooling window that takes in feature-map cell ``index``, if any does."""
        outcome = self.outcome
        if outcome is None or outcome.pooled is None:
            return None
        size, stride = outcome.experiment.pool_size, outcome.experiment.pool_stride
        cell = []
        for i, limit in zip(index, outcome.pooled.shape):
            first = max(0, -(-(i - size + 1) // stride))
            if first * stride > i or first >= limit:
                return None
            cell.append(first)
        return tuple(cell)

    # ------------------------------------------------------------------ export
    def export_png(self, path: str | Path) -> bool:
        """Save the pictures, the stepper and the calculation as they are shown."""
        try:
            save_widget_png(self.picture_area, path)
        except (UserError, OSError):  # the folder is gone, the disk is full, ...
            return False
        return True

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the playground as PNG", "playground.png",
                                              "PNG images (*.png)")
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        if not self.export_png(path):
            self._show_problem(f"Could not write {path}; choose another folder.")
