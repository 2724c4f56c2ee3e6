"""A plot's legend that moves to the corner where it hides the fewest points.

A legend fixed in one corner sat on the last epochs of the accuracy curves (they end
at the top right, and a validation curve that stalls ends lower); placed where the
curves are not, it never hides what a person is watching.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

MARGIN = 10  # pixels between the legend and the plot's edge
MOST_POINTS = 20_000  # per curve: enough to find the empty corner of a million-point curve
# corner -> (legend's own anchor point, the same point of the plot, offset in pixels); in order of preference
CORNERS = {
    "top right": ((1, 0), (1, 0), (-MARGIN, MARGIN)),
    "top left": ((0, 0), (0, 0), (MARGIN, MARGIN)),
    "bottom right": ((1, 1), (1, 1), (-MARGIN, -MARGIN)),
    "bottom left": ((0, 1), (0, 1), (MARGIN, -MARGIN)),
}


class LegendPlacer:
    """Keeps ``plot``'s legend in its emptiest corner: call ``update()`` after new data; the view's
    zoom and pan place it again by themselves (a moment later, once the view has settled)."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.corner = ""
        self._timer = QTimer(plot, singleShot=True, interval=150)
        self._timer.timeout.connect(self.place)
        plot.getPlotItem().getViewBox().sigRangeChanged.connect(lambda *_: self._timer.start())

    def update(self) -> None:
        self._timer.start()

    def place(self) -> str:
        """Move the legend now; returns the corner chosen."""
        item = self.plot.getPlotItem()
        legend, view = item.legend, item.getViewBox()
        if legend is None or view.width() <= 0 or view.height() <= 0:
            return self.corner
        (left, right), (bottom, top) = view.viewRange()
        box = legend.boundingRect()
        wide = (box.width() + MARGIN) / view.width() * (right - left)
        tall = (box.height() + MARGIN) / view.height() * (top - bottom)
        xs, ys = self._points()
        regions = {
            "top right": (right - wide, right, top - tall, top),
            "top left": (left, left + wide, top - tall, top),
            "bottom right": (right - wide, right, bottom, bottom + tall),
            "bottom left": (left, left + wide, bottom, bottom + tall),
        }
        hidden = {name: int(np.count_nonzero((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)))
                  for name, (x0, x1, y0, y1) in regions.items()}
        corner = min(CORNERS, key=lambda name: hidden[name])  # ties: the order of preference
        if corner != self.corner:
            self.corner = corner
            item_pos, parent_pos, offset = CORNERS[corner]
            legend.anchor(itemPos=item_pos, parentPos=parent_pos, offset=offset)
        return corner

    def _points(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for curve in self.plot.getPlotItem().listDataItems():
            if not curve.isVisible():
                continue
            x, y = curve.getData()
            if x is None or y is None or not len(x):
                continue
            step = max(1, len(x) // MOST_POINTS)
            xs.append(np.asarray(x[::step], dtype=np.float64))
            ys.append(np.asarray(y[::step], dtype=np.float64))
        if not xs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(xs), np.concatenate(ys)
