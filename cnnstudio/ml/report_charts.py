"""The run report's charts as inline SVG: learning curves and the confusion-matrix heatmap.

Plain strings, no plotting library: the report stays one self-contained file that any
browser shows and prints the same. Light colours only (the report is printed).
"""

from __future__ import annotations

import html
import math

import numpy as np

TRAIN_COLOR, VALIDATION_COLOR = "#1f6fb4", "#e8731a"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks


def line_chart_svg(title: str, xs: list[int], series: dict[str, list[float | None]], *,
                   unit_range: bool = False, width: int = 440, height: int = 250) -> str:
    """An SVG line chart of per-epoch values (None = no value), training vs validation."""
    left, right, top, bottom = 52, 14, 34, 40
    values = [v for ys in series.values() for v in ys if v is not None and math.isfinite(v)]
    if unit_range:
        ticks = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    else:
        ticks = nice_ticks(min(0.0, min(values, default=0.0)), max(values, default=1.0))
    y_low, y_high = ticks[0], ticks[-1]
    pad = 0.04 * (xs[-1] - xs[0])
    x_low, x_high = (xs[0] - pad, xs[-1] + pad) if len(xs) > 1 else (xs[0] - 1, xs[0] + 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y_low) / (y_high - y_low or 1)) * plot_h

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {width} {height}' "
             f"width='{width}' height='{height}' role='img' aria-label='{html.escape(title)}'>",
             f"<text x='{left}' y='18' class='title'>{html.escape(title)}</text>"]
    for tick in ticks:
        y = py(tick)
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y:.1f}' y2='{y:.1f}' class='grid'/>"
                     f"<text x='{left - 6}' y='{y + 4:.1f}' class='tick' text-anchor='end'>{tick:g}</text>")
    for x in _epoch_ticks(xs):
        parts.append(f"<text x='{px(x):.1f}' y='{top + plot_h + 16}' class='tick' text-anchor='middle'>{x}</text>")
    parts.append(f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' class='axis' text-anchor='middle'>epoch</text>")
    parts.append(f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' class='frame'/>")
    legend_x = width - right - 190
    for i, (name, ys) in enumerate(series.items()):
        color = TRAIN_COLOR if i == 0 else VALIDATION_COLOR
        points = [(px(x), py(y)) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = "" if i == 0 else " stroke-dasharray='6 3'"
        parts.append(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='2'{dash} "
                     f"class='series' data-series='{name}'/>")
        parts += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.6' fill='{color}'/>" for x, y in points]
        lx = legend_x + i * 95
        parts.append(f"<line x1='{lx}' x2='{lx + 18}' y1='14' y2='14' stroke='{color}' stroke-width='2'{dash}/>"
                     f"<text x='{lx + 22}' y='18' class='legend'>{name}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _epoch_ticks(xs: list[int]) -> list[int]:
    if len(xs) <= 10:
        return list(xs)
    step = math.ceil(len(xs) / 8)
    return [x for x in xs if (x - xs[0]) % step == 0]


def _shade(fraction: float) -> str:
    """White to deep blue."""
    low, high = np.array([247, 251, 255]), np.array([8, 69, 148])
    r, g, b = (low + (high - low) * min(max(fraction, 0.0), 1.0)).round().astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


def confusion_svg(confusion: np.ndarray, class_names: tuple[str, ...]) -> str:
    k = len(class_names)
    cell = max(4, min(38, 380 // max(k, 1)))
    label_room = 14 + 7 * min(max((len(n) for n in class_names), default=1), 12) if cell >= 12 else 24
    left, top = label_room + 18, label_room + 18
    size = cell * k
    width, height = left + size + 8, top + size + 8
    rows = confusion.sum(axis=1)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='confusion' viewBox='0 0 {width} {height}' "
             f"width='{width}' height='{height}' role='img' aria-label='confusion matrix'>",
             f"<text x='{left + size / 2}' y='12' class='axis' text-anchor='middle'>predicted class</text>",
             f"<text transform='translate(12 {top + size / 2}) rotate(-90)' class='axis' "
             "text-anchor='middle'>true class</text>"]
    show_text = cell >= 18
    for t in range(k):
        for p in range(k):
            count = int(confusion[t, p])
            fraction = count / rows[t] if rows[t] else 0.0
            x, y = left + p * cell, top + t * cell
            label = f"true {class_names[t]}, predicted {class_names[p]}: {count} image{'s' * (count != 1)}"
            parts.append(f"<rect class='cell' x='{x}' y='{y}' width='{cell}' height='{cell}' "
                         f"fill='{_shade(fraction)}' data-true='{t}' data-predicted='{p}' data-count='{count}'>"
                         f"<title>{html.escape(label)}</title></rect>")
            if show_text and count:
                tone = "count on-dark" if fraction > 0.55 else "count"
                parts.append(f"<text x='{x + cell / 2}' y='{y + cell / 2 + 4}' text-anchor='middle' "
                             f"class='{tone}'>{count}</text>")
    if cell >= 12:
        for i, name in enumerate(class_names):
            short = html.escape(name if len(name) <= 12 else name[:11] + "…")
            parts.append(f"<text x='{left - 5}' y='{top + i * cell + cell / 2 + 4}' class='tick' "
                         f"text-anchor='end'>{short}</text>")
            cx = left + i * cell + cell / 2
            parts.append(f"<text transform='translate({cx + 4} {top - 5}) rotate(-90)' class='tick'>{short}</text>")
    parts.append(f"<rect x='{left}' y='{top}' width='{size}' height='{size}' class='frame'/></svg>")
    return "".join(parts)
