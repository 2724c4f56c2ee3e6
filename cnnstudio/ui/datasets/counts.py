"""Images per class as stacked bars (train, validation, test): is the dataset balanced?"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from ..plotting import apply_palette, menus_owned_by

SPLIT_COLORS = {"train": "#3b7dd8", "validation": "#f28e1c", "test": "#8c8c8c"}
MAX_NAMED_TICKS = 12  # up to this many classes, every bar is labelled with its class name


class ClassCountsPlot(pg.PlotWidget):
    """One bar per class, stacked by split; hover a bar to read its numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        with menus_owned_by(lambda: self):
            super().__init__(parent, enableMenu=False)
        self.setObjectName("classCountsPlot")
        self.setMinimumHeight(160)
        self.setMaximumHeight(230)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setLabel("left", "images")
        self.legend = plot.addLegend(offset=(-4, 2), labelTextSize="8pt", colCount=3)
        apply_palette(self)
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.counts: dict[str, np.ndarray] = {}
        self.class_names: tuple[str, ...] = ()
        self.scene().sigMouseMoved.connect(self._hovered)

    def set_counts(self, counts: dict[str, np.ndarray], class_names: tuple[str, ...]) -> None:
        """``counts[split][k]`` images of class k in each split (train, validation, test)."""
        plot = self.getPlotItem()
        for item in self.bars.values():
            plot.removeItem(item)
        self.legend.clear()
        self.bars.clear()
        self.counts = {split: np.asarray(values, dtype=np.int64) for split, values in counts.items()}
        self.class_names = tuple(class_names)
        x = np.arange(len(self.class_names))
        bottom = np.zeros(len(x))
        for split in ("train", "validation", "test"):
            values = self.counts.get(split)
            if values is None or not values.any():
                continue
            bar = pg.BarGraphItem(x=x, y0=bottom, height=values, width=0.75, brush=SPLIT_COLORS[split],
                                  pen=pg.mkPen(None), name=split)
            plot.addItem(bar)  # named items join the legend
            self.bars[split] = bar
            bottom = bottom + values
        self._set_ticks()
        plot.setXRange(-0.6, max(len(x) - 0.4, 0.6), padding=0)
        plot.setYRange(0, max(float(bottom.max()) if len(bottom) else 1.0, 1.0) * 1.3, padding=0)

    def clear_counts(self) -> None:
        self.set_counts({}, ())

    def _set_ticks(self) -> None:
        names = self.class_names
        if len(names) <= MAX_NAMED_TICKS:
            ticks = [(i, name if len(name) <= 10 else name[:9] + "…") for i, name in enumerate(names)]
        else:
            step = max(1, len(names) // 10)
            ticks = [(i, str(i)) for i in range(0, len(names), step)]
        self.getPlotItem().getAxis("bottom").setTicks([ticks])

    def totals(self) -> np.ndarray:
        """Images per class over all splits."""
        total = np.zeros(len(self.class_names), dtype=np.int64)
        for values in self.counts.values():
            total = total + values
        return total

    def _hovered(self, position) -> None:
        if not self.class_names:
            return
        point = self.getPlotItem().vb.mapSceneToView(position)
        k = int(round(point.x()))
        if 0 <= k < len(self.class_names) and abs(point.x() - k) <= 0.4:
            parts = [f"{split} {int(values[k]):,}" for split, values in self.counts.items() if len(values) > k]
            self.setToolTip(f"{self.class_names[k]}: {int(self.totals()[k]):,} images ({', '.join(parts)})")
        else:
            self.setToolTip("")

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.getPlotItem() is not None:
            apply_palette(self)
