"""Task kinds: what a network is trained to do, decided by its data and its output layer.

- "classification": one class per image (K units with softmax, or logits);
- "binary": two classes scored by one sigmoid unit;
- "multilabel": several yes/no labels per image (K sigmoid units, multi-hot targets);
- "segmentation": a class per pixel (an H x W x K output, masks of class numbers);
- "regression": numbers (D units without activation, float targets).

A dataset's targets imply its task (`DatasetInfo.task`); the project's `training.task`
("auto" by default) may choose another that the data allows. Pure Python: the trainer, the
exported script, the summary and the editor read the same rules here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import UserError

CLASSIFICATION, BINARY, MULTILABEL = "classification", "binary", "multilabel"
SEGMENTATION, REGRESSION = "segmentation", "regression"
TASKS = (CLASSIFICATION, BINARY, MULTILABEL, SEGMENTATION, REGRESSION)
AUTO = "auto"
TASK_SETTINGS = (AUTO, *TASKS)  # the values of a project's training "task"

TASK_TITLES = {
    CLASSIFICATION: "classification (one class per image)",
    BINARY: "binary classification (yes or no)",
    MULTILABEL: "multi-label classification (several labels per image)",
    SEGMENTATION: "segmentation (a class per pixel)",
    REGRESSION: "regression (numbers)",
}

# The figures each task reports beside loss (and accuracy: for segmentation the pixel accuracy,
# for regression none), as metrics.csv columns after the contract's five and as `test_<name>`.
EXTRA_METRICS: dict[str, tuple[str, ...]] = {
    CLASSIFICATION: (), BINARY: (), MULTILABEL: ("auc",), SEGMENTATION: ("mean_iou",), REGRESSION: ("mae",),
}
# The one figure experiments rank runs by; every one is higher-is-better except MAE.
MAIN_METRIC = {CLASSIFICATION: "accuracy", BINARY: "accuracy", MULTILABEL: "auc", SEGMENTATION: "mean_iou",
               REGRESSION: "mae"}
METRIC_TITLES = {"accuracy": "accuracy", "auc": "AUC", "mean_iou": "mean IoU", "mae": "MAE",
                 "pixel_accuracy": "pixel accuracy"}
LOWER_IS_BETTER = frozenset({"mae", "loss"})

# What each task of the data allows the project's "task" setting to be.
_ALLOWED = {
    CLASSIFICATION: (CLASSIFICATION, BINARY, REGRESSION),  # class numbers can also be learned as values
    MULTILABEL: (MULTILABEL,),
    SEGMENTATION: (SEGMENTATION,),
    REGRESSION: (REGRESSION,),
}
_DATA_WORDS = {CLASSIFICATION: "one class label per image", MULTILABEL: "several 0/1 labels per image",
               SEGMENTATION: "a mask of classes per image", REGRESSION: "numbers to predict"}


@dataclass(frozen=True)
class OutputFacts:
    """What the checks need to know about the output layer: its shape (no batch axis) and activation."""

    shape: tuple[int | None, ...]
    activation: str | None

    @property
    def units(self) -> int | None:
        return self.shape[-1] if self.shape else None


def data_words(data_task: str) -> str:
    return _DATA_WORDS.get(data_task, data_task)


def allowed_tasks(data_task: str, num_classes: int | None) -> tuple[str, ...]:
    """The tasks a dataset whose targets imply `data_task` can be trained for."""
    allowed = _ALLOWED.get(data_task, (data_task,))
    if data_task == CLASSIFICATION and num_classes is not None and num_classes != 2:
        allowed = tuple(t for t in allowed if t != BINARY)
    return allowed


def choose_task(setting: str, data_task: str, output: OutputFacts, num_classes: int | None,
                dataset_name: str = "the dataset") -> str:
    """The task to train: `setting` when the data allows it, or (for "auto") the one the data and the
    output imply. UserError saying what would fit when the setting does not suit the data."""
    if setting not in TASK_SETTINGS:
        raise UserError(f'training "task" is {setting!r}; it must be one of ' + ", ".join(TASK_SETTINGS))
    if setting == AUTO:
        if data_task == CLASSIFICATION and output.units == 1 and len(output.shape) == 1 and num_classes == 2:
            return BINARY
        return data_task
    allowed = allowed_tasks(data_task, num_classes)
    if setting not in allowed:
        raise UserError(f"training \"task\" is \"{setting}\" but '{dataset_name}' holds {data_words(data_task)}; "
                        f"use \"auto\" or " + " or ".join(f'"{t}"' for t in allowed))
    return setting


def fit_problems(task: str, output: OutputFacts, *, input_shape: Sequence[int | None] | None = None,
                 num_classes: int | None = None, values: int | None = None,
                 dataset_name: str = "the dataset") -> list[str]:
    """Plain sentences saying why an output layer cannot be trained for `task` on the data; [] when it can.

    Classification and binary outputs are checked by the analysis (`analyze(..., num_classes=...)`);
    this covers the other kinds. `num_classes`: classes of a multi-label or segmentation dataset (None:
    known only once loaded); `values`: how many numbers each regression target has.
    """
    shape, activation, what = tuple(output.shape), output.activation, f"'{dataset_name}'"
    problems: list[str] = []
    if task == MULTILABEL:
        if len(shape) != 1:
            problems.append(f"a multi-label output must be a flat vector of one score per label, but this one is "
                            f"{_dims(shape)}; add Flatten or GlobalAveragePooling2D and a Dense layer")
        elif num_classes is not None and shape[-1] != num_classes:
            problems.append(f"outputs {shape[-1]} values but {what} has {num_classes} labels; set units to "
                            f"{num_classes}")
        if activation == "softmax":
            problems.append("softmax makes the labels compete for one share; several labels per image need "
                            "sigmoid (or no activation)")
    elif task == SEGMENTATION:
        if len(shape) != 3:
            problems.append(f"a segmentation output must be a map of class scores (height x width x classes), "
                            f"but this one is {_dims(shape)}; end with a 1x1 Conv2D with one filter per class")
            return problems
        if input_shape is not None and len(input_shape) == 3:
            wanted = tuple(input_shape[:2])
            if None not in wanted and None not in shape[:2] and tuple(shape[:2]) != wanted:
                problems.append(f"the output map is {_dims(shape[:2])} but the masks are {_dims(wanted)} like the "
                                "images; upsample back to the input size (UpSampling2D or Conv2DTranspose)")
        if shape[-1] is not None and shape[-1] < 2:
            problems.append("the output has 1 channel; give it one channel per class (background included) "
                            "with softmax")
        elif num_classes is not None and shape[-1] is not None and shape[-1] < num_classes:
            problems.append(f"the output has {shape[-1]} channels but {what} has {num_classes} classes; "
                            f"set the filters of the last layer to {num_classes}")
        if activation not in ("softmax", None, "linear"):
            problems.append(f"the output uses {activation}; a per-pixel classifier's last layer needs softmax "
                            "(or no activation)")
    elif task == REGRESSION:
        if len(shape) != 1:
            problems.append(f"a regression output must be a flat vector of numbers, but this one is {_dims(shape)}; "
                            "add Flatten or GlobalAveragePooling2D and a Dense layer")
        elif values is not None and shape[-1] != values:
            problems.append(f"outputs {shape[-1]} values but {what} has {values} number(s) per image; set units "
                            f"to {values}")
        if activation == "softmax":
            problems.append("softmax makes the outputs add up to 1; predicting numbers needs no activation "
                            "(linear)")
    return problems


def target_values(data_task: str, target_shape: Sequence[int] | None) -> int | None:
    """How many numbers each target holds when learned as values: 1 for a class label, D for (D,)
    values; None when not known before loading."""
    if data_task == CLASSIFICATION:
        return 1
    if target_shape is None:
        return None
    return int(target_shape[0]) if len(target_shape) else 1


def main_metric(task: str) -> str:
    """The figure experiments compare runs by: accuracy, AUC, mean IoU or MAE."""
    return MAIN_METRIC.get(task, "accuracy")


def metric_columns(task: str) -> tuple[str, ...]:
    """The metrics.csv columns a task adds after `epoch,loss,accuracy,val_loss,val_accuracy`."""
    return tuple(column for name in EXTRA_METRICS.get(task, ()) for column in (name, f"val_{name}"))


def _dims(shape: Sequence[int | None]) -> str:
    return "x".join("?" if s is None else str(s) for s in shape) or "a single number"


def classifier_classes(data_task: str | None, num_classes: int | None, setting: str = AUTO) -> int | None:
    """The class count the analysis checks an output against (`analyze(..., num_classes=...)`): the
    dataset's classes when it trains a classifier, else None (other outputs: `output_fit_problems`)."""
    if data_task not in (None, CLASSIFICATION) or setting in (REGRESSION, MULTILABEL, SEGMENTATION):
        return None
    return num_classes


def implied_task(network, analysis, data, setting: str = AUTO) -> tuple[str | None, str]:
    """(the task the network would train for on `data`, "") or (None, why not in a sentence), from the
    network's one output and the data's description (a `DatasetInfo`)."""
    outputs = [n for n in network.output_nodes() if network.nodes[n].type != "Input"]
    if len(outputs) != 1:
        return None, f"training needs one output layer; this network has {len(outputs)}"
    info = analysis.layers.get(outputs[0])
    if info is None or not info.output_shape:
        return None, "the network has errors; fix them first"
    activation = "softmax" if info.type == "Softmax" else (info.resolved or {}).get("activation")
    try:
        return choose_task(setting or AUTO, data.task, OutputFacts(tuple(info.output_shape), activation),
                           data.num_classes, data.name), ""
    except UserError as exc:
        return None, str(exc)


def output_fit_problems(network, analysis, data, setting: str = AUTO) -> list[str]:
    """Why the network's one output cannot learn `data`'s targets (a `DatasetInfo` or a loaded dataset) for
    the task it would train for, as "node: sentence" lines; [] when it can, for classifiers (the analysis
    checks those) and for networks that have several outputs or errors."""
    outputs = [n for n in network.output_nodes() if network.nodes[n].type != "Input"]
    inputs = network.input_nodes()
    if len(outputs) != 1 or len(inputs) != 1 or analysis.errors:
        return []
    info = analysis.layers.get(outputs[0])
    if info is None or not info.output_shape:
        return []
    activation = "softmax" if info.type == "Softmax" else (info.resolved or {}).get("activation")
    output = OutputFacts(tuple(info.output_shape), activation)
    try:
        task = choose_task(setting or AUTO, data.task, output, data.num_classes, data.name)
    except UserError as exc:
        return [str(exc)]
    if task in (CLASSIFICATION, BINARY):
        return []
    problems = fit_problems(task, output, input_shape=analysis.layers[inputs[0]].output_shape,
                            num_classes=data.num_classes if task in (MULTILABEL, SEGMENTATION) else None,
                            values=target_values(data.task, data.target_shape) if task == REGRESSION else None,
                            dataset_name=data.name)
    return [f"{outputs[0]}: {p}" for p in problems]
