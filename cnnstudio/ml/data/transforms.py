"""Turning stored images into network inputs: colour, size, pixel shuffling, value range.

One `Preprocessing` does it for a whole dataset, in this order, per batch of raw images:

1. cast to float32;
2. colour mode: "grayscale" (ITU-R 601 weights) or "rgb" (grey copied to 3 channels);
   alpha channels are dropped;
3. resize to `image_size` (bilinear, antialiased, aspect ratio not kept);
4. permute pixels: ONE fixed permutation of the H*W positions, channels kept together,
   the same for every image of every split: `out.reshape(N, H*W, C) ==
   in.reshape(N, H*W, C)[:, permutation]`;
5. normalization: "scale" divides by `value_max` (255 for 8-bit data, 1 for floats
   already in [0, 1]) so values lie in [0, 1]; "standardize" then subtracts the
   per-channel mean and divides by the per-channel standard deviation, both measured on
   the training split only; "none" leaves the stored values (0-255 for 8-bit data).

Training, previews and probe batches use the NumPy version (`apply`, no TensorFlow: it
serves every Keras backend; resizing goes through `keras.ops.image.resize`). The
TensorFlow version (`batch`) does the same inside tf.data pipelines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from cnnstudio.ml.data.options import LoadOptions

GREY_WEIGHTS = np.array([[0.2989], [0.587], [0.114]], np.float32)  # ITU-R 601, as tf.image uses

CHUNK = 2048  # images per eager step when transforming NumPy arrays


@dataclass(frozen=True, eq=False)
class Preprocessing:
    """Everything needed to map raw images of `source_shape` to network inputs."""

    source_shape: tuple[int, int, int]
    target_shape: tuple[int, int, int]
    value_max: float
    normalization: str
    permutation: np.ndarray | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @classmethod
    def create(cls, source_shape: tuple[int, int, int], value_max: float, options: LoadOptions) -> Preprocessing:
        """The preprocessing the options ask for (without standardize statistics yet)."""
        h, w, c = source_shape
        if options.image_size is not None:
            h, w = options.image_size
        if options.color_mode == "grayscale":
            c = 1
        elif options.color_mode == "rgb":
            c = 3
        permutation = None
        if options.permute_pixels is not None:
            permutation = np.random.default_rng(options.permute_pixels).permutation(h * w)
        return cls(tuple(source_shape), (h, w, c), float(value_max), options.normalization, permutation)

    def for_source(self, source_shape: tuple[int, int, int]) -> Preprocessing:
        """The same preprocessing for raw images of another shape (e.g. a user's own picture)."""
        return replace(self, source_shape=tuple(source_shape))

    # -- NumPy (every backend) -------------------------------------------------------------
    def geometry_numpy(self, x: np.ndarray) -> np.ndarray:
        """Steps 1-3 in NumPy: float32, colour mode, size. `x` is (B, h, w, c) raw."""
        x = np.asarray(x, np.float32)
        have, want = self.source_shape[2], self.target_shape[2]
        if have != want:
            if want == 1:
                x = x[..., :1] if have == 2 else x[..., :3] @ GREY_WEIGHTS
            elif want == 3:
                x = np.repeat(x[..., :1], 3, axis=-1) if have in (1, 2) else x[..., :3]
        if tuple(self.source_shape[:2]) != tuple(self.target_shape[:2]):
            import keras

            resized = keras.ops.image.resize(x, self.target_shape[:2], interpolation="bilinear", antialias=True)
            x = np.asarray(keras.ops.convert_to_numpy(resized), np.float32)
        return x

    def finish_numpy(self, x: np.ndarray) -> np.ndarray:
        """Steps 4-5 in NumPy on float32 images already of the target size and colour."""
        h, w, c = self.target_shape
        x = np.asarray(x, np.float32)
        if self.permutation is not None:
            x = x.reshape(-1, h * w, c)[:, self.permutation].reshape(-1, h, w, c)
        if self.normalization in ("scale", "standardize") and self.value_max != 1.0:
            x = x / np.float32(self.value_max)
        if self.normalization == "standardize":
            if self.mean is None or self.std is None:
                raise RuntimeError("standardize statistics were not measured")
            x = (x - self.mean.astype(np.float32)) / self.std.astype(np.float32)
        return x

    def apply_masks(self, raw: np.ndarray) -> np.ndarray:
        """Masks (N, h, w) of class numbers as the images' pixels go: resized (nearest pixel, so no class
        is blended) to the target size, and shuffled by the same pixel permutation."""
        h, w = self.target_shape[:2]
        masks = resize_masks(np.asarray(raw), (h, w))
        if self.permutation is not None:
            masks = masks.reshape(len(masks), h * w)[:, self.permutation].reshape(len(masks), h, w)
        return masks

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """All steps on a NumPy batch of raw images, in chunks; float32 NHWC."""
        out = np.empty((len(raw), *self.target_shape), np.float32)
        for start in range(0, len(raw), CHUNK):
            out[start:start + CHUNK] = self.finish_numpy(self.geometry_numpy(raw[start:start + CHUNK]))
        return out

    # -- TensorFlow, per batch inside tf.data ------------------------------------------------
    def geometry(self, x):
        """Steps 1-3 in TensorFlow: float32, colour mode, size. `x` is (B, h, w, c) raw."""
        import tensorflow as tf

        x = tf.cast(x, tf.float32)
        have, want = self.source_shape[2], self.target_shape[2]
        if have != want:
            if want == 1:
                x = x[..., :1] if have == 2 else tf.image.rgb_to_grayscale(x[..., :3])
            elif want == 3:
                x = tf.repeat(x[..., :1], 3, axis=-1) if have in (1, 2) else x[..., :3]
        if tuple(self.source_shape[:2]) != tuple(self.target_shape[:2]):
            x = tf.image.resize(x, self.target_shape[:2], method="bilinear", antialias=True)
        return x

    def finish(self, x):
        """Steps 4-5 in TensorFlow on float32 images already of the target size and colour."""
        import tensorflow as tf

        h, w, c = self.target_shape
        if self.permutation is not None:
            x = tf.reshape(x, (-1, h * w, c))
            x = tf.gather(x, tf.constant(self.permutation, tf.int32), axis=1)
            x = tf.reshape(x, (-1, h, w, c))
        if self.normalization in ("scale", "standardize") and self.value_max != 1.0:
            x = x / self.value_max
        if self.normalization == "standardize":
            if self.mean is None or self.std is None:
                raise RuntimeError("standardize statistics were not measured")
            x = (x - tf.constant(self.mean, tf.float32)) / tf.constant(self.std, tf.float32)
        return x

    def batch(self, x):
        """All steps in TensorFlow: raw (B, h, w, c) batch -> float32 (B, H, W, C) network input."""
        return self.finish(self.geometry(x))

    def with_statistics(self, raw_batches: Iterable[np.ndarray]) -> Preprocessing:
        """For "standardize": measure per-channel mean/std on the given (training) batches.

        Values are measured after colour/size conversion and after scaling to [0, 1].
        A channel that never varies gets std 1 so nothing is divided by zero.
        """
        if self.normalization != "standardize":
            return self
        total = np.zeros(self.target_shape[2])
        total_sq = np.zeros(self.target_shape[2])
        count = 0
        for raw in raw_batches:
            for start in range(0, len(raw), CHUNK):
                x = self.geometry_numpy(raw[start:start + CHUNK]).astype(np.float64) / self.value_max
                total += x.sum(axis=(0, 1, 2))
                total_sq += np.square(x).sum(axis=(0, 1, 2))
                count += int(x.shape[0]) * int(x.shape[1]) * int(x.shape[2])
        mean = total / max(count, 1)
        std = np.sqrt(np.maximum(total_sq / max(count, 1) - mean**2, 0.0))
        std = np.where(std < 1e-6, 1.0, std)
        return replace(self, mean=mean.astype(np.float32), std=std.astype(np.float32))

    def describe(self) -> dict:
        """What a program must do to new images to feed the trained network (JSON-ready)."""
        return {
            "image_size": list(self.target_shape[:2]),
            "channels": self.target_shape[2],
            "normalization": self.normalization,
            "value_max": self.value_max,
            "mean": None if self.mean is None else [float(v) for v in self.mean],
            "std": None if self.std is None else [float(v) for v in self.std],
            "permutation": None if self.permutation is None else [int(v) for v in self.permutation],
        }


def resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, h, w) masks stretched to `size` by taking the nearest pixel's class (pixel centres matched)."""
    h, w = masks.shape[1:3]
    if (h, w) == tuple(size):
        return masks
    rows = np.minimum(((np.arange(size[0]) + 0.5) * h / size[0]).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * w / size[1]).astype(np.int64), w - 1)
    return masks[:, rows][:, :, cols]


def value_max_of(x: np.ndarray) -> float:
    """The stored value that means "full brightness": 255 for 8-bit, 1 for [0, 1] floats.

    Integer data: 255, or the type's maximum when values exceed 255 (16-bit images).
    Float data: 1 when all values are <= 1, 255 when <= 255, otherwise the largest value.
    """
    if x.dtype == np.uint8 or x.size == 0:
        return 255.0
    top = float(np.max(x))
    if np.issubdtype(x.dtype, np.integer):
        return 255.0 if top <= 255 else float(np.iinfo(x.dtype).max)
    if top <= 1.0:
        return 1.0
    return 255.0 if top <= 255.0 else top
