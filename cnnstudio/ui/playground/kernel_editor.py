"""The kernel editor: a preset list and a small grid of numbers the user may type into."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.playground import KERNEL_PRESETS

MAX_SIDE = 7
MAX_LENGTH = 15
CUSTOM = "Custom (typed)"
NO_FLIP_NOTE = (
    "Applied exactly as Keras applies it: the kernel slides as it is, with no flip "
    "(what maths books call cross-correlation)."
)


def presets_of_rank(rank: int) -> list[str]:
    return [name for name, kernel in KERNEL_PRESETS.items() if kernel.ndim == rank]


class KernelEditor(QWidget):
    """Choose a preset or type the kernel's numbers; 3x3, 5x5 or any size up to 7x7 (1-D: up to 15)."""

    kernelChanged = Signal(object)  # the kernel as a float64 array

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundKernel")
        self.rank = 2
        self.preset = QComboBox()
        self.preset.setObjectName("playgroundKernelPreset")
        self.preset.setToolTip("Ready-made kernels; type into the grid to make your own")
        self.rows = QSpinBox()
        self.rows.setRange(1, MAX_SIDE)
        self.rows.setObjectName("playgroundKernelRows")
        self.rows.setAccessibleName("Kernel rows")
        self.cols = QSpinBox()
        self.cols.setRange(1, MAX_SIDE)
        self.cols.setObjectName("playgroundKernelColumns")
        self.cols.setAccessibleName("Kernel columns")
        self.times = QLabel("×")
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(self.rows)
        size_row.addWidget(self.times)
        size_row.addWidget(self.cols)
        size_row.addStretch(1)
        quick_row = QHBoxLayout()
        quick_row.setContentsMargins(0, 0, 0, 0)
        self.square_buttons = []
        for label, size in (("3×3", 3), ("5×5", 5)):
            button = QToolButton()
            button.setText(label)
            button.setToolTip(f"Make the kernel {label}, keeping the numbers that still fit")
            button.clicked.connect(lambda _checked=False, s=size: self.resize_kernel(s, s))
            quick_row.addWidget(button)
            self.square_buttons.append(button)
        self.clear_button = QToolButton()
        self.clear_button.setText("All zeros")
        self.clear_button.setToolTip("Set every number to 0, then type your own")
        self.clear_button.clicked.connect(lambda: self.set_kernel(np.zeros(self.kernel().shape)))
        quick_row.addWidget(self.clear_button)
        quick_row.addStretch(1)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.cells: list[list[QDoubleSpinBox]] = []
        self._values = np.zeros((0, 0))  # the truth; the cells show it to 3 decimals
        note = QLabel(NO_FLIP_NOTE)
        note.setObjectName("playgroundNoFlipNote")
        note.setWordWrap(True)
        font = note.font()
        font.setItalic(True)
        note.setFont(font)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Preset", self.preset)
        self.size_label = QLabel("Size")
        form.addRow(self.size_label, size_row)
        form.addRow("", quick_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        grid_row = QHBoxLayout()
        grid_row.addWidget(self.grid_host)
        grid_row.addStretch(1)
        layout.addLayout(grid_row)
        layout.addWidget(note)
        self.preset.activated.connect(lambda _i: self.choose_preset(self.preset.currentText()))
        self.rows.valueChanged.connect(lambda _v: self.resize_kernel(self.rows.value(), self.cols.value()))
        self.cols.valueChanged.connect(lambda _v: self.resize_kernel(self.rows.value(), self.cols.value()))
        self.set_rank(2)

    # ------------------------------------------------------------------ public
    def set_rank(self, rank: int) -> None:
        """2 for image kernels (rows x columns), 1 for signal kernels (a row of numbers)."""
        self.rank = rank
        with signals_blocked(self.preset):
            self.preset.clear()
            self.preset.addItems(presets_of_rank(rank))
            self.preset.addItem(CUSTOM)
        self.rows.setVisible(rank == 2)
        self.times.setVisible(rank == 2)
        for button in self.square_buttons:
            button.setVisible(rank == 2)
        self.size_label.setText("Size" if rank == 2 else "Length")
        self.cols.setMaximum(MAX_SIDE if rank == 2 else MAX_LENGTH)
        default = "diagonal \\" if rank == 2 else "difference [1, -1]"
        self.choose_preset(default)

    def choose_preset(self, name: str) -> None:
        if name == CUSTOM:
            return
        if name not in KERNEL_PRESETS:
            raise ValueError(f"no kernel preset named {name!r}; presets: {', '.join(KERNEL_PRESETS)}")
        kernel = KERNEL_PRESETS[name]
        if kernel.ndim != self.rank:
            self.set_rank(kernel.ndim)
        self.set_kernel(kernel)

    def kernel(self) -> np.ndarray:
        """The kernel in use: exact preset values (1/9 stays 1/9), or what was typed."""
        values = self._values.copy()
        return values[0] if self.rank == 1 else values

    def set_kernel(self, kernel: np.ndarray) -> None:
        """Show ``kernel`` (its shape sets the size) and tell the view."""
        kernel = np.asarray(kernel, dtype=np.float64)
        if kernel.ndim != self.rank:
            self.set_rank(kernel.ndim)
        grid = np.atleast_2d(kernel)
        self._values = grid.copy()
        self._build_cells(*grid.shape)
        for row_cells, row_values in zip(self.cells, grid):
            for cell, value in zip(row_cells, row_values):
                with signals_blocked(cell):
                    cell.setValue(float(value))
        self._changed()

    def resize_kernel(self, rows: int, cols: int) -> None:
        """Change the size, keeping the numbers that still fit (new cells are 0)."""
        rows = 1 if self.rank == 1 else rows
        old = self._values
        if old.shape == (rows, cols):
            return
        new = np.zeros((rows, cols))
        keep_r, keep_c = min(rows, old.shape[0]), min(cols, old.shape[1])
        new[:keep_r, :keep_c] = old[:keep_r, :keep_c]
        self.set_kernel(new[0] if self.rank == 1 else new)

    # ------------------------------------------------------------------ internals
    def _build_cells(self, rows: int, cols: int) -> None:
        if self.cells and len(self.cells) == rows and len(self.cells[0]) == cols:
            return
        for row in self.cells:
            for cell in row:
                self.grid.removeWidget(cell)
                cell.deleteLater()
        self.cells = []
        for r in range(rows):
            row_cells = []
            for c in range(cols):
                cell = QDoubleSpinBox()
                cell.setObjectName(f"playgroundKernelCell_{r}_{c}")
                cell.setAccessibleName(f"Kernel row {r}, column {c}")
                cell.setRange(-100.0, 100.0)
                cell.setDecimals(3)
                cell.setSingleStep(0.1)
                cell.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
                cell.setFixedWidth(50 if self.rank == 2 else 46)
                cell.setToolTip(f"Kernel row {r}, column {c}" if self.rank == 2 else f"Kernel position {c}")
                cell.valueChanged.connect(lambda value, r=r, c=c: self._typed(r, c, value))
                self.grid.addWidget(cell, r if self.rank == 2 else c // 8, c if self.rank == 2 else c % 8)
                row_cells.append(cell)
            self.cells.append(row_cells)
        with signals_blocked(self.rows), signals_blocked(self.cols):
            self.rows.setValue(rows)
            self.cols.setValue(cols)

    def _typed(self, row: int, col: int, value: float) -> None:
        self._values[row, col] = value
        self._changed()

    def _changed(self) -> None:
        kernel = self.kernel()
        match = next((name for name in presets_of_rank(self.rank)
                      if KERNEL_PRESETS[name].shape == kernel.shape
                      and np.allclose(KERNEL_PRESETS[name], kernel, atol=5e-4)), CUSTOM)
        with signals_blocked(self.preset):
            self.preset.setCurrentText(match)
        self.kernelChanged.emit(kernel)
