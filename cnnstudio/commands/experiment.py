"""`cnnstudio experiment PROJECT --vary KEY=V1,V2[,...] [--vary ...] [--seeds N] [--budget-runs N] [--json]`
(CONTRACTS.md section 6), with extensions: `--combination KEY=V ...` (a list of settings instead of
a grid), `--random N` (N settings drawn from the grid), `--budget-minutes M`, `--epochs N`,
`--batch-size N`, `--batches-per-epoch N`, `--dataset NAME`, `--experiment-dir DIR`; and PROJECT may
be an experiment folder, which resumes it (given --vary, --combination or --seeds: adds runs to it).

Every key and every setting is checked before TensorFlow loads. Progress goes to stderr; the
table of runs, the settings over seeds and the verdicts go to stdout, then with --json one object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.errors import UserError
from ..core.experiment_results import TASK_METRIC, ExperimentResults, figure_of
from ..core.experiment_spec import ExperimentSpec, parse_assignment, parse_vary, value_text
from ..core.experiments import Experiment, PlannedRun, default_experiment_dir, is_experiment_dir
from ..core.stats import TEST_ACCURACY


def run(args: argparse.Namespace) -> int:
    from ..ml.experiments import Budget, ExperimentCallbacks, ExperimentRunner

    budget = Budget(args.budget_runs, args.budget_minutes)
    budget.check()
    experiment = _resume(args) if is_experiment_dir(args.project) else _create(args)
    from . import quiet_tensorflow

    quiet_tensorflow()
    from .train import Progress

    progress = Progress(sys.stderr)
    count = len(experiment.runs)

    def started(planned: PlannedRun, position: int, total: int) -> None:
        now = "" if total == count else f" ({position} of {total} now)"
        progress.message(f"run {planned.index}/{count}{now}: {planned.label}, seed {planned.seed} -> "
                         f"{experiment.run_path(planned)}")

    def ended(planned: PlannedRun) -> None:
        metric = TASK_METRIC.get(planned.task or "", TEST_ACCURACY)
        progress.message(f"run {planned.index}/{count}: {planned.status}, {metric.name} "
                         f"{_figure(getattr(planned, figure_of(metric)))}, {_seconds(planned.seconds)}")

    runner = ExperimentRunner(experiment, budget=budget, callbacks=ExperimentCallbacks(
        on_run_started=started, on_run_ended=ended, on_batch=lambda _, r: progress.batch(r),
        on_epoch=lambda _, r: progress.epoch(r), on_message=progress.message))
    try:
        outcome = runner.run()
    except KeyboardInterrupt:
        print(f"\ninterrupted; resume with: cnnstudio experiment {experiment.folder}", file=sys.stderr)
        raise
    progress.message(f"{outcome.message} ({_seconds(outcome.seconds)} for {len(outcome.trained)} runs)")
    from ..core.experiment_results import load_results

    results = load_results(experiment)
    print(format_results(results, experiment))
    if args.json:
        print(json.dumps(results.to_json(), allow_nan=False), flush=True)
    return 0


def _spec(args: argparse.Namespace, seeds_default: int | None) -> ExperimentSpec:
    seeds = args.seeds if args.seeds is not None else seeds_default
    combinations = []
    for group in args.combination:
        pairs = [parse_assignment(item) for item in group]
        keys = [k for k, _ in pairs]
        if len(set(keys)) < len(keys):
            raise UserError(f"--combination {' '.join(group)} sets a key twice")
        combinations.append(dict(pairs))
    return ExperimentSpec(vary=tuple(parse_vary(v) for v in args.vary), combinations=tuple(combinations),
                          seeds=seeds if seeds is not None else 1, random=args.random)


def _create(args: argparse.Namespace) -> Experiment:
    from ..core.datasets import parse_dataset_name
    from ..core.templates import resolve_project
    from ..ml.experiments import check_spec

    project = resolve_project(args.project)
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--batches-per-epoch", args.batches_per_epoch)):
        if value is not None and value < 1:
            raise UserError(f"{flag} is {value}; it must be a whole number from 1")
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "max_steps_per_epoch": args.batches_per_epoch}
    project.training.update({k: v for k, v in overrides.items() if v is not None})
    if args.dataset:
        parse_dataset_name(args.dataset)
        project.dataset = {**project.dataset, "name": args.dataset}
    spec = _spec(args, 1)
    check_spec(project, spec)
    folder = Path(args.experiment_dir) if args.experiment_dir else default_experiment_dir(project, Path(args.project).stem)
    experiment = Experiment.create(folder, project, spec)
    print(f"experiment of {len(experiment.runs)} runs ({len(spec.settings())} settings x {spec.seeds} seeds) in "
          f"{folder}", file=sys.stderr)
    return experiment


def _resume(args: argparse.Namespace) -> Experiment:
    from ..ml.experiments import check_spec

    changed = [flag for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                                        ("--batches-per-epoch", args.batches_per_epoch), ("--dataset", args.dataset),
                                        ("--experiment-dir", args.experiment_dir))
               if value is not None]
    if changed:
        raise UserError(f"{changed[0]} cannot change an existing experiment (its runs must be trained alike); "
                        "start a new experiment from the project instead")
    experiment = Experiment.open(args.project)
    if args.vary or args.combination or args.seeds is not None or args.random is not None:
        more = _spec(args, experiment.spec.seeds)
        if more.vary or more.combinations:
            check_spec(experiment.base, more)
        added = experiment.extend(more)
        print(f"added {len(added)} runs to {experiment.folder}", file=sys.stderr)
    left = len(experiment.to_train())
    print(f"resuming {experiment.folder}: {left} of {len(experiment.runs)} runs to train", file=sys.stderr)
    return experiment


# -- the printed results ------------------------------------------------------------------------

def format_results(results: ExperimentResults, experiment: Experiment) -> str:
    """The runs, the settings over seeds (best first) and the verdicts, as plain text."""
    keys = results.keys
    labels = [k.removeprefix("training.") for k in keys]
    out = [f"{results.name}: {len(results.runs)} runs trained, {results.pending} to train, in {results.folder}", ""]
    main = figure_of(results.metric) if results.metric in TASK_METRIC.values() else "test_accuracy"
    main_label = _SHORT[main]
    rows = [[str(r.run.index), *(value_text(r.run.values.get(k, "-")) for k in keys), str(r.run.seed), r.run.status,
             _figure(getattr(r.run, main)), _figure(r.run.test_loss), _figure(r.run.val_accuracy),
             _seconds(r.run.seconds)] for r in results.runs]
    out += _table(["#", *labels, "seed", "status", main_label, "test loss", "val acc", "time"], rows,
                  numeric={0, len(keys) + 1, len(keys) + 3, len(keys) + 4, len(keys) + 5, len(keys) + 6})
    if results.settings:
        metric = results.metric.name if results.metric else "test accuracy"
        out += ["", f"settings, best first by {metric} (mean ± std over seeds):"]
        srows = []
        for s in results.settings:
            acc, loss = s.summaries[main], s.summaries["test_loss"]
            srows.append([*(value_text(s.values.get(k, "-")) for k in keys), str(acc.count or len(s.runs)),
                          _mean_std(acc.mean, acc.std), _range(acc.low, acc.high), _mean_std(loss.mean, loss.std),
                          _mean_std(s.summaries["val_accuracy"].mean, s.summaries["val_accuracy"].std),
                          "-" if s.params is None else f"{s.params:,}", _seconds(s.summaries["seconds"].mean)])
        n = len(keys)
        out += _table([*labels, "seeds", main_label, "range", "test loss", "val acc", "params", "time"], srows,
                      numeric={n, n + 5, n + 6})
    if results.verdicts:
        out += ["", "verdicts:"]
        for verdict in results.verdicts:
            out += [f"- {verdict.text}", f"  ({verdict.details})"]
    elif len(results.settings) < 2:
        out += ["", "verdicts: none yet (a verdict needs two settings with results)"]
    return "\n".join(out)


_SHORT = {"test_accuracy": "test acc", "test_mean_iou": "test IoU", "test_mae": "test MAE", "test_auc": "test AUC"}


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _mean_std(mean: float | None, std: float | None) -> str:
    return "-" if mean is None else f"{mean:.4f} ± {std or 0:.4f}"


def _range(low: float | None, high: float | None) -> str:
    return "-" if low is None else f"{low:.4f}-{high:.4f}"
