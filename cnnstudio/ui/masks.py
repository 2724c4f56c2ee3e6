"""Masks (a class number per pixel) as pictures: one colour per class, background dark, and a picture
with its mask laid over it. Shared by the Dataset panel and the Evaluation page."""

from __future__ import annotations

import html

import numpy as np

# Class 0 (the background) is near-black; the others cycle through colours easy to tell apart.
CLASS_COLORS = np.array([
    (20, 20, 20), (230, 57, 70), (42, 157, 143), (244, 162, 97), (69, 123, 157), (233, 196, 106),
    (155, 93, 229), (0, 187, 249), (241, 91, 181), (128, 185, 24), (255, 127, 14), (148, 103, 189),
], np.uint8)


def class_colours(count: int) -> np.ndarray:
    """(count, 3) uint8: the colour of each class, repeating past the table (background first)."""
    index = np.r_[0, 1 + (np.arange(max(count - 1, 0)) % (len(CLASS_COLORS) - 1))]
    return CLASS_COLORS[index[:max(count, 1)]]


def colour_mask(mask: np.ndarray, count: int | None = None) -> np.ndarray:
    """(H, W) class numbers -> (H, W, 3) float RGB in [0, 1]."""
    mask = np.asarray(mask, dtype=np.int64)
    count = int(count if count is not None else mask.max(initial=0) + 1)
    colours = class_colours(max(count, int(mask.max(initial=0)) + 1))
    return colours[mask].astype(np.float32) / 255.0


def mask_over(picture: np.ndarray, mask: np.ndarray, count: int | None = None, opacity: float = 0.55) -> np.ndarray:
    """(H, W, 3) float RGB picture with the classes of `mask` laid over it (the background left clear)."""
    cover = (np.asarray(mask) > 0)[..., None] * float(opacity)
    return np.asarray(picture, np.float32) * (1.0 - cover) + colour_mask(mask, count) * cover


def legend_html(class_names: tuple[str, ...]) -> str:
    """A line of coloured squares with the class names, as rich text for a QLabel."""
    colours = class_colours(len(class_names))
    return " ".join(f'<span style="color:#{r:02x}{g:02x}{b:02x}">■</span> {html.escape(name)}'
                    for (r, g, b), name in zip(colours.tolist(), class_names, strict=False))
