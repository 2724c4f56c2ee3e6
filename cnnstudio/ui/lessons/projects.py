"""The projects the lessons open and train (plain Python, no Qt, no TensorFlow).

Epochs are kept small so that every lesson trains in well under a minute on a
laptop's CPU; ``overrides`` lets a test make them tinier still.
"""

from __future__ import annotations

from typing import Any

from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
from cnnstudio.core.project import Project, project_from_dict
from cnnstudio.core.templates import load_template

SHUFFLE_SEED = 1234  # one fixed permutation of the pixels for the shuffled runs
SHUFFLED_SEEDS = 3  # seeds per arm: enough for Welch's t-test to tell seed noise from a difference
SHUFFLED_EPOCHS = 2


def with_training(project: Project, overrides: dict[str, Any] | None = None, **settings: Any) -> Project:
    """``project`` with these training settings (and a test's ``overrides`` on top)."""
    project.training.update(settings)
    project.training.update(overrides or {})
    return project


def _network(name: str, layers: list[tuple[str, str, dict[str, Any]]], dataset: str,
             training: dict[str, Any], description: str) -> Project:
    """A straight stack of layers as a project; ``layers`` are (id, Keras type, params)."""
    nodes = [{"id": node_id, "type": kind, "params": params} for node_id, kind, params in layers]
    edges = [[a[0], b[0]] for a, b in zip(layers, layers[1:])]
    return project_from_dict({
        "format": "cnnstudio-project", "version": 1, "name": name,
        "network": {"nodes": nodes, "edges": edges},
        "dataset": {"name": dataset, "permute_pixels": None},
        "training": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64, "epochs": 3,
                     "validation_split": 0.1, "seed": 0, **training},
        "description": description,
    }, where=name)


def parameter_pair() -> tuple[Project, Project]:
    """The MLP and LeNet-5, both for 28×28×1 digits."""
    return load_template("mlp"), load_template("lenet5")


def shuffled_experiments(overrides: dict[str, Any] | None = None) -> list[tuple[str, Project, ExperimentSpec]]:
    """The shuffled-pixels lesson's two experiments, the MLP's then LeNet-5's: (network, project, spec), each
    training original and shuffled pixels with SHUFFLED_SEEDS seeds."""
    experiments = []
    for template, title in (("mlp", "the MLP"), ("lenet5", "LeNet-5")):
        project = with_training(load_template(template), overrides, epochs=SHUFFLED_EPOCHS)
        project.dataset["permute_pixels"] = None
        project.name = f"{load_template(template).name}, original or shuffled pixels"
        spec = ExperimentSpec(vary=(Variation("dataset.permute_pixels", (None, SHUFFLE_SEED)),), seeds=SHUFFLED_SEEDS)
        experiments.append((title, project, spec))
    return experiments


def x_vs_o_project(overrides: dict[str, Any] | None = None) -> Project:
    """A small CNN for the x-vs-o pictures: few filters, so each one can be looked at."""
    project = _network(
        "X or O",
        [
            ("input", "Input", {"shape": [28, 28, 1]}),
            ("strokes", "Conv2D", {"filters": 8, "kernel_size": 5, "activation": "relu"}),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            ("shapes", "Conv2D", {"filters": 16, "kernel_size": 3, "activation": "relu"}),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("output", "Dense", {"units": 2, "activation": "softmax"}),
        ],
        "x-vs-o",
        {"learning_rate": 0.003, "batch_size": 32, "epochs": 4},
        "Eight 5x5 stroke filters, sixteen 3x3 shape filters, and a choice between O and X.",
    )
    return with_training(project, overrides)


def edge_detector_project(overrides: dict[str, Any] | None = None) -> Project:
    """The edge-detector template on the stripes, trained a little shorter."""
    project = load_template("edge-detector")
    return with_training(project, overrides, epochs=min(int(project.training.get("epochs", 8)), 8))


EDGE_FILTER = "edge_filter"  # the edge-detector template's one convolution


def deep_stack_project() -> Project:
    """Six 3×3 convolutions with two poolings between them, for 28×28 digits."""
    conv = {"kernel_size": 3, "padding": "same", "activation": "relu"}
    return _network(
        "Deep stack of 3x3 convolutions",
        [
            ("input", "Input", {"shape": [28, 28, 1]}),
            ("conv1", "Conv2D", {"filters": 8, **conv}),
            ("conv2", "Conv2D", {"filters": 8, **conv}),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            ("conv3", "Conv2D", {"filters": 16, **conv}),
            ("conv4", "Conv2D", {"filters": 16, **conv}),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("conv5", "Conv2D", {"filters": 32, **conv}),
            ("conv6", "Conv2D", {"filters": 32, **conv}),
            ("global_pool", "GlobalAveragePooling2D", {}),
            ("output", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        "mnist-sample",
        {},
        "Receptive fields grow by 2 per 3x3 convolution, and twice as fast after each pooling.",
    )
