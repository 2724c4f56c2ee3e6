"""`cnnstudio export PROJECT_OR_RUN_DIR --format keras|savedmodel|tflite|onnx|python --out PATH`.

From a run directory: the trained model (its model.keras), or for `python` the script
of the network that was trained. From a project (file or template name): the untrained
model (weights initialised with the project's seed) or the script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import UserError
from ..core.project import Project, atomic_write_text
from . import quiet_tensorflow


def run(args: argparse.Namespace) -> int:
    source, out = Path(args.source), Path(args.out)
    _refuse_input_as_output(source, out)
    project, model_file = _source(args.source)
    if args.format == "python":
        _write_script(project, out)
        print(f"wrote a Python script for '{project.name}' to {out}", file=sys.stderr)
        return 0
    quiet_tensorflow()
    from ..ml.builder import untrained_model
    from ..ml.export import export_model, load_keras_model

    if model_file is not None and model_file.suffix == ".npz":
        model = checkpoint_model(project, model_file)
    elif model_file is not None:
        model = load_keras_model(model_file)
    else:
        model = untrained_model(project)
    result = export_model(model, args.format, out)
    print(result.describe(), file=sys.stderr)
    return 0


def _source(argument: str) -> tuple[Project, Path | None]:
    """The project, and the trained model file when the source is a run directory."""
    from ..core.project import load_project
    from ..core.templates import resolve_project

    path = Path(argument)
    if path.is_dir():
        if not (path / "run.json").is_file() and not (path / "project.cnnproj").is_file():
            raise UserError(f"{path} is a folder but not a run directory (it has no run.json); give a run "
                            "directory, a .cnnproj file or a template name")
        model_file = path / "model.keras"
        if not model_file.is_file():
            last = path / "checkpoints" / "last.npz"
            epoch = _checkpoint_epoch(last)
            if epoch is None:
                raise UserError(f"{path} holds no trained model yet (no model.keras and no checkpoint); train "
                                f"it first or resume it with: cnnstudio train PROJECT --run-dir {path}")
            print(f"note: {path} did not finish training; exporting its last checkpoint (after epoch {epoch})",
                  file=sys.stderr)
            model_file = last
        return load_project(path / "project.cnnproj"), model_file
    return resolve_project(argument), None


def _checkpoint_epoch(last: Path) -> int | None:
    """The epoch after which a run's last checkpoint was saved, None when there is none."""
    if not last.is_file():
        return None
    import numpy as np

    try:
        with np.load(last, allow_pickle=False) as data:
            return int(json.loads(str(data["state"])).get("epoch", 0))
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def checkpoint_model(project: Project, last: Path):
    """The run's network with the weights of its last checkpoint (a run that did not finish)."""
    from ..ml.builder import untrained_model
    from ..ml.training.checkpoints import Checkpoints

    model = untrained_model(project)
    Checkpoints(last.parent).restore_model(model)
    return model


def _write_script(project: Project, out: Path) -> None:
    from ..ml.codegen import generate_script

    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name such as {out / 'train.py'}")
    script = generate_script(project.network, name=project.name, dataset=project.dataset,
                             training=project.training)
    try:
        atomic_write_text(out, script)
    except FileNotFoundError:
        raise UserError(f"{out.parent}: no such folder; create it or choose another --out") from None
    except OSError as exc:
        raise UserError(f"could not write {out}: {exc.strerror or exc}") from None


RECORD_FILES = ("model.keras", "project.cnnproj", "run.json", "metrics.csv")
RECORD_FOLDERS = ("checkpoints", "logs")


def _refuse_input_as_output(source: Path, out: Path) -> None:
    """A command never modifies its input files (the project, or the run's record)."""
    if not out.exists():
        return
    resolved = out.resolve()
    if source.is_file() and resolved == source.resolve():
        raise UserError(f"{out} is the input; choose another --out (input files are never changed)")
    if source.is_dir():
        run = source.resolve()
        protected = {run, *(run / name for name in RECORD_FILES)}
        if resolved in protected or any((run / folder) in (resolved, *resolved.parents) for folder in RECORD_FOLDERS):
            raise UserError(f"{out} is part of the run record in {source}; choose another --out "
                            "(input files are never changed)")
