"""Jobs of the explanation views: evaluation, saliency and Grad-CAM, and what a filter responds to.

Each runs with the chosen model already current (`JobCall.model`). Long ones report
("progress", (done, total)) and ("stage", words), and stop early once cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.tasks import CLASSIFICATION, REGRESSION, SEGMENTATION

from ..inspection import Cancelled, Inspector, evaluate_multilabel, evaluate_regression, evaluate_segmentation
from ..workspace import Workspace
from .protocol import Progress
from .requests import DatasetExampleRequest, EvaluateRequest, ExplainRequest, MaximizeRequest
from .results import EVALUATED_SPLITS, DatasetExample, EvaluationOutcome, Explanation, MaximizeOutcome

METHODS = ("gradient", "smoothgrad", "grad-cam", "hires-cam")


def progress_reporter(progress: Progress, interval: float = 0.05) -> Callable[[int, int], bool | None]:
    """A progress callback for the Inspector: sends ("progress", (done, total)) at most every
    `interval` seconds (and at the end); returns False, which stops the work, once cancelled."""
    last = [float("-inf")]

    def report(done: int, total: int) -> bool | None:
        now = time.monotonic()
        if now - last[0] >= interval or done >= total:
            last[0] = now
            progress.event("progress", (done, total))
        return False if progress.cancelled else None

    return report


def class_names_of(workspace: Workspace, count: int) -> tuple[str, ...]:
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


def check_image(inspector: Inspector, image: np.ndarray) -> np.ndarray:
    """The image as float32, refused in plain words when the network takes another shape."""
    x = np.asarray(image, dtype=np.float32)
    expected = tuple(inspector.input_shape)
    if tuple(x.shape) != expected:
        raise UserError(f"this image is {'x'.join(map(str, x.shape))} but the network takes "
                        f"{'x'.join(str(s) for s in expected)} inputs; choose an image of the project's dataset")
    return x


# -------------------------------------------------------------------------------- evaluation
def evaluate(workspace: Workspace, request: EvaluateRequest, progress: Progress) -> EvaluationOutcome:
    """Evaluate the current model on the project's validation or test split."""
    split = request.split
    if split not in EVALUATED_SPLITS:
        raise UserError(f"unknown split {split!r}; evaluate on 'validation' or 'test'")
    inspector = workspace.require_model()
    facts = workspace.facts
    progress.event("stage", "loading the dataset")
    data = workspace.dataset(facts.project)
    x, y = data.arrays(split)
    if len(x) == 0:
        hint = " (set a validation split above 0 in the training settings)" if split == "validation" else ""
        raise UserError(f"the {split} split of {data.name} holds no images{hint}")
    if tuple(x.shape[1:]) != tuple(inspector.input_shape):
        raise UserError(f"{data.name} images are {'x'.join(map(str, x.shape[1:]))} but the network takes "
                        f"{'x'.join(str(s) for s in inspector.input_shape)}; change the dataset or the Input layer")
    progress.event("stage", f"predicting {len(x):,} {split} images")
    task = evaluated_task(data.task, facts.project.training.get("task"))
    try:
        if task != CLASSIFICATION:
            return _evaluate_task(task, inspector, data, split, x, y, facts.source, progress)
        result = inspector.evaluate(x, y, data.class_names, progress=progress_reporter(progress))
    except Cancelled:
        return EvaluationOutcome(split, facts.source, None, None, cancelled=True, total=len(x))
    return EvaluationOutcome(split, facts.source, result, x, done=len(x), total=len(x))


def evaluated_task(data_task: str, setting: object) -> str:
    """What the evaluation shows: the data's task, or regression where the project learns class numbers as
    values; one class per image (binary included) is classification."""
    if data_task == CLASSIFICATION:
        return REGRESSION if setting == REGRESSION else CLASSIFICATION
    return data_task


def _evaluate_task(task: str, inspector: Inspector, data, split: str, x: np.ndarray, y: np.ndarray, source: str,
                   progress: Progress) -> EvaluationOutcome:
    """Segmentation, regression or multi-label figures of one split."""
    report = progress_reporter(progress)
    found = {}
    if task == SEGMENTATION:
        found["segmentation"] = evaluate_segmentation(inspector.model, x, y, data.class_names, progress=report)
    elif task == REGRESSION:
        found["regression"] = evaluate_regression(inspector.model, x, y, progress=report)
    else:
        found["multilabel"] = evaluate_multilabel(inspector.model, x, y, data.class_names, progress=report)
    return EvaluationOutcome(split, source, None, x, done=len(x), total=len(x), task=task, **found)


# -------------------------------------------------------------------------------- saliency
def explain(workspace: Workspace, request: ExplainRequest, progress: Progress) -> Explanation:
    """Saliency, SmoothGrad, Grad-CAM or HiResCAM of one image for a class (None: the predicted one)."""
    method, class_index = request.method, request.class_index
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    inspector = workspace.require_model()
    x = check_image(inspector, request.image)
    probabilities = np.asarray(inspector.predict_proba(x), dtype=np.float32).ravel()
    if class_index is not None and not 0 <= class_index < len(probabilities):
        class_index = None  # the class list was of another model; explain the prediction instead
    if method == "gradient":
        found = inspector.saliency(x, class_index)
    elif method == "smoothgrad":
        found = inspector.smoothgrad(x, class_index, samples=int(request.samples),
                                     noise_level=float(request.noise_level))
    else:
        found = inspector.grad_cam(x, class_index, layer=request.layer or None, variant=method)
    return Explanation(method, np.asarray(found.heatmap, np.float32), int(found.class_index),
                       float(found.probability), int(probabilities.argmax()), probabilities,
                       class_names_of(workspace, len(probabilities)), found.layer, bool(found.empty),
                       workspace.facts.source if workspace.facts else "",
                       None if found.coarse is None else tuple(np.shape(found.coarse)))


def dataset_example(workspace: Workspace, request: DatasetExampleRequest, progress: Progress) -> DatasetExample:
    """One image of the model's project dataset, with its label and the split's size."""
    data = workspace.dataset(workspace.facts.project)
    x, y = data.arrays(request.split)
    if len(x) == 0:
        raise UserError(f"the {request.split} split of {data.name} holds no images")
    index = min(max(int(request.index), 0), len(x) - 1)
    return DatasetExample(np.array(x[index]), int(y[index]), tuple(data.class_names), len(x), index)


# -------------------------------------------------------------------------------- maximization
def value_range_of(workspace: Workspace) -> tuple[float, float]:
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


def maximize(workspace: Workspace, request: MaximizeRequest, progress: Progress) -> MaximizeOutcome:
    """Activation maximization of filters of a layer or of output classes."""
    kind, layer, targets = request.kind, request.layer, request.targets
    inspector = workspace.require_model()
    options = dict(request.settings)
    try:
        options.setdefault("value_range", value_range_of(workspace))
    except Exception:  # the dataset could not be read: keep the [0, 1] default
        options.setdefault("value_range", (0.0, 1.0))
    report = progress_reporter(progress)
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
