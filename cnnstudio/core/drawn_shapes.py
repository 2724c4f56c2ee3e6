"""The pictures of the `shapes` dataset and their masks, drawn in plain NumPy.

One to three circles, squares and triangles of random size, colour and position (a
triangle also turned at random) on a noisy, shaded background; later shapes cover
earlier ones. Each picture comes with its mask: the class of every pixel (0 =
background, 1 = circle, 2 = square, 3 = triangle). Same generator state, same pictures.

It imports only NumPy: exported training scripts carry this source unchanged, so they
draw exactly the pictures CNN Studio trains on.
"""

import numpy as np

SHAPE_CLASSES = ("background", "circle", "square", "triangle")
SHAPES_SIDE = 64
CHUNK = 256  # pictures drawn at a time


def draw_shapes(n, rng, side=SHAPES_SIDE):
    """`n` pictures (n, side, side, 3) uint8 and their masks (n, side, side) uint8 of class numbers."""
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
    images = np.empty((n, side, side, 3), np.uint8)
    masks = np.zeros((n, side, side), np.uint8)
    for first in range(0, n, CHUNK):
        count = min(CHUNK, n - first)
        base = rng.uniform(0.0, 0.35, (count, 1, 1, 3)).astype(np.float32)
        slope = rng.uniform(-0.15, 0.15, (count, 2)).astype(np.float32) / side
        shade = (rows - side / 2) * slope[:, 0, None, None] + (cols - side / 2) * slope[:, 1, None, None]
        pictures = base + shade[..., None]
        for picture, mask in zip(pictures, masks[first:first + count]):
            for _ in range(int(rng.integers(1, 4))):
                kind = int(rng.integers(1, 4))
                size = rng.uniform(0.1, 0.2) * side  # the circle's radius; the square and triangle match it
                cy, cx = rng.uniform(size, side - size, 2)
                colour = rng.uniform(0.0, 1.0, 3)
                colour[int(rng.integers(0, 3))] = rng.uniform(0.75, 1.0)  # bright in one channel at least
                reach = int(np.ceil(size * 1.3)) + 1  # a box around the shape: only its pixels are tested
                box = (slice(max(0, int(cy) - reach), int(cy) + reach + 1),
                       slice(max(0, int(cx) - reach), int(cx) + reach + 1))
                inside = _inside(kind, rows[box] - cy, cols[box] - cx, size, rng.uniform(0.0, 2 * np.pi))
                picture[box][inside] = colour
                mask[box][inside] = kind
        strength = rng.uniform(0.02, 0.08, (count, 1, 1, 1)).astype(np.float32)
        noisy = pictures + strength * rng.standard_normal(pictures.shape, dtype=np.float32)
        images[first:first + count] = np.round(np.clip(noisy, 0.0, 1.0) * 255).astype(np.uint8)
    return images, masks


def _inside(kind, dy, dx, size, angle):
    """Which pixels (offsets dy, dx from the centre) a circle (1), square (2) or triangle (3) covers."""
    if kind == 1:
        return dy**2 + dx**2 <= size**2
    if kind == 2:
        half = size * 0.85  # a square as large as the circle to the eye
        return (np.abs(dy) <= half) & (np.abs(dx) <= half)
    size = size * 1.3  # the outer radius of a triangle about as large as the circle to the eye
    corners = [(size * np.sin(angle + k * 2 * np.pi / 3), size * np.cos(angle + k * 2 * np.pi / 3))
               for k in range(3)]
    sides = []
    for k in range(3):  # which side of each edge a pixel lies on: inside, the same side of all three
        (y0, x0), (y1, x1) = corners[k], corners[(k + 1) % 3]
        sides.append((x1 - x0) * (dy - y0) - (y1 - y0) * (dx - x0))
    return ((sides[0] >= 0) & (sides[1] >= 0) & (sides[2] >= 0)) | ((sides[0] <= 0) & (sides[1] <= 0) & (sides[2] <= 0))
