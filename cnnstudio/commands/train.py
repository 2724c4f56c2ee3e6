"""`cnnstudio train PROJECT [--epochs N] [--batch-size N] [--dataset NAME] [--run-dir DIR]
[--strategy default|mirrored|multi-worker] [--backend tensorflow|jax|torch] [--initial-weights MODEL]
[--fine-tune-top N] [--json]` (CONTRACTS.md sections 2 and 6; --initial-weights and --fine-tune-top are
extensions: fine-tuning from a .keras file or a run, and the fine-tuning recipe of a pretrained backbone).

Trains without a window, evaluates on the test split, writes a run directory.
Progress (a bar per epoch) goes to stderr; with --json the last stdout line is the
result object. Running it again with the --run-dir of an interrupted run resumes it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TextIO

from ..core.errors import UserError
from ..core.project import DEFAULT_TRAINING
from ..core.tasks import METRIC_TITLES
from ..ml.training.initial_weights import weights_file
from ..ml.training.preparation import precheck
from ..ml.training.settings import FINE_TUNE_DEFAULTS, TrainingSettings
from . import quiet_keras

BAR_WIDTH = 24
_ACCURACY = {"segmentation": "pixel accuracy", "multilabel": "label accuracy"}  # what "accuracy" means there


def run(args: argparse.Namespace) -> int:
    from ..core.datasets import parse_dataset_name
    from ..core.templates import resolve_project

    project = resolve_project(args.project)
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None and value < 1:
            raise UserError(f"{flag} is {value}; it must be a whole number from 1")
    if args.epochs is not None:
        project.training["epochs"] = args.epochs
    if args.batch_size is not None:
        project.training["batch_size"] = args.batch_size
    top = getattr(args, "fine_tune_top", None)
    if top is not None:
        if top < 0:
            raise UserError(f"--fine-tune-top is {top}; it must be a whole number of layers from 0")
        epochs = project.training.get("epochs", DEFAULT_TRAINING["epochs"])
        recipe = project.training.get("fine_tune") or {**FINE_TUNE_DEFAULTS, "head_epochs": max(1, epochs // 2)}
        project.training["fine_tune"] = {**recipe, "unfreeze_top": top}
    if args.dataset:
        parse_dataset_name(args.dataset)
        project.dataset = {**project.dataset, "name": args.dataset}
    # Bad input (dataset, shapes, classes, memory) is reported before TensorFlow loads.
    settings = TrainingSettings.from_project(project)
    facts = precheck(project, settings, str(project.dataset.get("name")))
    if args.strategy == "multi-worker" and facts.task not in ("classification", "binary"):
        raise UserError(f"--strategy multi-worker trains classifiers only; train this {facts.task} network with "
                        "--strategy default or mirrored")
    initial_weights = getattr(args, "initial_weights", None)
    if initial_weights:
        weights_file(initial_weights)
    from ..ml.backend import choose_backend, default_backend

    if (args.backend or default_backend()) != "tensorflow" and args.strategy != "default":
        raise UserError(f"--strategy {args.strategy} needs the TensorFlow backend (tf.distribute); "
                        f"use --backend tensorflow, or leave --strategy out")
    choose_backend(args.backend)
    quiet_keras()
    from ..ml import distribute

    strategy = distribute.make_strategy(args.strategy)  # first: multi-worker must precede other TF work
    from ..ml.runs import default_run_dir
    from ..ml.trainer import Trainer, TrainingCallbacks

    stem = Path(args.project).stem
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(project, stem)
    progress = Progress(sys.stderr)
    trainer = Trainer(project, settings=settings, run_dir=run_dir, strategy=strategy,
                      initial_weights=initial_weights or None,
                      callbacks=TrainingCallbacks(on_batch=progress.batch, on_epoch=progress.epoch,
                                                  on_message=progress.message))
    try:
        result = trainer.run()
    except KeyboardInterrupt:
        if trainer.record is not None and trainer.history:
            print(f"\ninterrupted after epoch {len(trainer.history)}; resume with: cnnstudio train "
                  f"{args.project} --run-dir {trainer.record.path}", file=sys.stderr)
        raise
    test = "" if result.test_loss is None else "".join(
        [f"test loss {result.test_loss:.4f}",
         "" if result.test_accuracy is None else f", test {_ACCURACY.get(result.task, 'accuracy')} "
                                                 f"{result.test_accuracy:.4f}",
         *(f", test {METRIC_TITLES.get(k, k)} {v:.4f}" for k, v in result.test_metrics.items() if v is not None),
         "; "])
    where = f"run saved in {result.run_dir}" if result.run_dir else "no run record on this worker"
    print(f"{test}{result.epochs} epochs in {result.seconds:.1f} s; {where}", file=sys.stderr)
    if args.json:
        print(json.dumps(strict(result.to_json()), allow_nan=False), flush=True)
    return 0


def strict(value):
    """JSON-safe figures: NaN and infinities become null (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


class Progress:
    """A progress bar per epoch on stderr: redrawn in place on a terminal, one line otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self._last = ""

    def batch(self, report) -> None:
        if not self.live:
            return
        total = report.batches or report.batch
        line = (f"epoch {report.epoch}/{report.epochs} {_bar(report.batch / max(total, 1))} "
                f"{report.batch}/{total} loss {report.loss:.4f}"
                + ("" if report.accuracy is None else f" acc {report.accuracy:.4f}")
                + f" {report.images_per_second:,.0f} img/s")
        self._draw(line)

    def epoch(self, report) -> None:
        line = (f"epoch {report.epoch}/{report.epochs} {_bar(1.0)} loss {report.loss:.4f}"
                + ("" if report.accuracy is None else f" acc {report.accuracy:.4f}")
                + ("" if report.val_loss is None else f" val_loss {report.val_loss:.4f}")
                + ("" if report.val_accuracy is None else f" val_acc {report.val_accuracy:.4f}")
                + "".join(f" {k} {v:.4f}" for k, v in report.metrics.items() if v is not None)
                + f" lr {report.learning_rate:.3g} {report.seconds:.1f}s")
        self._draw(line, end=True)

    def message(self, text: str) -> None:
        if self._last:
            self.stream.write("\n")
            self._last = ""
        self.stream.write(f"{text}\n")
        self.stream.flush()

    def _draw(self, line: str, end: bool = False) -> None:
        if self.live:
            pad = max(0, len(self._last) - len(line))
            self.stream.write("\r" + line + " " * pad + ("\n" if end else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._last = "" if end else line


def _bar(fraction: float) -> str:
    filled = int(round(BAR_WIDTH * min(max(fraction, 0.0), 1.0)))
    return "[" + "=" * filled + "." * (BAR_WIDTH - filled) + "]"


