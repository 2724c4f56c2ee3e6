"""Activation maximization: an image that a filter (or a class) responds to as strongly as possible.

Gradient ascent from faint noise, as tf-keras-vis and Lucid do it, with the
regularizers that keep the picture readable instead of adversarial static:

- jitter: the image is shifted by a few random pixels at every step, so the result
  must work wherever it sits (no single-pixel tricks);
- total variation: a penalty on differences between neighbouring pixels (smooth);
- L2: a penalty on distance from mid-grey (no saturated pixels everywhere);
- blur: a light Gaussian blur every few steps, which removes high-frequency
  patterns. On by default for classes (cleaner shapes), off for filters: a filter
  that detects fine texture cannot be shown blurred.

What is climbed: for a filter, its values *before* the activation with negative
values kept at a tenth (a ReLU that is off would leave no gradient to climb;
heads.py), averaged over its map or taken at one position; for a class, its score
before the softmax minus the others' (log-odds). The image lives in [0, 1] and is mapped onto `value_range` (the values the network
was trained on) before entering the network; each step moves pixels by
`step_size` times the normalised gradient, so the defaults suit any layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cnnstudio.core.errors import UserError

from .cache import submodels_for
from .gradients import class_scores
from .heads import Stage
from .layers import get_layer, image_shape, output_shape
from .prediction import predict_proba

Progress = Callable[[int, int], "bool | None"]
DEFAULT_JITTER = 2
CLASS_BLUR_EVERY = 4
LEAK = 0.1  # slope kept below zero, so a filter that is off still has a way up


@dataclass
class Ascent:
    """How the images are optimised. The defaults take about a second for 128 steps at 28x28."""

    steps: int = 128
    step_size: float = 0.05
    jitter: int | None = None  # None: 2 pixels, or none when one unit (`position`) is the target
    tv_weight: float = 0.02
    l2_weight: float = 0.01
    blur_every: int | None = None  # None: every 4 steps for classes, never for filters; 0: never
    blur_sigma: float = 0.5
    value_range: tuple[float, float] = (0.0, 1.0)
    seed: int | None = 0

    def check(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise UserError(f"steps must be a whole number of 1 or more, not {self.steps!r}")
        low, high = self.value_range
        if not high > low:
            raise UserError(f"value range {self.value_range} is empty; give (low, high) with high > low")
        if (self.jitter or 0) < 0 or (self.blur_every or 0) < 0 or self.blur_sigma < 0 or self.step_size <= 0:
            raise UserError("jitter, blur and step size must not be negative (step size above 0)")


@dataclass
class MaximizedImages:
    """One optimised image per target (filter or class index, in `targets`).

    `images` (n, H, W, C) are stretched to [0, 1] each for display; `raw` are the values fed
    to the network; `objective` and `start_objective` the target's strength on the final
    image and on the starting noise: for a filter, its feature map's mean as the layer
    outputs it (or its value at `position`); for a class, the probability the network gives it.
    """

    layer: str
    targets: np.ndarray
    images: np.ndarray
    raw: np.ndarray
    objective: np.ndarray
    start_objective: np.ndarray
    steps: int
    cancelled: bool


def maximize_filters(
    model: keras.Model,
    layer: str,
    filters: int | Sequence[int] | None = None,
    *,
    position: Sequence[int] | None = None,
    settings: Ascent | None = None,
    progress: Progress | None = None,
    **options: object,
) -> MaximizedImages:
    """Images that excite filters (channels) of `layer`: one index, several, or None for all.

    By default the filter's whole feature map counts (the image's mean brightness is held
    at mid-grey, so brightening everything cannot satisfy it: it must show a pattern);
    `position` (row, col) asks instead what the single unit there responds to, a pattern
    inside its receptive field.

    `options` override `Ascent` fields (steps=64, jitter=1, ...). `progress(step, total)` is
    called after every step; returning False stops early with what was reached so far.
    """
    shape = output_shape(get_layer(model, layer))
    if len(shape) < 2:
        raise UserError(f"layer '{layer}' has no channels to maximise")
    count = shape[-1]
    targets = np.arange(count) if filters is None else np.atleast_1d(np.asarray(filters, dtype=np.int64))
    if targets.size == 0 or targets.min() < 0 or targets.max() >= count:
        raise UserError(f"layer '{layer}' has filters 0 to {count - 1}; {filters!r} is not among them")
    where = _checked_position(layer, shape, position)
    subs = submodels_for(model)
    stage = subs.pre_activation(layer)

    def per_target(values: tf.Tensor) -> tf.Tensor:
        """(n, channels): the positive part of each channel, averaged over positions (or at one)."""
        values = stage.apply(values)
        values = tf.where(values > 0, values, LEAK * values)
        if where is not None:
            return values[(slice(None), *where)]
        axes = list(range(1, len(values.shape) - 1))
        return tf.reduce_mean(values, axis=axes) if axes else values

    def measure(images: np.ndarray) -> np.ndarray:
        maps = subs.features((layer,))(images, training=False)
        maps = keras.ops.convert_to_numpy(maps[0] if isinstance(maps, (list, tuple)) else maps)
        values = maps[(slice(None), *where)] if where is not None else \
            maps.reshape(len(maps), -1, maps.shape[-1]).mean(axis=1)
        return values[np.arange(len(targets)), targets]

    chosen = _settings(settings, options)
    if chosen.jitter is None:  # a unit's small field would see a different patch at every step
        chosen.jitter = 0 if where is not None else DEFAULT_JITTER
    if chosen.blur_every is None:
        chosen.blur_every = 0
    target = _Target(("filters", layer, where), layer, stage, targets, count, per_target, measure, where is None)
    return _ascend(model, target, chosen, progress)


def _checked_position(layer: str, shape: tuple, position: Sequence[int] | None) -> tuple[int, ...] | None:
    if position is None:
        return None
    where = tuple(int(p) for p in position)
    sizes = shape[1:-1]
    if len(where) != len(sizes) or any(not 0 <= p < n for p, n in zip(where, sizes)):
        raise UserError(f"position {where} is outside layer '{layer}', whose maps are {'x'.join(map(str, sizes))}")
    return where


def maximize_class(
    model: keras.Model,
    classes: int | Sequence[int],
    *,
    settings: Ascent | None = None,
    progress: Progress | None = None,
    **options: object,
) -> MaximizedImages:
    """Images the network is as sure as it can be are of each class.

    What is climbed is the class's lead over the others, score_c - logsumexp(other scores)
    (its log-odds): raising the score alone can raise the others with it, and the image
    would not even be classified as the class.
    """
    subs = submodels_for(model)
    stage = subs.scores()
    targets = np.atleast_1d(np.asarray(classes, dtype=np.int64))

    def per_target(values: tf.Tensor) -> tf.Tensor:
        """(n, classes): each class's score minus the log-sum-exp of the other scores."""
        scores = class_scores(stage, values, model)[0]
        k = scores.shape[-1]
        others = tf.where(tf.eye(k, dtype=tf.bool)[None], -np.inf, scores[:, None, :])
        return scores - tf.reduce_logsumexp(others, axis=-1)

    def measure(images: np.ndarray) -> np.ndarray:
        return predict_proba(model, images)[np.arange(len(targets)), targets]

    count = int(predict_proba(model, np.zeros(image_shape(model), np.float32)).shape[-1])
    if targets.size == 0 or targets.min() < 0 or targets.max() >= count:
        raise UserError(f"the network has classes 0 to {count - 1}; {classes!r} is not among them")
    chosen = _settings(settings, options)
    if chosen.jitter is None:
        chosen.jitter = DEFAULT_JITTER
    if chosen.blur_every is None:
        chosen.blur_every = CLASS_BLUR_EVERY
    target = _Target(("classes",), "output", stage, targets, count, per_target, measure, False)
    return _ascend(model, target, chosen, progress)


def _settings(settings: Ascent | None, options: dict[str, object]) -> Ascent:
    settings = settings or Ascent()
    unknown = set(options) - set(Ascent.__dataclass_fields__)
    if unknown:
        raise UserError(f"unknown option {sorted(unknown)[0]!r}; options: {', '.join(Ascent.__dataclass_fields__)}")
    settings = Ascent(**{**settings.__dict__, **options})
    settings.check()
    return settings


@dataclass
class _Target:
    """What one maximization climbs: `per_target` maps the values a sub-model gives for
    `stage` to (n, count) strengths, of which image i climbs column `indices[i]`."""

    key: tuple  # names the compiled step in the model's cache
    layer: str
    stage: Stage
    indices: np.ndarray
    count: int
    per_target: Callable[[tf.Tensor], tf.Tensor]
    measure: Callable[[np.ndarray], np.ndarray]  # final images -> the strengths to report
    hold_mean: bool


def _ascend(model: keras.Model, target: _Target, s: Ascent, progress: Progress | None) -> MaximizedImages:
    shape = image_shape(model)
    if len(shape) != 3 or None in shape:
        raise UserError("activation maximization needs a fixed image input (height x width x channels)")
    target.stage.sync()
    subs = submodels_for(model)
    sub = subs.towards(target.stage)
    step = subs.cached(("ascent",) + target.key, lambda: _compile_step(sub, target.per_target, shape, target.count))
    low, high = (float(v) for v in s.value_range)
    rng = np.random.default_rng(s.seed)
    chosen = tf.one_hot(target.indices, target.count)
    start_noise = 0.5 + 0.05 * rng.standard_normal((len(target.indices), *shape))
    image = tf.Variable(np.clip(start_noise, 0, 1).astype(np.float32))
    numbers = [tf.constant(v, tf.float32) for v in (low, high, s.step_size, s.tv_weight, s.l2_weight)]

    start = target.measure((low + (high - low) * image).numpy())
    blur = _gaussian_kernel(s.blur_sigma, shape[-1]) if s.blur_every and s.blur_sigma > 0 else None
    done, cancelled = 0, False
    for index in range(s.steps):
        shift = rng.integers(-s.jitter, s.jitter + 1, size=2) if s.jitter else np.zeros(2, int)
        image.assign(step(tf.convert_to_tensor(image), chosen, tf.constant(shift, tf.int32), *numbers))
        if target.hold_mean:
            image.assign(tf.clip_by_value(image - tf.reduce_mean(image, axis=[1, 2], keepdims=True) + 0.5, 0.0, 1.0))
        if blur is not None and (index + 1) % s.blur_every == 0:
            image.assign(_blur(image, blur))
        done = index + 1
        if progress is not None and progress(done, s.steps) is False:
            cancelled = True
            break
    raw = (low + (high - low) * image).numpy()
    return MaximizedImages(target.layer, target.indices, _stretch(image.numpy()), raw, target.measure(raw),
                           start, done, cancelled)


def _compile_step(sub: keras.Model, per_target: Callable[[tf.Tensor], tf.Tensor], shape: tuple, count: int) -> Callable:
    """One ascent step as a compiled TensorFlow function (traced once per layer or head)."""
    number = tf.TensorSpec((), tf.float32)
    signature = [tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None, count), tf.float32),
                 tf.TensorSpec((2,), tf.int32)] + [number] * 5

    @tf.function(input_signature=signature)
    def step(image, chosen, shift, low, high, step_size, tv_weight, l2_weight):
        u = tf.convert_to_tensor(image)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(u)
            moved = tf.roll(u, shift, axis=[1, 2])
            values = per_target(sub(low + (high - low) * moved, training=False))
            gain = tf.reduce_sum(values * chosen)
            down = u[:, 1:] - u[:, :-1]
            across = u[:, :, 1:] - u[:, :, :-1]
            penalty = tv_weight * (tf.reduce_sum(down**2) + tf.reduce_sum(across**2)) \
                + l2_weight * tf.reduce_sum((u - 0.5) ** 2)
        climb = tape.gradient(gain, u, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        brake = tape.gradient(penalty, u)
        del tape
        # mean |gradient| over the pixels the target depends on (all of them, or one unit's field)
        touched = tf.reduce_sum(tf.cast(climb != 0, tf.float32), axis=[1, 2, 3], keepdims=True)
        scale = tf.reduce_sum(tf.abs(climb), axis=[1, 2, 3], keepdims=True) / tf.maximum(touched, 1.0) + 1e-12
        return tf.clip_by_value(u + step_size * (climb / scale - brake), 0.0, 1.0)

    return step


def _gaussian_kernel(sigma: float, channels: int) -> tf.Tensor:
    radius = max(1, int(np.ceil(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    kernel = np.outer(taps, taps).astype(np.float32)
    return tf.constant(np.tile(kernel[:, :, None, None], (1, 1, channels, 1)))


def _blur(image: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
    radius = kernel.shape[0] // 2
    padded = tf.pad(image, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


def _stretch(images: np.ndarray) -> np.ndarray:
    """Each image to [0, 1] by its own minimum and maximum (a flat image becomes mid-grey)."""
    flat = images.reshape(len(images), -1)
    low = flat.min(axis=1)[:, None, None, None]
    span = (flat.max(axis=1) - flat.min(axis=1))[:, None, None, None]
    return np.where(span > 1e-8, (images - low) / np.maximum(span, 1e-8), 0.5).astype(np.float32)
