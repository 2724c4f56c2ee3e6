"""`cnnstudio export PROJECT_OR_RUN_DIR --format keras|savedmodel|tflite|onnx|python --out PATH
[--tolerance X]`.

From a run directory: the trained model (its model.keras), or for `python` the script
of the network that was trained. From a project (file or template name): the untrained
model (weights initialised with the project's seed) or the script; a project written by
`cnnstudio import` exports the imported model's trained weights (`IMPORTED_WEIGHTS`).
Every check compares the written file with that same model. `--tolerance` accepts a
larger difference than the default (relative to the output's scale).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import UserError
from ..core.files import atomic_write_text, write_error
from ..core.project import Project
from ..ml.export_paths import check_destination
from . import quiet_tensorflow

IMPORTED_WEIGHTS = "imported_weights"  # project key: the imported model file, relative to the project


def run(args: argparse.Namespace) -> int:
    source, out = Path(args.source), Path(args.out)
    tolerance = getattr(args, "tolerance", None)
    if tolerance is not None and not 0 <= tolerance < float("inf"):
        raise UserError(f"--tolerance is {tolerance:g}; it must be a number from 0, such as 0.001")
    project, model_file = _source(args.source)
    from_file = source if source.exists() else None
    check_destination(args.format, out, source=from_file)
    if args.format == "python":
        _write_script(project, out)
        print(f"wrote a Python script for '{project.name}' to {out}", file=sys.stderr)
        return 0
    if model_file is None:
        check_size(project)  # before anything is built; a run's model is checked once loaded
    quiet_tensorflow()
    from ..ml.export import export_model, load_keras_model

    if model_file is not None and model_file.suffix == ".npz":
        model = checkpoint_model(project, model_file)
    elif model_file is not None:
        model = load_keras_model(model_file)
    else:
        model = project_model(project)
    result = export_model(model, args.format, out, tolerance=tolerance, source=from_file)
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


def project_model(project: Project):
    """The model a project exports: the network with the trained weights `cnnstudio import` recorded in
    the project, while they still fit it; otherwise the untrained network. A note on stderr says which."""
    model = untrained_model(project)
    recorded = project.extra.get(IMPORTED_WEIGHTS)
    seed = int(project.training.get("seed") or 0)
    untrained = f"exporting the untrained network (weights drawn with seed {seed})"
    if recorded is None:
        print(f"note: {untrained}; export a run directory for trained weights", file=sys.stderr)
        return model
    base = project.path.parent if project.path else Path.cwd()
    weights = base / str(recorded)
    if not isinstance(recorded, str) or not weights.is_file():
        print(f"note: the imported weights {weights} are gone; {untrained}", file=sys.stderr)
        return model
    from ..ml.training.initial_weights import copy_matching_weights

    copied = copy_matching_weights(model, weights)
    if copied.fresh:
        changed = ", ".join(f"{f.layer} ({f.reason})" for f in copied.fresh[:3])
        more = f" and {len(copied.fresh) - 3} more" if len(copied.fresh) > 3 else ""
        print(f"note: the network was changed since it was imported, so the imported weights no longer fit "
              f"{changed}{more}; {untrained}", file=sys.stderr)
        return untrained_model(project)
    print(f"note: exporting the trained weights imported into this project (from {weights})", file=sys.stderr)
    return model


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


def check_size(project: Project) -> None:
    """UserError before anything is built when the network is empty, or too large to build and convert here."""
    from ..core.analysis import analyze
    from ..ml.export_paths import check_export_memory

    network = project.network
    if not len(network):
        raise UserError("the network is empty; add an Input and some layers first")
    if not network.input_nodes() or not network.output_nodes():
        raise UserError("the network needs an Input layer and at least one layer after it")
    analysis = analyze(network)
    if analysis.errors:
        first = analysis.errors[0]
        where = f"layer '{first.node}': " if first.node else ""
        raise UserError(f"the network has errors, so no model can be built ({where}{first.message})")
    check_export_memory(analysis.total_params, building=True)


def checkpoint_model(project: Project, last: Path):
    """The run's network with the weights of its last checkpoint (a run that did not finish)."""
    from ..ml.training.checkpoints import Checkpoints

    model = untrained_model(project)
    Checkpoints(last.parent).restore_model(model)
    return model


def untrained_model(project: Project):
    """The project's network as a Keras model with freshly initialised, seeded weights, its size checked
    first."""
    from ..ml.builder import untrained_model as build_untrained

    check_size(project)
    return build_untrained(project)


def _write_script(project: Project, out: Path) -> None:
    from ..ml.codegen import generate_script

    script = generate_script(project.network, name=project.name, dataset=project.dataset,
                             training=project.training)
    try:
        atomic_write_text(out, script)
    except OSError as exc:
        raise write_error(exc, out, "the script") from None
