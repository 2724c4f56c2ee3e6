"""Generated datasets: instant, offline, and simple enough to see what a filter learns.

- `x-vs-o`: X and O shapes (labels: 0 = "O", 1 = "X") drawn anti-aliased on a
  28x28 grid with random position, width, height, stroke thickness, brightness and
  noise. 2,000 training + 500 test images, exactly half of each class.
- `stripes`: parallel lines (labels: 0 = "horizontal", 1 = "vertical") with random
  spacing, phase, thickness, brightness and noise, 28x28. One 5x5 convolution filter
  + global max pooling + Dense(2) tells them apart. Same sizes as x-vs-o.
- `shapes` (segmentation): circles, squares and triangles on a noisy background, 64x64x3,
  each with its mask (0 = background, 1 = circle, 2 = square, 3 = triangle). Same sizes.

The test images are drawn with a fixed seed (identical whatever `seed` is); the
training images (and the validation carved from them) follow `seed`.
"""

from __future__ import annotations

import numpy as np

from cnnstudio.core.datasets import STRIPES_CLASSES, X_VS_O_CLASSES
from cnnstudio.core.drawn_shapes import SHAPE_CLASSES, draw_shapes
from cnnstudio.core.generated_images import draw_stripes, draw_x_vs_o  # drawn in core: no TF needed
from cnnstudio.core.tasks import CLASSIFICATION, SEGMENTATION
from cnnstudio.ml.data.arrays import ArrayDataset
from cnnstudio.ml.data.options import LoadOptions

NUM_TRAIN = 2000
NUM_TEST = 500
_TEST_STREAM = 0x7E57  # fixed seed of the test images
_TRAIN_STREAM = 1


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) % 2**63, stream])


def _generated(name: str, classes: tuple[str, ...], draw, options: LoadOptions,
               task: str = CLASSIFICATION) -> ArrayDataset:
    x_train, y_train = draw(NUM_TRAIN, _rng(options.seed, _TRAIN_STREAM))
    x_test, y_test = draw(NUM_TEST, _rng(_TEST_STREAM, 2))
    return ArrayDataset.from_arrays(name, classes, x_train, y_train, x_test, y_test, options, task=task)


def load_x_vs_o(options: LoadOptions) -> ArrayDataset:
    """X versus O, 28x28x1, 2 classes ("O", "X")."""
    return _generated("x-vs-o", X_VS_O_CLASSES, draw_x_vs_o, options)


def load_stripes(options: LoadOptions) -> ArrayDataset:
    """Horizontal versus vertical stripes, 28x28x1, 2 classes ("horizontal", "vertical")."""
    return _generated("stripes", STRIPES_CLASSES, draw_stripes, options)


def load_shapes(options: LoadOptions) -> ArrayDataset:
    """Shapes and their masks, 64x64x3, 4 classes per pixel ("background", "circle", "square", "triangle")."""
    return _generated("shapes", SHAPE_CLASSES, draw_shapes, options, SEGMENTATION)
