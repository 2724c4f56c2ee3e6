"""Everything checked before training starts, cheapest first, each with a plain message.

1. the network has one input and one output, and no errors;
2. the dataset exists and fits the network (shape, classes), known from its
   description when possible, so a mismatch is reported before any download;
3. the model fits in memory (estimated from the analysis, before building anything);
4. then the dataset is loaded and checked once more, and the loss is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.analysis import Analysis, analyze
from ...core.datasets import check_input_compatibility, dataset_info
from ...core.errors import DatasetError, UserError
from ...core.label_edits import LabelEdits
from ...core.project import Project
from .memory import check_memory
from .settings import LossChoice, TrainingSettings, choose_loss


@dataclass(frozen=True)
class NetworkFacts:
    """What the trainer needs to know about the network, from the analysis."""

    input_id: str
    output_id: str
    input_shape: tuple[int | None, ...]
    output_units: int
    output_activation: str | None
    analysis: Analysis


def network_facts(project: Project, settings: TrainingSettings, num_classes: int | None) -> NetworkFacts:
    """Check the network's structure and analysis; UserError naming the node at fault."""
    network = project.network
    where = project.path.name if project.path else project.name
    inputs, outputs = network.input_nodes(), [n for n in network.output_nodes() if network.nodes[n].type != "Input"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(f"{where}: training needs a network with exactly one Input and one output layer; "
                        f"this one has {len(inputs)} input(s) and {len(outputs)} output(s)")
    first = analyze(network)
    out_info = first.layers.get(outputs[0])
    units = out_info.output_shape[-1] if out_info and out_info.output_shape else None
    loss = settings.loss
    if loss == "auto":
        loss = "binary_crossentropy" if units == 1 and num_classes == 2 else None
    analysis = analyze(network, loss=loss, num_classes=num_classes)
    problems = analysis.errors + analysis.data_fit_problems  # a network that does not suit the data cannot train
    if problems:
        problem = problems[0]
        node = f"node '{problem.node}': " if problem.node else ""
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise UserError(f"{where}: {node}{problem.message}{more}")
    out_info = analysis.layers[outputs[0]]
    activation = "softmax" if out_info.type == "Softmax" else (out_info.resolved or {}).get("activation")
    return NetworkFacts(inputs[0], outputs[0], tuple(analysis.layers[inputs[0]].output_shape or ()),
                        int(out_info.output_shape[-1]), activation, analysis)


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
        shape, classes, resized = dataset.input_shape, dataset.num_classes, False
    else:
        info = dataset_info(dataset_name)
        shape, classes = info.input_shape, info.num_classes
        resized = project.dataset.get("image_size") is not None or project.dataset.get("color_mode") is not None
    facts = network_facts(project, settings, classes)
    if shape is not None and not resized:
        check_fit(shape, facts, classes, dataset_name)
    check_memory(facts.analysis, settings.batch_size)
    return facts


def check_fit(shape: tuple[int, ...], facts: NetworkFacts, num_classes: int | None, name: str) -> None:
    problems = check_input_compatibility(shape, facts.input_shape, num_classes, facts.output_units,
                                         dataset_name=name)
    if problems:
        raise DatasetError(problems[0])


def check_loaded(dataset, facts: NetworkFacts, settings: TrainingSettings) -> LossChoice:
    """Step 4: the loaded dataset fits the network; the loss that goes with the output layer."""
    check_fit(dataset.input_shape, facts, dataset.num_classes, dataset.name)
    if dataset.num_train == 0:
        raise DatasetError(f"'{dataset.name}' has no training images")
    if dataset.num_classes < 2:
        raise DatasetError(f"'{dataset.name}' has only one class; a classifier needs at least two")
    return choose_loss(settings.loss, facts.output_activation, facts.output_units, dataset.num_classes,
                       where=f"the output layer '{facts.output_id}'")
