"""Where an export may go, and whether it fits in memory: checked before anything is built or written
(no TensorFlow needed).

An export never removes what CNN Studio did not write, and never writes into, or over a
folder above, what it reads (the project file, or the run folder of a trained model).
A SavedModel folder holds `MARKER`, so a later export may replace it, and only it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.errors import UserError

MODEL_FORMATS = ("keras", "savedmodel", "tflite", "onnx")  # the model files an export writes
SUFFIXES = {"keras": ".keras", "tflite": ".tflite", "onnx": ".onnx", "savedmodel": "", "python": ".py"}
MARKER = "cnnstudio-export.json"  # in every SavedModel folder CNN Studio writes
SAVEDMODEL_PARTS = frozenset({"saved_model.pb", "fingerprint.pb", "variables", "assets", MARKER})
CONVERSION_COPIES = 6  # a converter holds about this many copies of the weights at once
ONNX_COPIES = 10  # measured 6 (VGG16) to 8 (ResNet50), more where a tf2onnx optimizer fails and copies are kept


def check_destination(fmt: str, out: str | Path, *, source: str | Path | None = None,
                      option: str = "--out") -> Path:
    """The absolute destination, or UserError: a folder that does not exist or cannot be written, a file
    where a folder goes (or the other way round), a folder CNN Studio did not write, or a place in or
    above the export's own `source` (a project file or a run folder). `option` names what the user
    changes to choose another place ("--out" on the command line)."""
    out = Path(os.path.abspath(out))
    if fmt == "keras" and out.suffix != ".keras":
        raise UserError(f"{out}: a Keras model file must end in .keras; try {option} {out.with_suffix('.keras')}")
    if source is not None:
        _refuse_own_source(out, Path(source), option)
    if not out.parent.is_dir():
        raise UserError(f"{out.parent}: no such folder; create it or choose another {option}")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise UserError(f"{out.parent}: there is no permission to write in this folder; choose another {option}")
    if fmt == "savedmodel":
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file; a SavedModel is a folder, choose another {option}")
        if out.is_dir() and any(out.iterdir()) and not written_by_us(out):
            raise UserError(f"{out} is a folder that holds other files, not a SavedModel CNN Studio wrote; "
                            f"nothing in it is replaced; choose another {option} (a new or empty folder)")
    elif out.is_dir():
        raise UserError(f"{out} is a folder; give a file name such as {out / ('model' + SUFFIXES[fmt])}")
    return out


def written_by_us(folder: Path) -> bool:
    """True for a SavedModel folder CNN Studio wrote and nobody added to since."""
    try:
        names = {p.name for p in folder.iterdir()}
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("format") == "savedmodel" and names <= SAVEDMODEL_PARTS


def _refuse_own_source(out: Path, source: Path, option: str) -> None:
    if not source.exists():
        return
    target, own = out.resolve(), source.resolve()
    if target == own:
        raise UserError(f"{out} is the input; choose another {option} (input files are never changed)")
    if target in own.parents:
        raise UserError(f"{out} is a folder holding the input {source}; choose another {option} (input files "
                        "are never changed)")
    if own.is_dir() and own in target.parents:
        raise UserError(f"{out} is inside {source}, which the export reads; choose another {option} (input files "
                        "are never changed)")


def check_export_memory(parameters: int, *, building: bool = False, available: int | None = None,
                        fmt: str | None = None) -> None:
    """UserError when converting a model of `parameters` weights (to `fmt`, if known) would not fit in the free
    memory."""
    from .training.memory import available_memory_bytes, gigabytes

    copies = ONNX_COPIES if fmt == "onnx" else CONVERSION_COPIES
    needed = 4 * parameters * (copies + (1 if building else 0))
    free = available_memory_bytes() if available is None else available
    if free is not None and needed > free:
        raise UserError(f"this model is too large to export here: its {parameters:,} parameters need about "
                        f"{gigabytes(needed)} of memory while it is converted, but only {gigabytes(free)} is free")
