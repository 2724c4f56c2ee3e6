"""Does the network fit its data? Problems in plain words, each with one-click fixes.

A fix either changes the network (an undoable command, tried first on a copy: only
fixes after which the network has no errors are offered) or changes how the dataset
is loaded (image size, colour, normalization — project settings).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtGui import QUndoCommand

from cnnstudio.core.analysis import Analyzer
from cnnstudio.core.catalog import CATALOG, get_spec
from cnnstudio.core.datasets import check_input_compatibility
from cnnstudio.core.network import Network

from . import edits

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class DataFacts:
    """What the network must fit: the images as loaded (after any resize/colour change) and the classes."""

    name: str
    shape: tuple[int, int, int] | None  # (H, W, C)
    num_classes: int | None
    normalization: str = "scale"
    own_shape: tuple[int, int, int] | None = None  # the dataset's shape before the project's resize/colour


@dataclass(frozen=True)
class Fix:
    """One click that solves a problem: a network edit, or new dataset/training settings."""

    label: str
    tooltip: str = ""
    command: Callable[[Network], QUndoCommand] | None = None  # built against the live network
    dataset: dict[str, Any] = field(default_factory=dict)  # keys to set in project.dataset
    training: dict[str, Any] = field(default_factory=dict)  # keys to set in project.training


@dataclass(frozen=True)
class Problem:
    severity: str
    text: str
    fixes: tuple[Fix, ...] = ()


FIXES_TRIED_UP_TO = 2000  # layers: larger networks get the fixes offered without trying each first

def _shape_text(shape: tuple | list) -> str:
    return "x".join("?" if s is None else str(s) for s in shape)


_TRIALS: weakref.WeakKeyDictionary[Network, tuple[int, dict[tuple, int]]] = weakref.WeakKeyDictionary()


def _errors_after(network: Network, command: Callable[[Network], QUndoCommand], loss: str | None,
                  num_classes: int | None, label: str = "") -> int:
    """Errors left after the fix, tried on a copy; kept until the network changes (the panel asks
    again for the same fixes, and a trial re-analyses every layer after the Input)."""
    version, known = _TRIALS.get(network, (None, {}))
    if version != network.version:
        known = {}
        _TRIALS[network] = (network.version, known)
    key = (label, loss, num_classes)
    if not label or key not in known:
        trial = network.copy()
        command(trial).redo()
        errors = len(Analyzer().analyze(trial, loss=loss, num_classes=num_classes).errors)
        if not label:
            return errors
        known[key] = errors
    return known[key]


def output_layer(network: Network) -> str | None:
    outputs = [n for n in network.output_nodes() if network.node(n).type != "Input"]
    return outputs[0] if len(outputs) == 1 else None


def units_layer(network: Network, output_id: str) -> str | None:
    """The layer whose setting decides how many values the output has (a Dense layer's `units`), found
    through layers that pass values on as they are (activations, dropout): their catalog roles say so."""
    current = output_id
    for _ in range(4):
        node = network.node(current)
        spec = CATALOG.get(node.type)
        if spec is not None and spec.output_units:
            return current
        sources = network.inputs_of(current)
        if spec is None or not spec.passes_values or len(sources) != 1:
            return None
        current = sources[0]
    return None


def find_problems(network: Network, data: DataFacts, *, loss: str | None = None,
                  output_units: int | None = None, input_shape: tuple | None = None) -> list[Problem]:
    """What stops (errors) or hurts (warnings) training this network on this data, with fixes."""
    problems: list[Problem] = []
    input_id = edits.the_input(network)
    if input_id is not None and data.shape is not None and input_shape is not None:
        problems += _shape_problems(network, input_id, tuple(input_shape), data, loss)
    out = output_layer(network)
    if out is not None and data.num_classes is not None and output_units is not None:
        problems += _class_problems(network, out, output_units, data, loss)
    if input_id is not None:
        problems += _value_problems(network, input_id, data)
    return problems


def _shape_problems(network: Network, input_id: str, net: tuple, data: DataFacts, loss: str | None) -> list[Problem]:
    if not check_input_compatibility(data.shape, net):
        return []
    h, w, c = data.shape
    classes = data.num_classes
    fixes: list[Fix] = []
    what = f"'{data.name}'"
    if len(net) == 1:
        text = (f"The network takes flat vectors of {net[0]} values, but {what} has {_shape_text(data.shape)} "
                "images.")

        def flat(n: Network) -> QUndoCommand:
            return edits.MacroCommand(f"Fit the Input to {_shape_text(data.shape)}", [
                edits.set_input_shape(n, input_id, [h, w, c]),
                edits.insert_after(n, input_id, "Flatten", {})])
        fixes.append(Fix(f"Set the Input to {_shape_text(data.shape)} and add a Flatten layer",
                         "The images go in as they are and are flattened inside the network.", flat))
    else:
        text = f"The network expects {_shape_text(net)} images, but {what} has {_shape_text(data.shape)}."

        def set_input(n: Network) -> QUndoCommand:
            return edits.set_input_shape(n, input_id, [h, w, c])
        fixes.append(Fix(f"Set the Input to {_shape_text(data.shape)}",
                         "The layers after the Input adapt to the new size; their parameter counts may change.",
                         set_input))
        if len(net) == 3 and net[2] == c and None not in net[:2] and net[:2] != (h, w):
            nh, nw = net[0], net[1]

            def resize(n: Network) -> QUndoCommand:
                return edits.MacroCommand(f"Resize {h}x{w} images to {nh}x{nw} in the network", [
                    edits.set_input_shape(n, input_id, [h, w, c]),
                    edits.insert_after(n, input_id, "Resizing", {"height": nh, "width": nw})])
            fixes.append(Fix(f"Add a Resizing layer ({h}x{w} → {nh}x{nw})",
                             "The Input takes the images as they are; a Resizing layer right after it scales "
                             "them to the size the rest of the network was built for.", resize))
    if len(network) <= FIXES_TRIED_UP_TO:  # each try analyses a copy of the whole network
        fixes = [f for f in fixes if _errors_after(network, f.command, loss, classes, f.label) == 0] or fixes[:1]
    if len(net) == 3 and None not in net and net[2] in (1, 3):
        mode = "grayscale" if net[2] == 1 else "rgb"
        changes: dict[str, Any] = {"color_mode": mode}
        words = ["grayscale" if mode == "grayscale" else "colour (RGB)"]
        if net[:2] != (h, w):
            changes["image_size"] = [net[0], net[1]]
            words.insert(0, f"{net[0]}x{net[1]}")
        fixes.append(Fix(f"Load the images as {' '.join(words)}",
                         "Changes the dataset instead of the network: every image is converted when it is "
                         "loaded (for training, evaluation and previews).", dataset=changes))
    return [Problem(ERROR, text, tuple(fixes))]


def _class_problems(network: Network, out: str, units: int, data: DataFacts, loss: str | None) -> list[Problem]:
    classes = data.num_classes
    if units == classes or (classes == 2 and units == 1 and loss == "binary_crossentropy"):
        return []
    text = (f"The output layer '{out}' gives {units} value{'s' * (units != 1)}, but '{data.name}' has "
            f"{classes} classes: it needs one output per class.")
    dense = units_layer(network, out)
    fixes: list[Fix] = []
    if dense is not None:
        changes: dict[str, Any] = {get_spec(network.node(dense).type).output_units: classes}
        if network.node(dense).params.get("activation") == "sigmoid" and dense == out:
            changes["activation"] = "softmax"

        def set_units(n: Network) -> QUndoCommand:
            return edits.set_params(n, dense, changes, f"Set {dense} to {classes} units")
        fixes.append(Fix(f"Set the output layer to {classes} units",
                         f"Changes the units of '{dense}' from {units} to {classes}.", set_units))
    return [Problem(ERROR, text, tuple(fixes))]


def _rescaling_layers(network: Network) -> list[tuple[str, float]]:
    """Each rescaling layer with its largest factor (a per-channel scale counts by its largest channel)."""
    found = []
    for node in network:
        spec = CATALOG.get(node.type)
        if spec is not None and spec.rescales:
            scale = node.params.get("scale", 1.0)
            factors = scale if isinstance(scale, (list, tuple)) else [scale]
            numbers = [abs(float(f)) for f in factors if isinstance(f, (int, float)) and not isinstance(f, bool)]
            found.append((node.id, max(numbers) if numbers else 1.0))
    return found


def _value_problems(network: Network, input_id: str, data: DataFacts) -> list[Problem]:
    rescaling = _rescaling_layers(network)
    shrinking = [node_id for node_id, scale in rescaling if 0 < scale < 0.1]
    if data.normalization == "none" and not shrinking:
        chain = edits.augmentation_chain(network)
        anchor = input_id

        def add_rescaling(n: Network) -> QUndoCommand:
            return edits.insert_after(n, anchor, "Rescaling", {"scale": 1 / 255, "offset": 0.0},
                                      text="Add a Rescaling layer (x1/255)")
        note = " (before the augmentation layers)" if chain else ""
        return [Problem(WARNING, "Pixel values reach the network unscaled (0 to 255): training is slow and "
                                 "unstable with such large inputs.", (
            Fix("Add a Rescaling layer (×1/255)", "A layer of the network divides every value by 255, so the "
                f"saved model takes raw pixels{note}.", add_rescaling),
            Fix("Scale the values when loading", "Sets normalization to 'scale' (values 0 to 1).",
                training={"normalization": "scale"})))]
    if data.normalization in ("scale", "standardize") and shrinking:
        node_id = shrinking[0]

        def drop(n: Network) -> QUndoCommand:
            return edits.splice_out(n, node_id, text=f"Remove {node_id}")
        kind = "scaled to 0 to 1" if data.normalization == "scale" else "standardized"
        return [Problem(WARNING, f"The values are {kind} when loading and then divided again by the "
                                 f"Rescaling layer '{node_id}': the network sees tiny inputs.", (
            Fix(f"Remove the Rescaling layer '{node_id}'", "", drop),
            Fix("Load raw pixel values", "Sets normalization to 'none': the Rescaling layer does the scaling.",
                training={"normalization": "none"})))]
    return []
