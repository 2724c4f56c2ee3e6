"""What ML jobs send back to the window: plain dataclasses of NumPy arrays, numbers and paths.

No TensorFlow here (the window imports this module); everything pickles, so a result can
as well come from another process. Training reports (`BatchReport`, `EpochReport`,
`Snapshot`, `TrainingResult`) live beside the trainer in `cnnstudio.ml.training.reporting`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiments import PlannedRun
from cnnstudio.core.label_edits import Suspect
from cnnstudio.core.network import Network
from cnnstudio.core.project import Project

from .task_results import MultiLabelEvaluation, RegressionEvaluation, SegmentationEvaluation

# What a split is called in a sentence ("training image 3 (a 7)").
SPLIT_WORDS = {"train": "training", "validation": "validation", "test": "test"}
BROWSED_SPLITS = ("validation", "train")  # what the dataset browser offers
EVALUATED_SPLITS = ("validation", "test")  # what the evaluation page offers


# -- the model under inspection ------------------------------------------------------------------
@dataclass(frozen=True)
class LayerFacts:
    name: str
    type: str
    output_shape: tuple  # without the batch axis
    is_conv: bool
    is_spatial: bool  # outputs feature maps (positions x channels)


@dataclass(frozen=True)
class ModelFacts:
    """A summary of the model under inspection."""

    source: str  # "untrained network" or the run's folder name
    run_dir: Path | None
    project: Project  # the project the model was built from (the run's snapshot for runs)
    layers: tuple[LayerFacts, ...]
    input_shape: tuple
    output_activation: str | None
    grad_cam_layer: str | None

    @property
    def conv_layers(self) -> list[str]:
        return [layer.name for layer in self.layers if layer.is_conv]

    @property
    def spatial_layers(self) -> list[str]:
        return [layer.name for layer in self.layers if layer.is_spatial]

    @property
    def trained(self) -> bool:
        return self.run_dir is not None


# -- datasets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetPreview:
    """A dataset's facts and a few of its images, for the Dataset panel."""

    name: str
    class_names: tuple[str, ...]
    input_shape: tuple[int, ...]  # (H, W, C) as the network receives it
    counts: dict[str, np.ndarray]  # split -> images per class
    images: np.ndarray  # (N, H, W, C) float32, transformed as for training
    labels: np.ndarray  # (N,) int
    normalization: str
    warnings: tuple[str, ...]

    def split_size(self, split: str) -> int:
        return int(self.counts[split].sum())


@dataclass(frozen=True)
class DatasetIndex:
    """What the browser needs to know of the project's dataset (no images)."""

    name: str
    class_names: tuple[str, ...]
    labels: dict[str, np.ndarray]  # split -> labels, in split order
    input_shape: tuple


@dataclass(frozen=True)
class DatasetExample:
    """One image of a split, with what the saliency page shows beside it."""

    image: np.ndarray
    label: int  # -1 where the image has no single class (segmentation, regression, multi-label)
    class_names: tuple[str, ...]
    split_size: int  # images in the split
    index: int  # the position asked for, kept within the split


# -- inputs and what the network makes of them --------------------------------------------------
@dataclass(frozen=True)
class InputImage:
    """One network input: ``image`` is (H, W, C) float32, prepared exactly as training data are."""

    image: np.ndarray
    title: str  # e.g. "test image 17 (a 7)", "drawn by hand", "cat.png"
    label: int | None = None  # the true class, when known
    origin: str = "dataset"  # "dataset", "file" or "drawing"
    split: str | None = None  # for dataset images: "train", "validation" or "test"
    index: int | None = None  # for dataset images: the position in that split


@dataclass(frozen=True)
class Analysis:
    """What the network makes of one input: class probabilities and (if asked) every layer's output."""

    input: InputImage
    probabilities: np.ndarray | None
    activations: dict[str, np.ndarray] | None = None  # layer -> output without the batch axis
    orders: dict[str, np.ndarray] = field(default_factory=dict)  # spatial layer -> busiest channels first
    note: str = ""  # e.g. how a user's picture was converted


@dataclass(frozen=True)
class LayerKernels:
    """A convolution layer's filters, every input channel kept: `kernels` (n, kh, kw, in)."""

    layer: str
    layer_type: str
    kernels: np.ndarray
    biases: np.ndarray | None


@dataclass(frozen=True)
class Misclassified:
    """Images of a split the current model gets wrong: positions, predicted classes, confidence."""

    split: str
    indices: np.ndarray
    predicted: np.ndarray  # predicted class of every image of the split
    confidence: np.ndarray  # probability of the predicted class, every image of the split


# -- explanations --------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """Results on N images of K classes.

    `confusion[t, p]` counts images of true class t predicted as p (rows: truth).
    Per-class `precision`, `recall`, `f1` are 0 where undefined (a class never
    predicted, or with no images); `support` is the number of images per true class.
    """

    class_names: tuple[str, ...]
    labels: np.ndarray  # (N,) true class
    predictions: np.ndarray  # (N,) predicted class
    probabilities: np.ndarray  # (N, K)
    confusion: np.ndarray  # (K, K) int64
    accuracy: float
    precision: np.ndarray  # (K,)
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # (K,) int64

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def confidence(self) -> np.ndarray:
        """(N,) the probability the network gave its own prediction."""
        return self.probabilities[np.arange(self.count), self.predictions]

    @property
    def macro_f1(self) -> float:
        """The mean F1 over classes that have images (each class counts the same)."""
        present = self.support > 0
        return float(self.f1[present].mean()) if present.any() else 0.0

    def cell_indices(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the images of class `true` predicted as `predicted`, most confident first."""
        k = len(self.class_names)
        if not (0 <= true < k and 0 <= predicted < k):
            raise UserError(f"classes are numbered 0 to {k - 1}; ({true}, {predicted}) is not a cell")
        found = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        return found[np.argsort(-self.confidence[found], kind="stable")]

    @property
    def misclassified(self) -> np.ndarray:
        """Indices of wrongly classified images, the most confident mistakes first."""
        found = np.flatnonzero(self.labels != self.predictions)
        return found[np.argsort(-self.confidence[found], kind="stable")]


@dataclass
class EvaluationOutcome:
    """An evaluation of one split (``evaluation`` is None when the person cancelled it, or when the task is
    not classification: then ``segmentation``, ``regression`` or ``multilabel`` holds the figures)."""

    split: str
    source: str  # which model: "untrained network" or the run's folder name
    evaluation: Evaluation | None
    images: np.ndarray | None  # the split's network inputs, for thumbnails and opening one
    cancelled: bool = False
    done: int = 0
    total: int = 0
    task: str = "classification"
    segmentation: SegmentationEvaluation | None = None
    regression: RegressionEvaluation | None = None
    multilabel: MultiLabelEvaluation | None = None


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


# -- runs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunImages:
    """Images of one split of a run's dataset, as its network received them."""

    run_dir: Path
    split: str
    indices: np.ndarray  # positions in the split
    images: np.ndarray  # (n, H, W, C) float32 network inputs
    labels: np.ndarray  # (n,) the class each is filed under
    class_names: tuple[str, ...]


@dataclass(frozen=True)
class LabelCheck:
    """"Check these labels" for a folder-dataset run: its most confident mistakes on validation images.

    `suspects` have paths relative to `root`, the most confident mistake first; `images[i]` is the picture of `suspects[i]` as the network saw it.
    """

    run_dir: Path
    dataset: str  # "folder:PATH", as the run names it
    root: Path
    class_names: tuple[str, ...]
    epoch: int  # the epoch whose predictions were read (the run's last)
    validated: int  # validation images the run predicted
    suspects: tuple[Suspect, ...]
    images: np.ndarray


# -- training, export, import --------------------------------------------------------------------
@dataclass(frozen=True)
class ProbeImage:
    """The validation image whose feature maps are shown while training."""

    image: np.ndarray  # (H, W, C) as the network sees it
    label: int  # -1 where the image has no single class (segmentation, regression, multi-label)
    class_name: str
    split: str


@dataclass(frozen=True)
class ItemResult:
    """How one exported file went: written and checked (`ok`), or why not."""

    key: str
    path: Path
    ok: bool
    size_bytes: int = 0
    detail: str = ""  # the check's outcome, or the reason for a failure, in plain words
    size_before_bytes: int | None = None  # TFLite quantized: the unquantized size


@dataclass(frozen=True)
class ImportedModel:
    """A Keras model read as an editable network, its weights kept in a new run folder."""

    name: str
    network: Network
    notes: tuple[str, ...]
    run_dir: Path


# -- experiments ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentRunStarted:
    """Event "run_started": which run of the experiment trains now, and how far the experiment is."""

    run: PlannedRun  # a copy: its index, values, seed and run folder
    total: int  # runs planned in the experiment
    done: int  # runs of it trained before this one


@dataclass(frozen=True)
class ExperimentStep:
    """What one experiment job trained, and what is left."""

    folder: Path
    trained: tuple[PlannedRun, ...]  # copies, in the order they were trained
    left: int  # runs still to train
    seconds: float
    stopped: bool = False  # stopped by request: the run in progress is kept, marked stopped
    time_spent: bool = False  # the time budget ran out


def human_size(size: int) -> str:
    """A file size in words: 512 B, 3.4 KiB, 12.0 MiB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 ** 2:
        return f"{size / 1024:,.1f} KiB"
    return f"{size / 1024 ** 2:,.1f} MiB"


@dataclass(frozen=True)
class Device:
    """A device a backend sees (`cnnstudio.ml.devices`)."""

    kind: str  # "CPU", "GPU", "TPU", "MPS", ...
    name: str  # the GPU's model name, or "" for the processor
    memory: int | None = None  # bytes the device has (or the backend may use), when known

    def describe(self) -> str:
        """"GPU: NVIDIA H200 (140 GB)", "CPU"."""
        text = self.kind if not self.name or self.name.upper() == self.kind else f"{self.kind}: {self.name}"
        return text + (f" ({self.memory / 1e9:.0f} GB)" if self.memory else "")
