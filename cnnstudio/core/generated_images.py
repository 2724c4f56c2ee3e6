"""The pictures of the generated datasets (`x-vs-o`, `stripes`), drawn in plain NumPy.

Shared by the dataset loaders (``cnnstudio.ml.data.generated``) and the convolution
playground, which shows one such picture without TensorFlow.

- X and O shapes (labels: 0 = "O", 1 = "X") drawn anti-aliased with random position,
  width, height, stroke thickness, brightness and noise.
- Parallel lines (labels: 0 = "horizontal", 1 = "vertical") with random spacing,
  phase, thickness, brightness and noise.
"""

from __future__ import annotations

import numpy as np

SIDE = 28


def _balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % 2)


def _to_uint8(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add per-image Gaussian noise (std 0-0.1) and quantize to 0-255."""
    noise = rng.uniform(0.0, 0.1, size=(len(images), 1, 1)) * rng.standard_normal(images.shape)
    return np.round(np.clip(images + noise, 0.0, 1.0) * 255).astype(np.uint8)


def draw_x_vs_o(n: int, rng: np.random.Generator, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (n, side, side) uint8 with labels 0 = O, 1 = X, half each."""
    labels = _balanced_labels(n, rng)
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    scale = side / 28.0
    cy = side / 2 + rng.uniform(-4, 4, n) * scale
    cx = side / 2 + rng.uniform(-4, 4, n) * scale
    ry = rng.uniform(5, 9, n) * scale
    rx = ry * rng.uniform(0.75, 1.25, n)
    thickness = rng.uniform(1.5, 3.2, n) * scale
    brightness = rng.uniform(0.6, 1.0, n)
    dy = rows[None] - cy[:, None, None]
    dx = cols[None] - cx[:, None, None]
    ry3, rx3 = ry[:, None, None], rx[:, None, None]
    # O: distance to an ellipse, approximated by the radial gap scaled to pixels.
    radial = np.sqrt((dx / rx3) ** 2 + (dy / ry3) ** 2)
    ring = np.abs(radial - 1.0) * np.minimum(rx3, ry3)
    # X: distance to the two diagonals of the (2rx x 2ry) box, clipped to the box.
    cross = np.minimum(_segment_distance(dx, dy, rx3, ry3), _segment_distance(dx, dy, rx3, -ry3))
    distance = np.where(labels[:, None, None] == 1, cross, ring)
    ink = np.clip(thickness[:, None, None] / 2 + 0.5 - distance, 0.0, 1.0) * brightness[:, None, None]
    return _to_uint8(ink, rng), labels.astype(np.uint8)


def _segment_distance(dx: np.ndarray, dy: np.ndarray, ex: np.ndarray, ey: np.ndarray) -> np.ndarray:
    """Distance from (dx, dy) to the segment from (-ex, -ey) to (ex, ey)."""
    length_sq = ex**2 + ey**2
    t = np.clip((dx * ex + dy * ey) / length_sq, -1.0, 1.0)
    return np.hypot(dx - t * ex, dy - t * ey)


def draw_stripes(n: int, rng: np.random.Generator, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (n, side, side) uint8 with labels 0 = horizontal, 1 = vertical, half each."""
    labels = _balanced_labels(n, rng)
    period = rng.integers(4, 9, n)  # 4..8 pixels from one line to the next
    thickness = np.minimum(rng.integers(1, 4, n), period - 2)  # 1..3, always a gap of 2+
    phase = rng.integers(0, 1 << 16, n) % period
    background = rng.uniform(0.0, 0.2, n)
    brightness = rng.uniform(0.6, 1.0, n)
    position = np.arange(side)
    on = ((position[None] - phase[:, None]) % period[:, None]) < thickness[:, None]  # (n, side)
    profile = background[:, None] + on * (brightness - background)[:, None]
    images = np.where(labels[:, None, None] == 1,
                      np.broadcast_to(profile[:, None, :], (n, side, side)),  # vertical: varies along columns
                      np.broadcast_to(profile[:, :, None], (n, side, side)))  # horizontal: along rows
    return _to_uint8(images, rng), labels.astype(np.uint8)
