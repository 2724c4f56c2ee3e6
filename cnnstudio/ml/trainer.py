"""The trainer: one plain class shared by the command line, the GUI's ML worker and tests.

    trainer = Trainer(project, run_dir="runs/first", callbacks=TrainingCallbacks(on_epoch=print))
    result = trainer.run()           # blocks; call pause()/resume()/stop() from any thread
    result.test_accuracy, result.run_dir, trainer.model

It is a custom loop (a compiled step run through `strategy.run`), so one loop serves
every tf.distribute strategy. It reports through plain callbacks (see
`training.reporting`), checks pause/stop between batches, stops on a NaN/inf loss
keeping the last good weights, writes a run record with checkpoints after every
epoch, resumes an interrupted run from its run directory, and evaluates on the
test split at the end. TensorFlow is imported with this module: import it on the
thread that trains, never on the GUI thread.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..core.errors import UserError
from ..core.project import Project
from . import distribute as dist
from .builder import build_model
from .runs import RUNNING, RunRecord, versions
from .training.checkpoints import model_values, save_model_atomically, set_model_values
from .training.initial_weights import InitialWeights, copy_matching_weights, weights_file
from .training.optimizers import EarlyStopping, LearningRateSchedule, make_optimizer
from .training.preparation import NetworkFacts, check_loaded, dataset_options, precheck
from .training.reporting import (
    DIVERGED,
    EARLY_STOPPING,
    FINISHED,
    STOPPED,
    BatchReport,
    EpochReport,
    RunControl,
    Snapshot,
    Throttle,
    TrainingCallbacks,
    TrainingResult,
)
from .training.settings import TrainingSettings
from .training.steps import (
    COUNT,
    NON_FINITE,
    StepFunctions,
    custom_gradient_names,
    distribute,
    forget_custom_gradients,
    summarize,
)

__all__ = ["BatchReport", "EpochReport", "RunControl", "Snapshot", "Trainer", "TrainingCallbacks",
           "TrainingResult", "TrainingSettings"]


class Trainer:
    """Trains a project's network on its dataset (see the module docstring).

    - `settings`: default `TrainingSettings.from_project(project)`.
    - `dataset`: an already loaded `cnnstudio.ml.data.Dataset`, else the project's is loaded.
    - `run_dir`: where to write the run record; None writes none. A directory holding an
      interrupted run of the same network is resumed from its last checkpoint.
    - `strategy`: "default", "mirrored", "multi-worker" or a tf.distribute.Strategy
      (create a multi-worker one before any other TensorFlow work).
    - `report_every`: seconds between batch reports; `snapshot_every`: seconds between
      snapshots of `snapshot_layers` (weights, and activations for `probe_images`).
    - `initial_weights`: a .keras file or a run directory to start from (fine-tuning): its
      weights are copied layer by layer where names and shapes match (a resumed run ignores it).
    """

    def __init__(self, project: Project, *, settings: TrainingSettings | None = None, dataset=None,
                 run_dir: str | Path | None = None, strategy: Any = "default",
                 callbacks: TrainingCallbacks | None = None, control: RunControl | None = None,
                 report_every: float = 0.2, snapshot_every: float = 2.0,
                 snapshot_layers: Sequence[str] = (), probe_images: np.ndarray | None = None,
                 evaluate_test: bool = True, initial_weights: str | Path | None = None) -> None:
        self.project = project
        self.settings = settings or TrainingSettings.from_project(project)
        self.dataset = dataset
        self.dataset_name = dataset.name if dataset is not None else str(project.dataset.get("name"))
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.strategy_name = strategy if isinstance(strategy, str) else _strategy_name(strategy)
        self.strategy = strategy if not isinstance(strategy, str) else None
        self.callbacks = callbacks or TrainingCallbacks()
        self.control = control or RunControl()
        self.report_every = report_every
        self.snapshot_every = snapshot_every
        self.snapshot_layers = list(snapshot_layers)
        self.probe_images = probe_images
        self.evaluate_test = evaluate_test
        self.initial_weights = None if initial_weights is None else Path(initial_weights)
        self.started_from: InitialWeights | None = None
        self.model: keras.Model | None = None
        self.record: RunRecord | None = None
        self.history: list[EpochReport] = []
        self._paused_seconds = 0.0
        self._eval_data: dict[str, Any] = {}
        self._info_written = False
        self._download_tenths = -1

    # -- control (thread-safe) ----------------------------------------------------------------
    def pause(self) -> None:
        """Hold training before the next batch (the current one finishes)."""
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """End training before the next batch; the weights so far are kept and saved."""
        self.control.stop()

    # -- the run --------------------------------------------------------------------------------
    def run(self) -> TrainingResult:
        """Train, evaluate on the test split, write the record; UserError for bad input.

        Blocks until training ends; call it once, on the thread that owns TensorFlow work.
        """
        if self.model is not None:
            raise RuntimeError("a Trainer runs once; make a new one to train again")
        s = self.settings
        facts = precheck(self.project, s, self.dataset_name, self.dataset)
        if self.initial_weights is not None:
            weights_file(self.initial_weights)  # a missing file is reported before anything loads
        if self.strategy is None:
            self.strategy = dist.make_strategy(self.strategy_name)
        chief = dist.cluster_task().is_chief if self.strategy_name == "multi-worker" else True
        if self.dataset is None:
            from .data import load_dataset

            self.dataset = load_dataset(self.dataset_name, progress=self._download_progress,
                                        **dataset_options(self.project, s))
        for warning in self.dataset.warnings:
            self.callbacks.message(f"warning: {warning}")
        loss = check_loaded(self.dataset, facts, s)
        gradients = custom_gradient_names()  # those the steps register are dropped when the run ends
        self._build(facts, loss)
        if self.run_dir is not None and chief:
            self.record = RunRecord.open(self.run_dir, self._snapshot_project())
        start_epoch, previous_seconds = self._resume_or_start()
        started = time.monotonic()
        try:
            reason, message = self._epochs(start_epoch)
            if reason == EARLY_STOPPING and self._best_weights is not None:
                set_model_values(self.model, self._best_weights)
                message += f"; kept the weights of epoch {self._best.best_epoch}, the best"
            test = self._evaluate("test") if self.evaluate_test and self.dataset.num_test else {}
            seconds = time.monotonic() - started - self._paused_seconds
            result = TrainingResult(
                test_loss=test.get("loss"), test_accuracy=test.get("accuracy"), epochs=len(self.history),
                seconds=seconds, run_dir=self.record.path if self.record else None, history=list(self.history),
                stopped_reason=reason, message=message, test_top_k_accuracy=test.get("top_k_accuracy"),
                best_epoch=self._best.best_epoch or None,
                initial_weights=self.started_from.to_dict() if self.started_from else None)
            if self.record:
                self._save_final_models(reason)
                self._write_info(durable=True, status=reason, message=message, seconds=previous_seconds + seconds,
                                 finished=time.strftime("%Y-%m-%dT%H:%M:%S"), test=test,
                                 best_epoch=result.best_epoch)
        finally:
            if self.record:
                self.record.close()
            forget_custom_gradients(gradients)
        if message:
            self.callbacks.message(message)
        return result

    def _download_progress(self, fraction: float) -> None:
        """A message at every tenth of a dataset download (mnist, cifar10, ... the first time)."""
        tenth = int(fraction * 10 + 1e-9)
        if tenth > self._download_tenths:
            self._download_tenths = tenth
            self.callbacks.message(f"downloading '{self.dataset_name}' into Keras's cache: {tenth * 10}%")

    # -- building and resuming ------------------------------------------------------------------
    def _build(self, facts: NetworkFacts, loss) -> None:
        s = self.settings
        keras.utils.set_random_seed(s.seed)
        with self.strategy.scope():
            self.model = build_model(self.project.network, self.project.name)
            self.optimizer = make_optimizer(s)
            self.model.compile(optimizer=self.optimizer, loss=loss.keras_loss(), metrics=["accuracy"])
            self.optimizer.build(self.model.trainable_variables)
        self.loss = loss
        top_k = s.top_k if "top_k" in s.metrics else None
        self.steps = StepFunctions(self.model, self.optimizer, loss, self.strategy, s.batch_size, top_k,
                                   self.dataset.num_classes)
        self.has_top_k = self.steps.top_k is not None
        self.schedule = LearningRateSchedule(s)
        self._best = EarlyStopping(s.early_stopping)
        self._best_weights: list[np.ndarray] | None = None
        self._probe = self._probe_model()

    def _snapshot_project(self) -> Project:
        snapshot = self.project.copy()
        snapshot.training = {**snapshot.training, **self.settings.to_dict()}
        snapshot.dataset = {**snapshot.dataset, "name": self.dataset_name}
        return snapshot

    def _resume_or_start(self) -> tuple[int, float]:
        """The epoch to start from and the seconds already spent (from a checkpoint)."""
        record = self.record
        if record is None or not record.resumable:
            if self.initial_weights is not None:
                self.started_from = copy_matching_weights(self.model, self.initial_weights)
                self.callbacks.message(self.started_from.describe())
            if record is not None:
                started_from = self.started_from.to_dict() if self.started_from else None
                self._write_info(status=RUNNING, started=time.strftime("%Y-%m-%dT%H:%M:%S"),
                                 initial_weights=started_from)
            return 0, 0.0
        if self.strategy_name == "multi-worker":
            raise UserError(f"{record.path} holds an interrupted run; resuming is not supported with "
                            "--strategy multi-worker (the workers' weights would differ); choose another --run-dir")
        state = record.checkpoints.load_state()
        record.checkpoints.restore_last(self.model, self.optimizer)
        self._best_weights = record.checkpoints.load_best()
        self.history = [EpochReport(**row) for row in state.get("history", [])]
        self.schedule.restore(state.get("schedule", {}))
        self._best.restore(state.get("early_stopping", {}))
        done = int(state.get("epoch", len(self.history)))
        self.callbacks.message(f"resuming {record.path} after epoch {done} of {self.settings.epochs}")
        resumed = [*record.info.get("resumed_after_epochs", []), done]
        self._write_info(status=RUNNING, resumed_after_epochs=resumed)
        return done, float(state.get("seconds", 0.0))

    def _write_info(self, **fields: Any) -> None:
        """Update run.json: what is being trained and how (written once), and `fields`."""
        if self.record is None:
            return
        if not self._info_written:
            d = self.dataset
            fields = dict(
                project=self.project.name,
                project_file=None if self.project.path is None else str(self.project.path),
                settings=self.settings.to_dict(),
                loss={"name": self.loss.name, "from_logits": self.loss.from_logits},
                dataset={"name": d.name, "num_train": d.num_train, "num_validation": d.num_validation,
                         "num_test": d.num_test, "input_shape": list(d.input_shape),
                         "class_names": list(d.class_names), "preprocessing": d.preprocessing.describe()},
                strategy=dist.describe_strategy(self.strategy, self.strategy_name),
                versions=versions(), **fields)
            self._info_written = True
        self.record.write_info(epochs_completed=len(self.history),
                               final=self.history[-1].to_dict() if self.history else None, **fields)

    # -- epochs ---------------------------------------------------------------------------------
    def _epochs(self, start: int) -> tuple[str, str]:
        s = self.settings
        self._train_data = self._training_data(start)
        for epoch in range(start, s.epochs):
            rate = self.schedule.rate_for_epoch(epoch)
            self.optimizer.learning_rate = rate
            outcome = self._train_epoch(epoch, rate)
            if outcome == DIVERGED:
                return DIVERGED, (f"training stopped in epoch {epoch + 1}: the loss became NaN or infinite "
                                  f"(learning rate {rate:.3g} may be too high, or the inputs hold extreme "
                                  "values); the last good weights were kept")
            if outcome == STOPPED:
                return STOPPED, f"training stopped by request during epoch {epoch + 1}"
            if self._best.should_stop:
                return EARLY_STOPPING, (f"early stopping after epoch {epoch + 1}: validation loss did not "
                                        f"improve for {s.early_stopping} epochs")
        return FINISHED, ""

    def _training_data(self, done_epochs: int):
        """The training batches, built once; each new iterator is a new shuffle.

        The order of epoch k depends only on the seed and k: a resumed run creates (and
        drops) one iterator per epoch already done, so it sees what an unbroken run would.
        """
        s = self.settings
        data = self.dataset.train(s.batch_size, seed=s.seed)
        if s.max_steps_per_epoch:
            data = data.take(s.max_steps_per_epoch)
        distributed = distribute(self.strategy, data)
        for _ in range(done_epochs):
            iter(distributed)
        return distributed

    def _batches_per_epoch(self) -> int:
        n = math.ceil(self.dataset.num_train / self.settings.batch_size)
        return min(n, self.settings.max_steps_per_epoch or n)

    def _train_epoch(self, epoch: int, rate: float) -> str | None:
        """One pass over the training data; DIVERGED, STOPPED, or None when it ran through."""
        s, steps, control = self.settings, self.steps, self.control
        steps.reset()
        iterator = iter(self._train_data)
        batches = self._batches_per_epoch()
        check = Throttle(self.report_every if self.callbacks.on_batch else 0.5)
        snapshots = Throttle(self.snapshot_every) if self._probe is not None else None
        start, paused, batch = time.monotonic(), 0.0, 0
        while True:
            if control.paused:
                self.callbacks.message("paused")
                paused += control.wait_while_paused()
                if not control.stopping:
                    self.callbacks.message("resumed")
            if control.stopping:
                self._paused_seconds += paused
                return STOPPED
            ran = steps.train_step(iterator)
            now = time.monotonic()
            due = check.due(now)
            # Asking whether a step found a batch waits for it to finish (on a GPU that stalls the
            # queue of work): ask only near the end of the epoch, or when a report reads the totals anyway.
            if (due or batch + 1 >= batches) and not bool(ran):
                break
            batch += 1
            if due:
                totals = steps.read()
                if totals[NON_FINITE] > 0:
                    return DIVERGED
                if self.callbacks.on_batch:
                    elapsed = now - start - paused
                    figures = summarize(totals, False)
                    self.callbacks.on_batch(BatchReport(
                        epoch + 1, s.epochs, batch, batches, figures["loss"], figures["accuracy"],
                        totals[COUNT] / max(elapsed, 1e-9), elapsed))
            if snapshots is not None and snapshots.due(now):
                self._send_snapshot(epoch + 1, batch)
        totals = steps.read()
        if totals[NON_FINITE] > 0:
            return DIVERGED
        seconds = time.monotonic() - start - paused
        self._paused_seconds += paused
        self._end_epoch(epoch, rate, summarize(totals, self.has_top_k), seconds, totals[COUNT] / max(seconds, 1e-9))
        return None

    def _end_epoch(self, epoch: int, rate: float, train: dict, seconds: float, speed: float) -> None:
        val = self._evaluate("validation") if self.dataset.num_validation else {}
        monitored = val.get("loss", train["loss"])
        improved = self._best.improved(monitored, epoch + 1)
        if improved:
            self._best_weights = model_values(self.model)
        report = EpochReport(epoch + 1, self.settings.epochs, train["loss"], train["accuracy"], val.get("loss"),
                             val.get("accuracy"), rate, seconds, speed, train["top_k_accuracy"],
                             val.get("top_k_accuracy"), improved)
        self.history.append(report)
        message = self.schedule.epoch_ended(monitored)
        if self.record:
            self._save_epoch(report, improved)
        if self.callbacks.on_epoch:
            self.callbacks.on_epoch(report)
        if message:
            self.callbacks.message(message)

    def _save_epoch(self, report: EpochReport, improved: bool) -> None:
        record = self.record
        record.write_metrics(self.history)
        record.log_epoch(report)
        if improved:
            record.checkpoints.save_best(self._best_weights)
        elapsed = sum(r.seconds for r in self.history)
        record.checkpoints.save_last(self.model, self.optimizer, {
            "epoch": report.epoch, "history": [r.to_dict() for r in self.history], "seconds": elapsed,
            "schedule": self.schedule.state(), "early_stopping": self._best.state()})
        self._write_info(status=RUNNING)

    def _save_final_models(self, reason: str) -> None:
        """model.keras (the weights training ended with) and checkpoints/best.keras."""
        record = self.record
        record.save_model(self.model)
        if self._best_weights is None:
            return
        if reason == EARLY_STOPPING or self._best.best_epoch == len(self.history) and reason == FINISHED:
            shutil.copyfile(record.path / "model.keras", record.checkpoints.best_model)
            return
        final = model_values(self.model)
        set_model_values(self.model, self._best_weights)
        try:
            save_model_atomically(self.model, record.checkpoints.best_model, "the best model")
        finally:
            set_model_values(self.model, final)

    def evaluate(self, split: str = "test") -> dict[str, float | None]:
        """Loss, accuracy (and top-k accuracy) of the current weights on a whole split, after run().

        The test split is for a final, fair estimate: look at it once, not while choosing settings.
        """
        if self.model is None:
            raise RuntimeError("evaluate() needs a model: call run() first")
        if split not in ("validation", "test"):
            raise UserError(f"unknown split {split!r}; use 'validation' or 'test'")
        return self._evaluate(split)

    def _evaluate(self, split: str) -> dict[str, float | None]:
        """Mean loss and accuracy over a whole split (validation or test)."""
        if split not in self._eval_data:
            batch = self.settings.batch_size
            data = self.dataset.validation(batch) if split == "validation" else self.dataset.test(batch)
            self._eval_data[split] = distribute(self.strategy, data)
        self.steps.reset()
        iterator = iter(self._eval_data[split])
        while bool(self.steps.eval_step(iterator)):
            pass
        figures = summarize(self.steps.read(), self.has_top_k)
        self.steps.reset()
        return figures

    # -- snapshots ------------------------------------------------------------------------------
    def _probe_model(self) -> keras.Model | None:
        if not (self.snapshot_layers and self.callbacks.on_snapshot):
            return None
        names = {layer.name for layer in self.model.layers}
        unknown = [n for n in self.snapshot_layers if n not in names]
        if unknown:
            raise UserError(f"cannot watch layer(s) {', '.join(unknown)}: the network has no such layer")
        if self.probe_images is None:
            split = "validation" if self.dataset.num_validation else "train"
            self.probe_images, _ = self.dataset.samples(8, split, seed=0)
        outputs = [self.model.get_layer(n).output for n in self.snapshot_layers]
        return keras.Model(self.model.inputs, outputs)

    def _send_snapshot(self, epoch: int, batch: int) -> None:
        activations = self._probe(tf.convert_to_tensor(self.probe_images, tf.float32), training=False)
        if not isinstance(activations, (list, tuple)):
            activations = [activations]
        weights = {n: [np.array(w) for w in self.model.get_layer(n).get_weights()] for n in self.snapshot_layers}
        self.callbacks.on_snapshot(Snapshot(epoch, batch, weights,
                                            {n: np.asarray(a) for n, a in zip(self.snapshot_layers, activations,
                                                                              strict=True)}))


def _strategy_name(strategy) -> str:
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    return "default"
