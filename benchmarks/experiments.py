"""Experiments: what running many runs as one experiment costs, and how fast its results open.

    python benchmarks/experiments.py [--runs 24] [--epochs 2] [--results 200] [--skip-training]

1. An experiment of LeNet-5 runs on mnist-sample (4 learning rates x 2 filter counts x 3 seeds =
   24 runs, 2 epochs each) with `cnnstudio experiment`, against the same 24 runs one by one with
   `cnnstudio train` (a process each), side by side in one go. Printed: wall time and CPU time of
   both (CPU time of the child processes: on a machine shared with other programs the wall clock
   mostly measures them), and the overhead of the experiment over the runs one by one
   (goal: at most 5% more; negative is a saving).
2. Opening the results of an experiment of 200 runs (20 epochs each; written by hand as the
   trainer writes them): reading every run.json and metrics.csv, the figures per setting over
   seeds, the curves with a band and the verdicts. Goal: well under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RATES = ("0.001", "0.002", "0.004", "0.008")
FILTERS = ("6", "16")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=24, help="runs of the training comparison (a multiple of 8)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--results", type=int, default=200, help="runs of the results-opening measurement")
    parser.add_argument("--skip-training", action="store_true", help="only measure opening results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        opening(folder / "results", args.results)
        if not args.skip_training:
            training(folder, max(8, args.runs - args.runs % 8), args.epochs)
    return 0


# -- 1. the experiment against the runs one by one ----------------------------------------

def training(folder: Path, runs: int, epochs: int) -> None:
    seeds = runs // (len(RATES) * len(FILTERS))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cli = [sys.executable, "-m", "cnnstudio"]
    print(f"training: {runs} LeNet-5 runs of {epochs} epochs on mnist-sample "
          f"({len(RATES)} learning rates x {len(FILTERS)} filter counts x {seeds} seeds)")

    def timed(command: list[str]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=folder)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    experiment = [*cli, "experiment", "lenet5", "--vary", f"training.learning_rate={','.join(RATES)}",
                  "--vary", f"conv1.filters={','.join(FILTERS)}", "--seeds", str(seeds), "--epochs", str(epochs),
                  "--experiment-dir", str(folder / "experiment")]
    exp_wall, exp_cpu = timed(experiment)
    projects = _projects(folder, seeds)
    one_wall, one_cpu = 0.0, 0.0
    for i, project in enumerate(projects):
        wall, cpu = timed([*cli, "train", str(project), "--epochs", str(epochs), "--run-dir", str(folder / f"one-{i}")])
        one_wall += wall
        one_cpu += cpu
    trained = json.loads((folder / "experiment" / "experiment.json").read_text())["runs"]
    inside = sum(r["seconds"] for r in trained)
    print(f"  cnnstudio experiment (one process):  wall {exp_wall:7.1f} s   CPU {exp_cpu:7.1f} s   "
          f"({exp_wall / runs:.1f} s a run; training and evaluation {inside / runs:.1f} s a run)")
    print(f"  cnnstudio train x {runs} (one by one): wall {one_wall:7.1f} s   CPU {one_cpu:7.1f} s   "
          f"({one_wall / runs:.1f} s a run)")
    print(f"  overhead of the experiment over the runs one by one: wall {100 * (exp_wall / one_wall - 1):+.1f}%, "
          f"CPU {100 * (exp_cpu / one_cpu - 1):+.1f}%  (goal: at most +5%)")


def _projects(folder: Path, seeds: int) -> list[Path]:
    """The experiment's runs as project files, in its order (seed by seed)."""
    from cnnstudio.core.experiment_spec import apply_values
    from cnnstudio.core.project import save_project
    from cnnstudio.core.templates import load_template

    base = load_template("lenet5")
    paths = []
    for seed in range(seeds):
        for rate in RATES:
            for filters in FILTERS:
                project = apply_values(base, {"training.learning_rate": float(rate), "conv1.filters": int(filters)},
                                       seed=seed)
                path = folder / f"lenet5-{len(paths)}.cnnproj"
                save_project(project, path)
                paths.append(path)
    return paths


# -- 2. opening the results of 200 runs -----------------------------------------------------

def opening(folder: Path, runs: int) -> None:
    from cnnstudio.core.experiment_results import load_results
    from cnnstudio.core.experiment_spec import ExperimentSpec, Variation
    from cnnstudio.core.experiments import Experiment
    from cnnstudio.core.templates import load_template

    seeds = 8
    settings = max(1, runs // seeds)
    rates = tuple(0.0005 * (i + 1) for i in range(settings))
    experiment = Experiment.create(folder, load_template("lenet5"),
                                   ExperimentSpec(vary=(Variation("training.learning_rate", rates),), seeds=seeds))
    _write_records(experiment)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        results = load_results(Experiment.open(folder))
        timings.append(time.perf_counter() - start)
    print(f"opening results: {len(results.runs)} runs ({len(results.settings)} settings x {seeds} seeds, 20 epochs "
          f"each): median {1000 * statistics.median(timings):.0f} ms, best {1000 * min(timings):.0f} ms "
          f"(goal: well under 1000 ms); {len(results.verdicts)} verdicts")


def _write_records(experiment) -> None:
    """run.json, metrics.csv and project.cnnproj for every run, as the trainer writes them."""
    import random

    from cnnstudio.core.project import dumps
    from cnnstudio.core.runs import RUN_FORMAT

    rng = random.Random(0)
    for run in experiment.runs:
        path = experiment.run_path(run)
        path.mkdir()
        (path / "project.cnnproj").write_text(dumps(experiment.project_for(run)))
        rows = ["epoch,loss,accuracy,val_loss,val_accuracy"]
        for k in range(1, 21):
            rows.append(f"{k},{1 / k!r},{1 - 0.5 / k!r},{1.1 / k!r},{1 - 0.6 / k - rng.random() / 50!r}")
        (path / "metrics.csv").write_text("\n".join(rows) + "\n")
        info = {"format": RUN_FORMAT, "version": 1, "status": "finished", "epochs_completed": 20,
                "settings": experiment.project_for(run).training, "seconds": 30 + rng.random(),
                "final": {"val_accuracy": 0.97, "val_loss": 0.1}, "test": {"accuracy": 0.96 + rng.random() / 50,
                                                                          "loss": 0.12}}
        (path / "run.json").write_text(json.dumps(info))


if __name__ == "__main__":
    sys.exit(main())
