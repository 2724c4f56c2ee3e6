"""What the window asks the ML side to do: one frozen dataclass per job, naming its function.

Plain data only (paths, NumPy arrays, projects, numbers), so a request pickles and can be
sent to another process; no TensorFlow here (the window imports this module). Each
request's `JOB` is the "module:function" that answers it (`protocol.job_function`); a
request whose job needs no Keras says so (`KERAS = False`), so the worker answers it
without loading Keras first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from cnnstudio.core.project import Project

from .results import InputImage

_JOBS = "cnnstudio.ml.jobs."


# -- the model under inspection, and what it makes of inputs ------------------------------------
@dataclass(frozen=True)
class LoadModelRequest:
    """Just make the chosen model current; the answer is its ModelFacts."""

    JOB: ClassVar[str] = _JOBS + "inspection:model_facts"


@dataclass(frozen=True)
class LayerKernelsRequest:
    """The kernels of a convolution layer (None, or not a convolution: the first one)."""

    JOB: ClassVar[str] = _JOBS + "inspection:layer_kernels"
    layer: str | None = None


@dataclass(frozen=True)
class AnalyseRequest:
    """Probabilities for an input; with `with_maps`, every layer's output too."""

    JOB: ClassVar[str] = _JOBS + "inspection:analyse"
    image: InputImage
    with_maps: bool = False
    note: str = ""


@dataclass(frozen=True)
class PictureRequest:
    """A user's picture or drawing (uint8, any size), prepared as the training data were, then analysed."""

    JOB: ClassVar[str] = _JOBS + "inspection:analyse_picture"
    raw: np.ndarray
    title: str
    origin: str  # "file" or "drawing"
    with_maps: bool = False


@dataclass(frozen=True)
class DatasetIndexRequest:
    """Class names and labels of the browsed splits of the model's dataset."""

    JOB: ClassVar[str] = _JOBS + "inspection:dataset_index"


@dataclass(frozen=True)
class DatasetImageRequest:
    """Image `index` of a split, analysed."""

    JOB: ClassVar[str] = _JOBS + "inspection:analyse_dataset_image"
    split: str
    index: int
    with_maps: bool = False


@dataclass(frozen=True)
class MisclassifiedRequest:
    """Every image of a split the current model gets wrong."""

    JOB: ClassVar[str] = _JOBS + "inspection:misclassified"
    split: str


# -- explanations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvaluateRequest:
    """Evaluate the current model on the validation or test split."""

    JOB: ClassVar[str] = _JOBS + "explanation:evaluate"
    split: str


@dataclass(frozen=True)
class ExplainRequest:
    """Saliency, SmoothGrad, Grad-CAM or HiResCAM of one image for a class (None: the predicted one)."""

    JOB: ClassVar[str] = _JOBS + "explanation:explain"
    image: np.ndarray
    method: str
    class_index: int | None = None
    layer: str | None = None
    samples: int = 25
    noise_level: float = 0.15


@dataclass(frozen=True)
class DatasetExampleRequest:
    """One image of the model's dataset, for the saliency page."""

    JOB: ClassVar[str] = _JOBS + "explanation:dataset_example"
    split: str
    index: int


@dataclass(frozen=True)
class MaximizeRequest:
    """Activation maximization of filters of `layer` or of output classes: the given numbers, or
    (`targets` an int N) the first N of them."""

    JOB: ClassVar[str] = _JOBS + "explanation:maximize"
    kind: str  # "filters" or "classes"
    layer: str | None
    targets: tuple[int, ...] | int
    settings: dict[str, Any] = field(default_factory=dict)  # Ascent options: steps, step_size, ...


# -- training ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRequest:
    """One training run, everything decided in the window."""

    JOB: ClassVar[str] = _JOBS + "training:train"
    project: Project  # a copy: later edits never reach a running job
    runs_folder: Path
    label: str | None = None
    watch_layer: str | None = None  # the first convolution layer, watched live
    initial_weights: Path | None = None  # a run directory or .keras file to start from
    evaluate_test: bool = True
    resume: Path | None = None  # an interrupted run's directory: carry it on from its last checkpoint


@dataclass(frozen=True)
class FinalLookRequest:
    """The watched layer of a finished run's model: its weights and its activations of the probe image."""

    JOB: ClassVar[str] = _JOBS + "training:final_look"
    layer: str
    probe_image: np.ndarray
    epoch: int


# -- runs: what two runs did differently, and which labels to check --------------------------------
@dataclass(frozen=True)
class RunImagesRequest:
    """Images of a run's split (its own project snapshot's dataset, split as it trained) at positions."""

    JOB: ClassVar[str] = _JOBS + "runs:run_images"
    run_dir: Path
    indices: tuple[int, ...]
    split: str = "validation"


@dataclass(frozen=True)
class LabelCheckRequest:
    """A folder-dataset run's most confidently wrong validation images, with their files and pictures."""

    JOB: ClassVar[str] = _JOBS + "runs:check_labels"
    run_dir: Path
    limit: int = 48


# -- experiments ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentRunRequest:
    """Train the next runs of the experiment in `folder`: at most `runs`, and none that would end after
    `minutes` (None: no limit). The window asks for one run at a time, so other jobs get their turn."""

    JOB: ClassVar[str] = _JOBS + "experiments:train_next"
    folder: Path
    runs: int | None = 1
    minutes: float | None = None
    evaluate_test: bool = True


# -- datasets ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewRequest:
    """The Dataset panel's view of a project's dataset: samples, counts, shapes (downloaded first if needed)."""

    JOB: ClassVar[str] = _JOBS + "datasets:preview"
    project: Project
    count: int = 32
    seed: int = 0


@dataclass(frozen=True)
class AugmentRequest:
    """Images passed through augmentation layers (node dicts: type, params) in training mode."""

    JOB: ClassVar[str] = _JOBS + "datasets:augment"
    images: np.ndarray
    layers: tuple[dict[str, Any], ...]
    seed: int = 0


# -- export and import ---------------------------------------------------------------------------
PLACE = "folder or file name"  # what the window's user changes to export somewhere else
@dataclass(frozen=True)
class ExportItem:
    """One file (or folder) to write."""

    key: str
    path: Path
    quantize: str | None = None


@dataclass(frozen=True)
class ExportPlan:
    """Everything an export needs: what to export from, and where each file goes."""

    JOB: ClassVar[str] = _JOBS + "exporting:export"
    project: Project  # the network exported (a run's snapshot, or the current project)
    run_dir: Path | None  # the trained run, or None for the untrained network
    items: tuple[ExportItem, ...] = ()
    tolerance: float | None = None  # largest difference accepted, relative to the output's scale (None: default)


@dataclass(frozen=True)
class ImportRequest:
    """Read a .keras/.h5 model safely and keep its weights in a new run folder."""

    JOB: ClassVar[str] = _JOBS + "importing:import_model_file"
    path: Path
    runs_folder: Path


# -- pretrained backbones ------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightsRequest:
    """Bring the ImageNet weights of every backbone of a network into Keras's cache (before training);
    events ("weights", (file name, bytes so far, total or None)); the answer is the backbones' ids."""

    JOB: ClassVar[str] = _JOBS + "backbones:fetch_weights"
    project: Project


# -- the machine ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DevicesRequest:
    """The devices the worker's Keras backend sees, in words."""

    JOB: ClassVar[str] = _JOBS + "system:devices"


@dataclass(frozen=True)
class PingRequest:
    """An answer as soon as the jobs before it are done (is the ML side there and caught up?)."""

    JOB: ClassVar[str] = _JOBS + "system:ping"
    KERAS: ClassVar[bool] = False
    value: Any = None
