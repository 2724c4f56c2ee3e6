"""Starting from trained weights (fine-tuning, transfer learning): copy them layer by layer.

The source is a `.keras` (or `.h5`) model file, or a run directory (its model.keras).
Layers are matched by name — a node's id is its Keras layer name — and a layer is taken
when the source has a layer of that name whose weights have the same shapes; every other
layer starts from fresh weights. So a network whose last layer was changed for new
classes keeps everything it learned below that layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.errors import UserError

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass(frozen=True)
class FreshLayer:
    """A layer that could not take the source's weights, and why."""

    layer: str
    reason: str


@dataclass(frozen=True)
class InitialWeights:
    """What was copied from where: the layers taken and those that start fresh."""

    path: Path
    source: str  # in the user's words: "run lenet5-20250101-120000" or "digits.keras"
    taken: tuple[str, ...]
    fresh: tuple[FreshLayer, ...]

    @property
    def layers(self) -> int:
        """Layers of the network that have weights at all."""
        return len(self.taken) + len(self.fresh)

    def describe(self) -> str:
        """One line for the progress output: how many layers were taken, which start fresh."""
        if not self.taken:
            return (f"none of the {self.layers} layers with weights match {self.source} by name and shape; "
                    "training starts from fresh weights")
        text = f"started from the weights of {self.source}: {len(self.taken)} of {self.layers} layers"
        if self.fresh:
            text += "; fresh weights for " + ", ".join(f"{f.layer} ({f.reason})" for f in self.fresh)
        return text

    def to_dict(self) -> dict[str, Any]:
        """For run.json."""
        return {"path": str(self.path), "source": self.source, "layers_taken": len(self.taken),
                "layers_with_weights": self.layers, "taken": list(self.taken),
                "fresh": [{"layer": f.layer, "reason": f.reason} for f in self.fresh]}


def weights_file(path: str | Path) -> Path:
    """The model file behind `path` (a run directory means its model.keras); UserError if unusable.

    Needs no TensorFlow, so the command line checks it before anything is loaded.
    """
    path = Path(path)
    if path.is_dir():
        model = path / "model.keras"
        if not model.is_file():
            raise UserError(f"cannot start from the weights of {path}: it is a folder without a model.keras "
                            "(give a finished run directory or a .keras model file)")
        return model
    if not path.exists():
        raise UserError(f"cannot start from the weights of {path}: no such file")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise UserError(f"cannot start from the weights of {path}: it is not a Keras model "
                        f"(expected a file ending in {', '.join(MODEL_SUFFIXES)}, or a run directory)")
    return path


def source_name(model_file: Path) -> str:
    """'run <folder>' for a run's model.keras, else the file's name."""
    folder = model_file.parent
    if model_file.name == "model.keras" and (folder / "run.json").is_file():
        return f"run {folder.name}"
    return model_file.name


def copy_matching_weights(model, path: str | Path) -> InitialWeights:
    """Copy into `model` the weights of every layer of the file at `path` that matches by name and shape."""
    import keras

    model_file = weights_file(path)
    try:
        source = keras.models.load_model(model_file, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds for a file it cannot read
        from ..model_file import first_line

        raise UserError(f"cannot start from the weights of {model_file}: it cannot be read as a Keras model "
                        f"({type(exc).__name__}: {first_line(exc)})") from None
    by_name = {layer.name: layer for layer in source.layers}
    taken: list[str] = []
    fresh: list[FreshLayer] = []
    for layer in model.layers:
        if not layer.weights:
            continue
        other = by_name.get(layer.name)
        if other is None:
            fresh.append(FreshLayer(layer.name, "not in the source"))
            continue
        mine, theirs = _shapes(layer), _shapes(other)
        if mine != theirs:
            fresh.append(FreshLayer(layer.name, f"weights {_shape_text(theirs)} there, {_shape_text(mine)} here"))
            continue
        layer.set_weights(other.get_weights())
        taken.append(layer.name)
    return InitialWeights(model_file, source_name(model_file), tuple(taken), tuple(fresh))


def _shapes(layer) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in w.shape) for w in layer.weights]


def _shape_text(shapes: list[tuple[int, ...]]) -> str:
    if not shapes:
        return "none"
    return " + ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)
