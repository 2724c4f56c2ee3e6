"""Everything checked before training starts, cheapest first, each with a plain message.

1. the network has one input and one output, and no errors;
2. the task is chosen (the project's `training.task`, or what the data and the output imply)
   and the dataset fits the network for it (shape, classes, masks, values), known from its
   description when possible, so a mismatch is reported before any download;
3. the model fits in memory (estimated from the analysis, before building anything);
4. then the dataset is loaded and checked once more, and the loss is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.analysis import Analysis, analyze
from ...core.catalog import CATALOG, get_spec
from ...core.datasets import check_input_compatibility, dataset_info
from ...core.errors import DatasetError, UserError
from ...core.label_edits import LabelEdits
from ...core.project import Project
from ...core.tasks import (
    BINARY,
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    SEGMENTATION,
    OutputFacts,
    choose_task,
    fit_problems,
    target_values,
)
from .memory import check_memory
from .settings import LossChoice, TrainingSettings, choose_loss


@dataclass(frozen=True)
class DataFacts:
    """What the checks need to know about a dataset: from its description, or once loaded."""

    name: str
    task: str  # what the targets imply: classification, multilabel, segmentation or regression
    num_classes: int | None
    input_shape: tuple[int, ...] | None
    target_shape: tuple[int, ...] | None

    @classmethod
    def of(cls, source: Any) -> DataFacts:
        """From a `DatasetInfo` or a loaded `Dataset` (both name these the same)."""
        shape = source.input_shape
        target = source.target_shape
        return cls(source.name, source.task, source.num_classes, None if shape is None else tuple(shape),
                   None if target is None else tuple(target))



@dataclass(frozen=True)
class NetworkFacts:
    """What the trainer needs to know about the network, from the analysis, and the task it trains for."""

    input_id: str
    output_id: str
    input_shape: tuple[int | None, ...]
    output_units: int
    output_activation: str | None
    analysis: Analysis
    output_shape: tuple[int | None, ...] = ()
    task: str = CLASSIFICATION


def network_facts(project: Project, settings: TrainingSettings, data: DataFacts) -> NetworkFacts:
    """Check the network's structure and analysis and choose the task; UserError naming the node at fault."""
    network = project.network
    where = project.path.name if project.path else project.name
    inputs, outputs = network.input_nodes(), [n for n in network.output_nodes() if network.nodes[n].type != "Input"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(f"{where}: training needs a network with exactly one Input and one output layer; "
                        f"this one has {len(inputs)} input(s) and {len(outputs)} output(s)")
    first = analyze(network)
    _refuse(where, first.errors)
    out_info = first.layers[outputs[0]]
    activation = "softmax" if out_info.type == "Softmax" else (out_info.resolved or {}).get("activation")
    output = OutputFacts(tuple(out_info.output_shape or ()), activation)
    task = choose_task(settings.task, data.task, output, data.num_classes, data.name)
    analysis = first
    if task in (CLASSIFICATION, BINARY):
        loss = settings.loss
        if loss == "auto":
            loss = "binary_crossentropy" if task == BINARY else None
        analysis = analyze(network, loss=loss, num_classes=data.num_classes)
        _refuse(where, analysis.errors + analysis.data_fit_problems)  # an output that does not suit the data
    input_shape = tuple(analysis.layers[inputs[0]].output_shape or ())
    problems = _task_problems(task, output, input_shape, data)
    if problems:
        raise UserError(f"{where}: node '{outputs[0]}': {problems[0]}"
                        + (f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    return NetworkFacts(inputs[0], outputs[0], input_shape, int(output.units or 0), activation, analysis,
                        output.shape, task)


def _refuse(where: str, problems: list) -> None:
    if problems:
        problem = problems[0]
        node = f"node '{problem.node}': " if problem.node else ""
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise UserError(f"{where}: {node}{problem.message}{more}")


def _task_problems(task: str, output: OutputFacts, input_shape: tuple, data: DataFacts) -> list[str]:
    """Why the output cannot learn the data's targets for a task other than classification; [] when it can."""
    if task in (CLASSIFICATION, BINARY):
        return []
    classes = data.num_classes if task in (MULTILABEL, SEGMENTATION) else None
    return fit_problems(task, output, input_shape=input_shape, num_classes=classes,
                        values=target_values(data.task, data.target_shape) if task == REGRESSION else None,
                        dataset_name=data.name)


def dataset_options(project: Project, settings: TrainingSettings) -> dict[str, Any]:
    """Keyword arguments for `load_dataset` from the project's dataset section and the settings."""
    section = project.dataset
    return {"validation_split": settings.validation_split, "seed": settings.seed,
            "normalization": settings.normalization, "permute_pixels": section.get("permute_pixels"),
            "image_size": section.get("image_size"), "color_mode": section.get("color_mode"),
            "label_edits": LabelEdits.from_dataset(section)}


def precheck(project: Project, settings: TrainingSettings, dataset_name: str, dataset=None) -> NetworkFacts:
    """Steps 1-3: before any dataset is loaded (pass `dataset` when it already is) or model built."""
    if dataset is not None:
        data, resized = DataFacts.of(dataset), False
    else:
        data = DataFacts.of(dataset_info(dataset_name))
        resized = project.dataset.get("image_size") is not None or project.dataset.get("color_mode") is not None
    facts = network_facts(project, settings, data)
    if settings.fine_tune and not backbone_ids(project.network):
        where = project.path.name if project.path else project.name
        raise UserError(f"{where}: the fine-tuning recipe trains a pretrained backbone, and this network has none; "
                        'add one from the Pretrained section, or set training "fine_tune" to null')
    if data.input_shape is not None and not resized:
        check_fit(data.input_shape, facts, data.num_classes, data.name)
    check_memory(facts.analysis, settings.batch_size)
    return facts


def backbone_ids(network) -> list[str]:
    """The ids of the network's pretrained backbones (keras.applications nodes), in the network's order."""
    return [node_id for node_id in network.topological_order()
            if network.nodes[node_id].type in CATALOG and get_spec(network.nodes[node_id].type).category == "Pretrained"]


def check_fit(shape: tuple[int, ...], facts: NetworkFacts, num_classes: int | None, name: str) -> None:
    """The images fit the Input; for classification, the output's units fit the classes."""
    classifies = facts.task in (CLASSIFICATION, BINARY)
    problems = check_input_compatibility(shape, facts.input_shape, num_classes if classifies else None,
                                         facts.output_units if classifies else None, dataset_name=name)
    if problems:
        raise DatasetError(problems[0])


def check_loaded(dataset, facts: NetworkFacts, settings: TrainingSettings) -> LossChoice:
    """Step 4: the loaded dataset fits the network for the task; the loss that goes with both."""
    check_fit(dataset.input_shape, facts, dataset.num_classes, dataset.name)
    if dataset.num_train == 0:
        raise DatasetError(f"'{dataset.name}' has no training images")
    task, where = facts.task, f"the output layer '{facts.output_id}'"
    if task in (CLASSIFICATION, BINARY) and dataset.num_classes < 2:
        raise DatasetError(f"'{dataset.name}' has only one class; a classifier needs at least two")
    if task == SEGMENTATION:
        beyond = dataset.first_mask_beyond(facts.output_units)
        if beyond is not None:
            top = facts.output_units - 1
            raise DatasetError(f"{beyond} has a class number above {top}, but {where} has {facts.output_units} "
                               f"channels (classes 0 .. {top}); fix the mask, or give the output one channel "
                               "per class")
    problems = _task_problems(task, OutputFacts(facts.output_shape, facts.output_activation), facts.input_shape,
                              DataFacts.of(dataset))
    if problems:
        raise DatasetError(f"{where}: {problems[0]}")
    if settings.class_weight is not None and task not in (CLASSIFICATION, BINARY):
        raise UserError(f'training "class_weight" weighs whole images by their class; it does not apply to '
                        f"{task}: set it to null")
    return choose_loss(settings.loss, facts.output_activation, facts.output_units, dataset.num_classes, where=where,
                       task=task)
