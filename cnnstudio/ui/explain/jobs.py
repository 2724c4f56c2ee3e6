"""The work the explanation views send to the ML thread, and the plain results they get back.

Each function runs as ``fn(workspace, ..., job=job)`` through `WorkspaceClient.with_model`
(the current model is loaded first). They import TensorFlow-side modules only inside
the function bodies, so this module is safe to import on the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnstudio.core.errors import UserError

SPLIT_WORDS = {"validation": "validation", "test": "test"}
METHODS = ("gradient", "smoothgrad", "grad-cam", "hires-cam")


@dataclass
class EvaluationOutcome:
    """An evaluation of one split (``evaluation`` is None when the person cancelled it)."""

    split: str
    source: str  # which model: "untrained network" or the run's folder name
    evaluation: Any | None  # cnnstudio.ml.inspection.Evaluation
    images: np.ndarray | None  # the split's network inputs, for thumbnails and opening one
    cancelled: bool = False
    done: int = 0
    total: int = 0


@dataclass
class Explanation:
    """An attribution for one input, with what the network predicted for it."""

    method: str
    heatmap: np.ndarray  # (H, W) in [0, 1]
    class_index: int  # the class explained
    probability: float  # the network's probability for that class
    predicted: int
    probabilities: np.ndarray  # (K,)
    class_names: tuple[str, ...]
    layer: str | None
    empty: bool  # all zero: no positive evidence for the class at this layer
    source: str = ""
    coarse_shape: tuple[int, ...] | None = None  # Grad-CAM's own resolution before stretching


@dataclass
class MaximizeOutcome:
    """Images that excite each target, with the strength reached against the starting noise."""

    kind: str  # "filters" or "classes"
    layer: str
    targets: np.ndarray
    images: np.ndarray  # (n, H, W, C) in [0, 1] for display
    objective: np.ndarray
    start_objective: np.ndarray
    steps: int
    total_steps: int
    cancelled: bool
    class_names: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""


def progress_reporter(job: Any, interval: float = 0.05) -> Callable[[int, int], bool | None]:
    """A progress callback for the Inspector: sends ("progress", (done, total)) at most every
    `interval` seconds (and at the end); returns False, which stops the work, once cancelled."""
    last = [float("-inf")]

    def report(done: int, total: int) -> bool | None:
        now = time.monotonic()
        if now - last[0] >= interval or done >= total:
            last[0] = now
            job.event("progress", (done, total))
        return False if job.cancelled else None

    return report


def class_names_of(workspace: Any, count: int) -> tuple[str, ...]:
    """The names of the model's classes, from its project's dataset when they fit; else 0..K-1."""
    from cnnstudio.core.datasets import dataset_info

    name = str(workspace.facts.project.dataset.get("name") or "") if workspace.facts else ""
    try:
        names = dataset_info(name).class_names if name else None
    except UserError:
        names = None
    if names and len(names) == count:
        return tuple(str(n) for n in names)
    return tuple(str(i) for i in range(count))


def check_image(inspector: Any, image: np.ndarray) -> np.ndarray:
    """The image as float32, refused in plain words when the network takes another shape."""
    x = np.asarray(image, dtype=np.float32)
    expected = tuple(inspector.input_shape)
    if tuple(x.shape) != expected:
        raise UserError(f"this image is {'x'.join(map(str, x.shape))} but the network takes "
                        f"{'x'.join(str(s) for s in expected)} inputs; choose an image of the project's dataset")
    return x


# -------------------------------------------------------------------------------- evaluation
def evaluate(workspace: Any, split: str, *, job: Any) -> EvaluationOutcome:
    """Evaluate the current model on the project's validation or test split."""
    if split not in SPLIT_WORDS:
        raise UserError(f"unknown split {split!r}; evaluate on 'validation' or 'test'")
    from cnnstudio.ml.inspection import Cancelled

    inspector = workspace.require_model()
    facts = workspace.facts
    job.event("stage", "loading the dataset")
    data = workspace.dataset(facts.project)
    x, y = data.arrays(split)
    if len(x) == 0:
        hint = " (set a validation split above 0 in the training settings)" if split == "validation" else ""
        raise UserError(f"the {split} split of {data.name} holds no images{hint}")
    if tuple(x.shape[1:]) != tuple(inspector.input_shape):
        raise UserError(f"{data.name} images are {'x'.join(map(str, x.shape[1:]))} but the network takes "
                        f"{'x'.join(str(s) for s in inspector.input_shape)}; change the dataset or the Input layer")
    job.event("stage", f"predicting {len(x):,} {split} images")
    report = progress_reporter(job)
    try:
        result = inspector.evaluate(x, y, data.class_names, progress=report)
    except Cancelled:
        return EvaluationOutcome(split, facts.source, None, None, cancelled=True, total=len(x))
    return EvaluationOutcome(split, facts.source, result, x, done=len(x), total=len(x))


# -------------------------------------------------------------------------------- saliency
def explain(workspace: Any, image: np.ndarray, method: str, class_index: int | None = None,
            layer: str | None = None, samples: int = 25, noise_level: float = 0.15, *,
            job: Any = None) -> Explanation:
    """Saliency, SmoothGrad, Grad-CAM or HiResCAM of one image for a class (None: the predicted one)."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    inspector = workspace.require_model()
    x = check_image(inspector, image)
    probabilities = np.asarray(inspector.predict_proba(x), dtype=np.float32).ravel()
    if class_index is not None and not 0 <= class_index < len(probabilities):
        class_index = None  # the class list was of another model; explain the prediction instead
    if method == "gradient":
        found = inspector.saliency(x, class_index)
    elif method == "smoothgrad":
        found = inspector.smoothgrad(x, class_index, samples=int(samples), noise_level=float(noise_level))
    else:
        found = inspector.grad_cam(x, class_index, layer=layer or None, variant=method)
    return Explanation(method, np.asarray(found.heatmap, np.float32), int(found.class_index),
                       float(found.probability), int(probabilities.argmax()), probabilities,
                       class_names_of(workspace, len(probabilities)), found.layer, bool(found.empty),
                       workspace.facts.source if workspace.facts else "",
                       None if found.coarse is None else tuple(np.shape(found.coarse)))


def dataset_image(workspace: Any, split: str, index: int, *, job: Any = None) -> tuple:
    """One image of the model's project dataset: (image, label, class names, images in the split)."""
    data = workspace.dataset(workspace.facts.project)
    x, y = data.arrays(split)
    if len(x) == 0:
        raise UserError(f"the {split} split of {data.name} holds no images")
    index = min(max(int(index), 0), len(x) - 1)
    return np.array(x[index]), int(y[index]), tuple(data.class_names), len(x), index


# -------------------------------------------------------------------------------- maximization
def value_range_of(workspace: Any) -> tuple[float, float]:
    """The range of values the network was trained on, for the optimised images to live in."""
    from cnnstudio.ml.training.settings import TrainingSettings

    project = workspace.facts.project
    normalization = TrainingSettings.from_project(project).normalization
    if normalization == "scale":
        return (0.0, 1.0)
    preprocessing = workspace.dataset(project).preprocessing
    if normalization == "none":
        return (0.0, float(preprocessing.value_max))
    mean = np.asarray(preprocessing.mean, np.float64)
    std = np.asarray(preprocessing.std, np.float64)
    return (float(np.min(-mean / std)), float(np.max((1.0 - mean) / std)))


def maximize(workspace: Any, kind: str, layer: str | None, targets: Sequence[int] | int,
             settings: dict[str, Any], *, job: Any) -> MaximizeOutcome:
    """Activation maximization of filters of `layer` or of output classes: the given numbers, or
    (`targets` an int N) the first N of them."""
    inspector = workspace.require_model()
    options = dict(settings)
    try:
        options.setdefault("value_range", value_range_of(workspace))
    except Exception:  # the dataset could not be read: keep the [0, 1] default
        options.setdefault("value_range", (0.0, 1.0))
    report = progress_reporter(job)
    if kind == "classes":
        count = len(np.asarray(inspector.predict_proba(np.zeros(inspector.input_shape, np.float32))).ravel())
        found = inspector.maximize_class(_first(targets, count), progress=report, **options)
        names = class_names_of(workspace, count)
    elif kind == "filters":
        if not layer:
            raise UserError("choose a layer whose filters to show")
        count = next((int(f.output_shape[-1]) for f in workspace.facts.layers
                      if f.name == layer and f.output_shape), None)
        if count is None:
            raise UserError(f"the model has no layer '{layer}' with feature maps; choose another layer")
        found = inspector.maximize_filters(layer, _first(targets, count), progress=report, **options)
        names = ()
    else:
        raise UserError(f"unknown target {kind!r}; maximise 'filters' or 'classes'")
    return MaximizeOutcome(kind, found.layer, np.asarray(found.targets), found.images, found.objective,
                           found.start_objective, int(found.steps), int(options.get("steps", 128)),
                           bool(found.cancelled), names, workspace.facts.source if workspace.facts else "")


def _first(targets: Sequence[int] | int, count: int) -> list[int]:
    """The chosen targets, or for an int N the first N of `count` (all when fewer)."""
    if isinstance(targets, int):
        return list(range(min(max(targets, 1), count)))
    return list(targets)
