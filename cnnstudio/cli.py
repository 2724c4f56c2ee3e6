"""The ``cnnstudio`` command line (CONTRACTS.md section 2).

Bad input exits with status 2 and one ``error:`` line; an internal fault exits with
status 1 and writes the traceback to a log file whose path is printed. Commands
that only read projects (summary, templates, ...) never import TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .core.errors import UserError

COMMANDS = ("summary", "train", "experiment", "export", "import", "new", "templates", "datasets")
STRATEGIES = ("default", "mirrored", "multi-worker")
BACKENDS = ("tensorflow", "jax", "torch")
EXPORT_FORMATS = ("keras", "savedmodel", "tflite", "onnx", "python")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as a user error (exit 2, one ``error:`` line)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see 'cnnstudio {self.prog.split()[-1]} --help')"
                        if " " in self.prog else f"{message} (see 'cnnstudio --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnnstudio", description="Design, train and understand convolutional networks.")
    parser.add_argument("--version", action="version", version=f"CNN Studio {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("summary", help="per-layer table: output shapes, weights, biases, receptive fields")
    p.add_argument("project", help="a .cnnproj file or a template name")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("train", help="train without a window, then evaluate on the test split")
    p.add_argument("project", help="a .cnnproj file or a template name")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--dataset", help="dataset name (see 'cnnstudio datasets')")
    p.add_argument("--run-dir", dest="run_dir", help="where to write the run record")
    p.add_argument("--strategy", choices=STRATEGIES, default="default")
    p.add_argument("--backend", choices=BACKENDS,
                   help="the Keras backend to train on (default: KERAS_BACKEND when set, else the one chosen in "
                        "Preferences, else tensorflow)")
    p.add_argument("--initial-weights", dest="initial_weights", metavar="MODEL",
                   help="start from the weights of a .keras model or a run directory, layer by layer "
                        "where names and shapes match (fine-tuning)")
    p.add_argument("--fine-tune-top", dest="fine_tune_top", type=int, metavar="N",
                   help="the fine-tuning recipe: train the head with the pretrained backbone frozen, then its top N "
                        "layers too at a lower learning rate (the project's recipe, or half the epochs each)")
    p.add_argument("--json", action="store_true", help="print the result as JSON on the last line")

    p = sub.add_parser("experiment", help="train a project under several settings and seeds; compare with a verdict")
    p.add_argument("project", metavar="PROJECT", help="a .cnnproj file, a template name, or an experiment folder "
                                                      "to resume (and add runs to)")
    p.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2",
                   help="a setting and its values: training.<setting>, dataset.<setting> or <layer id>.<parameter>; "
                        "several --vary make a grid")
    p.add_argument("--combination", action="append", nargs="+", default=[], metavar="KEY=V",
                   help="one setting of an explicit list (repeat for each), instead of a grid")
    p.add_argument("--random", type=int, metavar="N", help="train N settings drawn at random from the grid")
    p.add_argument("--seeds", type=int, metavar="N", help="train every setting with N seeds (default 1)")
    p.add_argument("--budget-runs", type=int, dest="budget_runs", metavar="N", help="train at most N runs now")
    p.add_argument("--budget-minutes", type=float, dest="budget_minutes", metavar="M",
                   help="start no run that would end after M minutes")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--batches-per-epoch", type=int, dest="batches_per_epoch", metavar="N",
                   help="cut every epoch short after N batches (quick tries)")
    p.add_argument("--dataset", help="dataset name (see 'cnnstudio datasets')")
    p.add_argument("--experiment-dir", dest="experiment_dir", metavar="DIR",
                   help="where to write the experiment (default: runs/<project>-exp-<time> beside the project)")
    p.add_argument("--json", action="store_true", help="print the runs and verdicts as JSON on the last line")

    p = sub.add_parser("export", help="write a model or a standalone script")
    p.add_argument("source", metavar="PROJECT_OR_RUN_DIR")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    p.add_argument("--out", required=True)
    p.add_argument("--tolerance", type=float, metavar="X",
                   help="largest difference between the file's and the Keras model's predictions to accept, "
                        "as a fraction of the output's scale (default 0.001; 0.05 for quantized TFLite)")

    p = sub.add_parser("import", help="an editable project from a .keras or .h5 model")
    p.add_argument("model", metavar="MODEL_FILE")
    p.add_argument("--out", required=True, help="the project file to write")

    p = sub.add_parser("new", help="start a project from a template")
    p.add_argument("template")
    p.add_argument("--out", required=True, help="the project file to write")

    sub.add_parser("templates", help="list the templates")
    sub.add_parser("datasets", help="list the datasets")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a name no encoding can hold still prints, escaped
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass
    try:
        if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
            if len(argv) > 1:
                raise UserError(f"unknown command '{argv[0]}'; commands: {', '.join(COMMANDS)}")
            return _open_gui(argv[0] if argv else None)
        args = build_parser().parse_args(argv)
        code = _dispatch(args)
        sys.stdout.flush()  # a closed pipe shows here, while it can still be handled
        return code
    except UserError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cnnstudio summary --json | head -c 200`: the reader has what it wanted
        _quiet_stdout()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # an internal fault: keep the details, say where they are
        from .crashlog import write_crash_log

        log = write_crash_log()
        print(f"internal error: CNN Studio hit a bug; details were written to {log}", file=sys.stderr)
        return 1


def one_line(message: str) -> str:
    """A message on one line: Keras and converters raise texts of many lines, the contract wants one."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return " ".join(lines) if lines else "failed"


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so Python's final flush of a closed pipe prints nothing either."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "summary":
        return _summary(args)
    if args.command == "train":
        from .commands import train

        return train.run(args)
    if args.command == "experiment":
        from .commands import experiment

        return experiment.run(args)
    if args.command == "export":
        from .commands import export

        return export.run(args)
    if args.command == "import":
        return _import(args)
    if args.command == "new":
        return _new(args)
    if args.command == "templates":
        return _templates()
    if args.command == "datasets":
        return _datasets()
    raise UserError("no command given; try 'cnnstudio --help'")


def _open_gui(project: str | None) -> int:
    if project is not None:
        from .core.templates import resolve_project

        resolve_project(project)  # a broken file is reported here, before any window opens
    from .ui.app import main as gui_main

    return gui_main(project)


def _summary(args: argparse.Namespace) -> int:
    """Any network Keras accepts is summarized (exit 0); a mismatch with the data is only a warning."""
    from .core.analysis import DATA_FIT, analyze
    from .core.bulk import collector_paused
    from .core.datasets import dataset_info
    from .core.tasks import classifier_classes, output_fit_problems
    from .core.templates import resolve_project

    project = resolve_project(args.project)
    where = project.path.name if project.path else args.project
    dataset = project.dataset.get("name", "")
    info = None
    try:
        info = dataset_info(dataset)
    except UserError:
        pass
    task_setting = project.training.get("task", "auto")
    classes = None if info is None else classifier_classes(info.task, info.num_classes, task_setting)
    with collector_paused():
        result = analyze(project.network, loss=project.training.get("loss"), num_classes=classes)
    if result.errors:
        first = result.errors[0]
        node = f"node '{first.node}': " if first.node else ""
        more = f" ({len(result.errors) - 1} more problems)" if len(result.errors) > 1 else ""
        raise UserError(f"{where}: {node}{first.message}{more}")
    if args.json:
        print(json.dumps(result.to_json(project.name, project.network)))
    else:
        with collector_paused():
            table = format_summary(project.name, result, project.network)
        print(table)
    for warning in result.warnings:
        misfit = f" (it does not fit the dataset '{dataset}': training refuses it)" if warning.kind == DATA_FIT else ""
        print(f"warning: {warning}{misfit}", file=sys.stderr)
    for problem in [] if info is None else output_fit_problems(project.network, result, info, task_setting):
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def format_summary(name: str, result, network=None) -> str:
    """The summary as a plain-text table; with blocks, each block's layers are indented under a
    header row carrying the block's totals, and frozen layers are marked."""
    from .core.blocks import block_tree, parents
    from .core.catalog import dims_text

    headers = ("id", "type", "output shape", "weights", "biases", "params", "receptive field")
    owner = parents(network) if network is not None else {}
    infos = {b.id: b for b in _flatten(block_tree(network, result))} if network is not None else {}
    rows: list[tuple[str, ...]] = []
    shown: set[str] = set()
    for info in result.layers.values():
        chain = _ancestors(info.id, owner)
        for depth, block_id in enumerate(chain):
            if block_id not in shown:
                shown.add(block_id)
                rows.append(_block_row(infos[block_id], depth, dims_text))
        layer_id, type_name, *rest = info.summary_cells()
        frozen = "" if info.trainable else " (frozen)"
        rows.append(("  " * len(chain) + layer_id, type_name + frozen, *rest))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    numeric = {3, 4, 5}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [name, line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append("")
    out.append(f"Total params: {result.total_params:,}")
    out.append(f"Trainable params: {result.trainable_params:,}")
    out.append(f"Non-trainable params: {result.non_trainable_params:,}")
    return "\n".join(out)


def _flatten(tree):
    for block in tree:
        yield block
        yield from _flatten(block.children)


def _ancestors(item_id: str, owner: dict[str, str]) -> list[str]:
    chain = []
    while item_id in owner:
        item_id = owner[item_id]
        chain.append(item_id)
    return chain[::-1]


def _block_row(block, depth: int, dims_text) -> tuple[str, ...]:
    shapes = ", ".join(dims_text(s) for s in block.output_shapes) or "-"
    state = "collapsed block" if block.collapsed else "block"
    if not block.trainable or block.non_trainable_params == block.params and block.params:
        state += " (frozen)"
    return ("  " * depth + f"[{block.name}]", state, shapes, "", "",
            f"{block.params:,}", dims_text(block.receptive_field) if block.receptive_field else "-")


def _refuse_overwrite(out: Path, *inputs: Path) -> None:
    for source in inputs:
        if source.exists() and out.exists() and out.resolve() == source.resolve():
            raise UserError(f"{out}: is the input file; choose another --out (input files are never changed)")


def _import(args: argparse.Namespace) -> int:
    """The project, plus a run beside it (runs/NAME-imported-...) holding the model with its trained
    weights; the project records where they are, so exporting it exports them."""
    from .commands.export import IMPORTED_WEIGHTS
    from .core.project import save_project
    from .ml.import_check import check_model_path, read_model_config, refuse_unsupported

    model_path, out = Path(args.model), Path(args.out)
    _refuse_overwrite(out, model_path)

    check_model_path(model_path)  # corrupt, a pipe, a description that would inflate to gigabytes: before TF
    _check_out_folder(out)
    if out.exists() and not out.is_file():
        raise UserError(f"{out} is not a file; give the project file to write, such as {out / 'model.cnnproj'}")
    refuse_unsupported(read_model_config(model_path), model_path.name)  # refused before TensorFlow loads
    from .commands import quiet_tensorflow

    quiet_tensorflow()
    from .core.files import remove_quietly, write_error
    from .ml.importer import import_model, save_imported_run

    imported = import_model(model_path)
    project = imported.project()
    runs = out.parent / "runs"
    try:
        run_dir = save_imported_run(imported, runs)
    except OSError as exc:
        raise write_error(exc, runs, "the imported model's run") from None
    project.extra[IMPORTED_WEIGHTS] = (run_dir / "model.keras").relative_to(out.parent).as_posix()
    try:
        save_project(project, out)
    except OSError as exc:
        remove_quietly(run_dir)  # written just now, and useless without the project
        raise write_error(exc, out, "the project") from None
    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"imported {len(project.network)} layers from {model_path} into {out}; the trained weights are in "
          f"the run {run_dir}", file=sys.stderr)
    return 0


def _check_out_folder(out: Path) -> None:
    """UserError unless the folder of --out exists and may be written in."""
    import os

    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder; create it or choose another --out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{folder}: there is no permission to write in this folder; choose another --out")


def _new(args: argparse.Namespace) -> int:
    from .core.files import write_error
    from .core.project import save_project
    from .core.templates import load_template

    out = Path(args.out)
    if out.exists() or out.is_symlink():
        raise UserError(f"{out}: already exists; choose another --out or delete it first")
    project = load_template(args.template)
    _check_out_folder(out)
    try:
        save_project(project, out)
    except OSError as exc:
        raise write_error(exc, out, "the project") from None
    print(f"wrote {out} from template '{args.template}' ({project.name})", file=sys.stderr)
    return 0


def _templates() -> int:
    from .core.templates import list_templates

    infos = list_templates()
    width = max(len(t.name) for t in infos)
    for t in infos:
        print(f"{t.name.ljust(width)}  {t.title} ({t.dataset}): {t.description}")
    return 0


def _datasets() -> int:
    from .core.datasets import list_datasets

    infos = list_datasets()
    width = max(len(d.name) for d in infos)
    for d in infos:
        print(f"{d.name.ljust(width)}  [{d.source}] {d.description}")
    return 0


def _version() -> str:
    from . import __version__

    return __version__


if __name__ == "__main__":
    sys.exit(main())
