"""The trainer: one plain class shared by the command line, the GUI's ML worker and tests.

    trainer = Trainer(project, run_dir="runs/first", callbacks=TrainingCallbacks(on_epoch=print))
    result = trainer.run()           # blocks; call pause()/resume()/stop() from any thread
    result.test_accuracy, result.run_dir, trainer.model

It trains with Keras's `model.fit` on whichever Keras backend is loaded (TensorFlow, JAX,
PyTorch), with the callbacks of `training.callbacks` (schedule, plateau rule, early
stopping, validation pass: the very code exported scripts run) and the app's own
(`training.run_callback`: pause, stop, throttled reports, snapshots, NaN stops that keep
the last good weights, a checkpoint and run record after every epoch). It resumes an
interrupted run from its run directory and evaluates on the test split at the end.
Import it on the thread that trains, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..core.errors import UserError
from ..core.project import Project
from ..core.runs import read_val_predictions
from ..core.tasks import CLASSIFICATION, TASK_TITLES
from . import distribute as dist
from .builder import build_model, layer_output
from .runs import INTERRUPTED, RUNNING, RunRecord, versions
from .training import callbacks as fit_rules
from .training.checkpoints import host, model_values, save_model_atomically, set_model_values, snapshot
from .training.initial_weights import InitialWeights, copy_matching_weights, weights_file
from .training.preparation import NetworkFacts, backbone_ids, check_loaded, dataset_options, precheck
from .training.reporting import (
    DIVERGED,
    EARLY_STOPPING,
    FINISHED,
    STOPPED,
    BatchReport,
    EpochReport,
    RunControl,
    Snapshot,
    TrainingCallbacks,
    TrainingResult,
)
from .training.run_callback import Interrupted, RunCallback, RunCallbacks
from .training.settings import TrainingSettings

# Several batches per call of the compiled step, on TensorFlow, for small networks: measured on LeNet-5
# (CPU, batch 64) 15% more images per CPU-second with 8 than with 1; no gain on JAX. Pause, stop and
# batch reports then act every few batches, so only networks whose batches are quick get it.
STEPS_PER_EXECUTION = 8
QUICK_BATCH_VALUES = 4_000_000  # activation values per batch below which a batch counts as quick

__all__ = ["BatchReport", "EpochReport", "RunControl", "Snapshot", "Trainer", "TrainingCallbacks",
           "TrainingResult", "TrainingSettings"]


class Trainer:
    """Trains a project's network on its dataset (see the module docstring).

    - `settings`: default `TrainingSettings.from_project(project)`.
    - `dataset`: an already loaded `cnnstudio.ml.data.Dataset`, else the project's is loaded.
    - `run_dir`: where to write the run record; None writes none. A directory holding an
      interrupted run of the same network is resumed from its last checkpoint.
    - `strategy`: "default", "mirrored", "multi-worker" or a tf.distribute.Strategy
      (TensorFlow only; create a multi-worker one before any other TensorFlow work).
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
        self.strategy_name = strategy if isinstance(strategy, str) else dist.strategy_name(strategy)
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
        self.paused_seconds = 0.0
        self._info_written = False
        self._download_tenths = -1
        self._best_loss = math.inf
        self._best_epoch = 0
        self._best_weights: list | None = None  # NumPy (from a checkpoint) or `snapshot`s
        self._val_predictions: list[tuple[np.ndarray, np.ndarray]] = []
        self._resume_state: dict[str, Any] = {}

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

        Blocks until training ends; call it once, on the thread that owns Keras work.
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
        self.loss = check_loaded(self.dataset, facts, s)
        if s.task != "auto" or self.loss.task != CLASSIFICATION:  # the familiar case goes without saying
            how = "as the project's training task says" if s.task != "auto" else "chosen from the data and the output"
            self.callbacks.message(f"task: {TASK_TITLES[self.loss.task]}, {how}")
        if self.strategy_name == "multi-worker" and s.fine_tune:
            raise UserError("--strategy multi-worker does not run the fine-tuning recipe; train with --strategy "
                            'default or mirrored, or set training "fine_tune" to null')
        if self.strategy_name == "multi-worker" and not self.loss.classifies:
            raise UserError(f"--strategy multi-worker trains classifiers only; train this {self.loss.task} "
                            "network with --strategy default or mirrored")
        gradients = dist.custom_gradient_names()  # those tracing registers are dropped when the run ends
        self._build(facts)
        try:
            if self.run_dir is not None and chief:
                self.record = RunRecord.open(self.run_dir, self._snapshot_project())
            start_epoch, previous_seconds = self._resume_or_start()
            started = time.monotonic()
            reason, message = self._fit(start_epoch)
            test = self._evaluate("test") if self.evaluate_test and self.dataset.num_test else {}
            seconds = time.monotonic() - started - self.paused_seconds
            result = TrainingResult(
                test_loss=test.get("loss"), test_accuracy=test.get("accuracy"), epochs=len(self.history),
                seconds=seconds, run_dir=self.record.path if self.record else None, history=list(self.history),
                stopped_reason=reason, message=message, test_top_k_accuracy=test.get("top_k_accuracy"),
                best_epoch=self._best_epoch or None,
                initial_weights=self.started_from.to_dict() if self.started_from else None, task=self.loss.task,
                test_metrics={name: test.get(name) for name in self._extra_metrics()})
            if self.record:
                self._save_final_models()
                self._write_info(status=reason, message=message, seconds=previous_seconds + seconds,
                                 finished=time.strftime("%Y-%m-%dT%H:%M:%S"), test=test,
                                 best_epoch=result.best_epoch)
        except UserError as exc:
            self._mark_interrupted(str(exc))
            raise
        finally:
            if self.record:
                self.record.close()
            dist.forget_custom_gradients(gradients)
        if message:
            self.callbacks.message(message)
        return result

    def _mark_interrupted(self, why: str) -> None:
        """Say in run.json that the run ended early and can be resumed (if the disk still takes it)."""
        if self.record is None or not self._info_written:
            return
        try:
            self._write_info(status=INTERRUPTED, message=why)
        except UserError:
            pass

    def _download_progress(self, fraction: float) -> None:
        """A message at every tenth of a dataset download (mnist, cifar10, ... the first time)."""
        tenth = int(fraction * 10 + 1e-9)
        if tenth > self._download_tenths:
            self._download_tenths = tenth
            self.callbacks.message(f"downloading '{self.dataset_name}' into Keras's cache: {tenth * 10}%")

    # -- building and resuming ------------------------------------------------------------------
    def _build(self, facts: NetworkFacts) -> None:
        s, loss = self.settings, self.loss
        keras.utils.set_random_seed(s.seed)
        self.steps_per_epoch = self._batches_per_epoch()
        self.phases = fit_rules.training_phases(s.epochs, s.fine_tune)
        self.phase = 0
        self.phase_log: list[dict[str, Any]] = []
        self.top_k = fit_rules.top_k_for(s.top_k if "top_k" in s.metrics else None, loss.binary,
                                         self.dataset.num_classes) if loss.classifies else None
        fit_rules.use_mixed_precision(s.mixed_precision)
        quick = facts.analysis.activation_values() * s.batch_size < QUICK_BATCH_VALUES
        # (not under a tf.distribute strategy: Keras's multi-step loop fails there with the NaN-skipping optimizer)
        self._steps_per_execution = STEPS_PER_EXECUTION if (
            quick and self.report_every and keras.backend.backend() == "tensorflow"
            and self.strategy_name == "default") else 1
        try:
            with dist.scope(self.strategy):
                self.model = build_model(self.project.network, self.project.name)
                self.backbones = [self.model.get_layer(n) for n in backbone_ids(self.project.network)] \
                    if s.fine_tune else []
                fit_rules.freeze_backbones(self.backbones)
                self._compile()
        finally:
            fit_rules.use_mixed_precision(None)
        self._probe = self._probe_model()

    def _compile(self) -> None:
        """(Re)compile for the current phase: its learning rate (schedule over its epochs), a fresh optimizer
        for the weights that train in it. Called under the strategy's scope."""
        s, loss = self.settings, self.loss
        first, end, factor, _ = self.phases[self.phase]
        self.rate = fit_rules.learning_rate_schedule(s.learning_rate * factor, s.schedule, s.schedule_params,
                                                     end - first, self.steps_per_epoch)
        self.optimizer = fit_rules.make_optimizer(s.optimizer, self.rate, s.momentum, s.weight_decay,
                                                  s.mixed_precision)
        self.model.compile(optimizer=self.optimizer, loss=loss.keras_loss(),
                           metrics=fit_rules.metric_objects(loss.binary, loss.one_hot, loss.from_logits,
                                                            self.top_k, loss.task, loss.num_classes),
                           steps_per_execution=self._steps_per_execution)
        self.optimizer.build(self.model.trainable_variables)

    def _enter_phase(self, index: int, *, quiet: bool = False) -> None:
        """Fine-tuning: unfreeze the top layers of the backbones and recompile at the lower learning rate;
        the change is said in Messages and kept in run.json (`fine_tune_phases`)."""
        self.phase = index
        first, end, factor, top = self.phases[index]
        unfrozen = 0
        if top is not None:
            with dist.scope(self.strategy):
                unfrozen = fit_rules.unfreeze_top(self.backbones, top)
                fit_rules.use_mixed_precision(self.settings.mixed_precision)
                try:
                    self._compile()
                finally:
                    fit_rules.use_mixed_precision(None)
        self._resume_state.pop("rules", None)  # the plateau rule and early stopping start afresh in a phase
        if quiet:
            return
        self._log_phase(first, end, factor, top, unfrozen)

    def _end_phase_early(self, index: int, rules: list) -> None:
        """Early stopping ended a fine-tuning phase before the last: it keeps its best weights, and the next
        phase starts at once for its own epochs (the run ends sooner); said in Messages and run.json."""
        stop = fit_rules.early_stop(rules)
        if stop is None or index + 1 >= len(self.phases):
            return
        stopped, kept = stop
        self.phases = fit_rules.after_early_stop(self.phases, index, stopped)
        self.callbacks.message(fit_rules.phase_stopped_text(index, len(self.phases), stopped, kept,
                                                            self.settings.early_stopping, self.phases[index + 1][0]))
        for entry in self.phase_log:
            if entry.get("phase") == index + 1:
                entry.update(epochs=stopped + 1 - self.phases[index][0], ended_early_after_epoch=stopped + 1,
                             kept_epoch=kept + 1)
        self._write_info(fine_tune_phases=self.phase_log)

    def _log_phase(self, first: int, end: int, factor: float, top: int | None, unfrozen: int) -> None:
        trainable, frozen = fit_rules.parameter_counts(self.model)
        rate = self.settings.learning_rate * factor
        names = ", ".join(b.name for b in self.backbones)
        if top is None:
            what = f"the head trains for {end - first} epochs with the backbone ({names}) frozen"
        else:
            what = (f"the top {top} layers of the backbone ({names}) train too ({unfrozen} with weights; "
                    f"BatchNormalization stays frozen) for {end - first} epochs")
        self.callbacks.message(f"fine-tuning, phase {self.phase + 1} of {len(self.phases)} from epoch {first + 1}: "
                               f"{what}, learning rate {rate:.3g}; {trainable:,} trainable and {frozen:,} "
                               "non-trainable parameters")
        self.phase_log.append({"phase": self.phase + 1, "first_epoch": first + 1, "epochs": end - first,
                               "learning_rate": rate, "unfreeze_top": top, "unfrozen_layers": unfrozen,
                               "trainable_params": trainable, "non_trainable_params": frozen})
        self._write_info(fine_tune_phases=self.phase_log)

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
        done = int(state.get("epoch", 0))
        for entry in record.info.get("fine_tune_phases", []):  # a phase that early stopping ended, and after
            stopped = entry.get("ended_early_after_epoch")
            if isinstance(stopped, int) and 0 < entry.get("phase", 0) < len(self.phases) and done >= stopped:
                self.phases = fit_rules.after_early_stop(self.phases, entry["phase"] - 1, stopped - 1)
        for index, (first, _end, _factor, _top) in enumerate(self.phases):
            if index > self.phase and done > first:  # the checkpoint was saved in that phase, with its optimizer
                self._enter_phase(index, quiet=True)
        self.phase_log = list(record.info.get("fine_tune_phases", []))
        record.checkpoints.restore_last(self.model, self.optimizer)
        self._best_weights = record.checkpoints.load_best()
        self.history = [EpochReport(**row) for row in state.get("history", [])]
        best = state.get("best", {})
        self._best_loss = math.inf if best.get("loss") is None else float(best["loss"])
        self._best_epoch = int(best.get("epoch", 0))
        self._resume_state = state
        done = int(state.get("epoch", len(self.history)))
        saved = read_val_predictions(record.path)
        self._val_predictions = [] if saved is None else \
            [(saved.predicted[k], saved.confidence[k]) for k in saved.epochs if k <= done]
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
                task=self.loss.task,
                dataset={"name": d.name, "num_train": d.num_train, "num_validation": d.num_validation,
                         "num_test": d.num_test, "input_shape": list(d.input_shape),
                         "class_names": list(d.class_names), "preprocessing": d.preprocessing.describe()},
                strategy=dist.describe_strategy(self.strategy, self.strategy_name),
                backend=keras.backend.backend(), versions=versions(), **fields)
            self._info_written = True
        self.record.write_info(epochs_completed=len(self.history),
                               final=self.history[-1].to_dict() if self.history else None, **fields)

    # -- fitting --------------------------------------------------------------------------------
    def _batches_per_epoch(self) -> int:
        n = math.ceil(self.dataset.num_train / self.settings.batch_size)
        return min(n, self.settings.max_steps_per_epoch or n)

    def _fit(self, start: int) -> tuple[str, str]:
        """model.fit from epoch `start`; why it ended and what to tell the user."""
        s, loss, data = self.settings, self.loss, self.dataset
        monitor = "val_loss" if data.num_validation else "loss"
        rules = fit_rules.schedule_callbacks(s.schedule, s.schedule_params, s.early_stopping, monitor)
        self.validation = fit_rules.ValidationPass(
            data.fit_inputs("validation") if data.num_validation else np.zeros((0,)),
            data.labels("validation"), s.batch_size, loss.binary, loss.one_hot, loss.from_logits, self.top_k,
            predict=self._predict if self.strategy_name == "multi-worker" else None, task=loss.task,
            num_classes=loss.num_classes)
        run = RunCallback(self, self.steps_per_epoch, self.report_every,
                          self.snapshot_every if self._probe is not None else None, self._restore_rules)
        self._rules = rules
        callbacks = RunCallbacks([self.validation, *rules], run, self.model, s.epochs, self.steps_per_epoch)
        class_weight = fit_rules.class_weights(data.labels("train"), s.class_weight, data.class_names) \
            if loss.classifies else None
        if self.record:  # the epochs' files are written beside training, which never waits for the disk
            self.record.write_behind()
        try:
            if self.strategy_name == "multi-worker":
                from .training.multi_worker import fit_multi_worker

                fit_multi_worker(self, callbacks, start)
            else:
                batches = data.fit_batches("train", s.batch_size, shuffle=True, seed=s.seed, first_epoch=start,
                                           one_hot=data.num_classes if loss.one_hot else None,
                                           max_batches=s.max_steps_per_epoch)
                for index in range(self.phase, len(self.phases)):
                    first, end, factor, top = self.phases[index]
                    if end <= max(start, first):  # nothing left of it (a run resumed after it)
                        continue
                    if index != self.phase:
                        self._enter_phase(index)
                    elif s.fine_tune and start <= first:
                        self._log_phase(first, end, factor, top, 0)
                    self.model.fit(batches, epochs=end, initial_epoch=max(start, first), callbacks=callbacks,
                                   verbose=0, shuffle=False, class_weight=class_weight)
                    self._end_phase_early(index, rules)
        except Interrupted as interrupted:
            self._written()
            epoch = interrupted.epoch + 1
            if interrupted.reason == DIVERGED:
                self._keep_good_weights()
                rate = self.current_rate()
                return DIVERGED, (f"training stopped in epoch {epoch}: the loss became NaN or infinite "
                                  f"(learning rate {rate:.3g} may be too high, or the inputs hold extreme "
                                  "values); the last good weights were kept")
            return STOPPED, f"training stopped by request during epoch {epoch}"
        except BaseException:
            if self.record:
                with contextlib.suppress(Exception):  # what ended the run is the error to report
                    self.record.flush_checkpoints()
                self.record.write_now(raise_error=False)
            raise
        self._written()
        stopper = next((r for r in rules if isinstance(r, keras.callbacks.EarlyStopping)), None)
        if stopper is not None and stopper.stopped_epoch > 0:
            kept = stopper.best_epoch + 1
            return EARLY_STOPPING, (f"early stopping after epoch {stopper.stopped_epoch + 1}: validation loss did "
                                    f"not improve for {s.early_stopping} epochs; kept the weights of epoch {kept}, "
                                    "the best")
        return FINISHED, ""

    def _written(self) -> None:
        """Wait for the epochs' files; a write that failed (a full disk) is the run's error now."""
        if self.record:
            self.record.flush_checkpoints()
            self.record.write_now()

    def remember_good_weights(self) -> None:
        """A copy of the model's variables (on their device), taken when training starts and after each finished
        epoch: the weights among them are the good weights, and the epoch's checkpoint writes them all."""
        variables = self.model.variables
        self._good_values = snapshot(variables)
        position = {id(v): i for i, v in enumerate(variables)}
        self._good_weights = [self._good_values[position[id(w)]] for w in self.model.weights]

    def _keep_good_weights(self) -> None:
        """After a NaN stop: the optimizer skipped non-finite steps, but should a weight still have
        become NaN or infinite, go back to the weights of the last finished epoch."""
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()
        current = self.model.get_weights()
        if not all(np.isfinite(w).all() for w in current) and getattr(self, "_good_weights", None) is not None:
            self.model.set_weights(self._good_weights)

    def _restore_rules(self) -> None:
        """Put the plateau rule and early stopping back where a resumed run left them."""
        self.remember_good_weights()
        state = self._resume_state.get("rules", {})
        for rule in self._rules:
            saved = state.get(type(rule).__name__)
            if not saved:
                continue
            for key in ("wait", "cooldown_counter", "best_epoch"):
                if key in saved:
                    setattr(rule, key, int(saved[key]))
            if saved.get("best") is not None:
                rule.best = float(saved["best"])
            if isinstance(rule, keras.callbacks.EarlyStopping) and self._best_weights is not None:
                rule.best_weights = list(self._best_weights)

    def _rule_state(self) -> dict[str, Any]:
        out = {}
        for rule in self._rules:
            best = getattr(rule, "best", None)
            out[type(rule).__name__] = {
                "wait": int(getattr(rule, "wait", 0)), "cooldown_counter": int(getattr(rule, "cooldown_counter", 0)),
                "best_epoch": int(getattr(rule, "best_epoch", 0)),
                "best": None if best is None or not math.isfinite(float(best)) else float(best)}
        return out

    def current_rate(self) -> float:
        """The learning rate the optimizer uses now (for its next step)."""
        if isinstance(self.rate, keras.optimizers.schedules.LearningRateSchedule):
            step = int(keras.ops.convert_to_numpy(self.optimizer.iterations))
            return fit_rules.rate_at(self.rate, step)
        return float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))

    def end_epoch(self, epoch: int, logs: dict[str, float], rate: float, seconds: float) -> None:
        """Called after each finished epoch (validation done): report, record, checkpoint."""
        images = min(self.dataset.num_train, self.steps_per_epoch * self.settings.batch_size)
        monitored = logs.get("val_loss", logs.get("loss"))
        improved = monitored is not None and math.isfinite(monitored) and monitored < self._best_loss
        self.remember_good_weights()
        if improved:
            self._best_loss, self._best_epoch = monitored, epoch + 1
            self._best_weights = self._good_weights
        extras = {column: logs.get(column) for name in self._extra_metrics() for column in (name, f"val_{name}")}
        report = EpochReport(epoch + 1, self.settings.epochs, logs["loss"], logs.get("accuracy"),
                             logs.get("val_loss"), logs.get("val_accuracy"), rate, seconds,
                             images / max(seconds, 1e-9), logs.get("top_k_accuracy"),
                             logs.get("val_top_k_accuracy"), improved,
                             {k: None if v is None else float(v) for k, v in extras.items()})
        self.history.append(report)
        if self.validation.predictions is not None:
            self._val_predictions.append(self.validation.predictions)
        if self.record:
            self._save_epoch(report, improved)
        if self.callbacks.on_epoch:
            self.callbacks.on_epoch(report)
        lowered = self.current_rate()
        if self.settings.schedule == "plateau" and lowered < rate * (1 - 1e-6):
            self.callbacks.message(f"validation loss stopped improving; learning rate lowered to {lowered:.3g}")

    def _save_epoch(self, report: EpochReport, improved: bool) -> None:
        record = self.record
        record.write_metrics(self.history)
        record.log_epoch(self.history)
        if self._val_predictions and self.loss is not None and self.loss.classifies:
            record.write_val_predictions(self.dataset.labels("validation"), self._val_predictions,
                                         self.dataset.num_classes)
        elapsed = sum(r.seconds for r in self.history)
        record.save_checkpoints(record.checkpoints.last_of(self._good_values, self.optimizer, {
            "epoch": report.epoch, "history": [r.to_dict() for r in self.history], "seconds": elapsed,
            "best": {"loss": None if math.isinf(self._best_loss) else self._best_loss, "epoch": self._best_epoch},
            "rules": self._rule_state()}), self._best_weights if improved else None)
        self._write_info(status=RUNNING)

    def _save_final_models(self) -> None:
        """model.keras (the weights training ended with) and checkpoints/best.keras."""
        record = self.record
        record.save_model(self.model)
        if self._best_weights is None:
            return
        final = [np.asarray(w) for w in self.model.get_weights()]
        same = len(final) == len(self._best_weights) and all(
            np.array_equal(a, host(b)) for a, b in zip(final, self._best_weights, strict=True))
        if same:
            save_model_atomically(self.model, record.checkpoints.best_model, "the best model")
            return
        values = model_values(self.model)
        self.model.set_weights(self._best_weights)
        try:
            save_model_atomically(self.model, record.checkpoints.best_model, "the best model")
        finally:
            set_model_values(self.model, values)

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, split: str = "test") -> dict[str, float | None]:
        """Loss, accuracy (and top-k accuracy, or the task's mean_iou, auc or mae) of the current weights on a
        whole split, after run().

        The test split is for a final, fair estimate: look at it once, not while choosing settings.
        """
        if self.model is None:
            raise RuntimeError("evaluate() needs a model: call run() first")
        if split not in ("validation", "test"):
            raise UserError(f"unknown split {split!r}; use 'validation' or 'test'")
        return self._evaluate(split)

    def _extra_metrics(self) -> tuple[str, ...]:
        """The task's own figures beside loss and accuracy (mean_iou, auc, mae)."""
        return fit_rules.TASK_METRICS.get(self.loss.task, ())

    def _evaluate(self, split: str) -> dict[str, float | None]:
        """Mean loss and accuracy (and the task's figures) over a whole split (validation or test), from
        one prediction pass."""
        loss = self.loss
        x = self.dataset.fit_inputs(split)
        if not loss.classifies:
            return fit_rules.evaluate(self.model, x, self.dataset.labels(split), self.settings.batch_size,
                                      loss.task, loss.from_logits, loss.num_classes,
                                      fit_rules.regularization_loss(self.model))
        if self.strategy_name == "multi-worker":
            pred = self._predict(x)
        elif isinstance(x, keras.utils.PyDataset):
            pred = self.model.predict(x, verbose=0)
        else:
            pred = self.model.predict(x, batch_size=self.settings.batch_size, verbose=0)
        return fit_rules.score(pred, self.dataset.labels(split), loss.binary, loss.one_hot, loss.from_logits,
                               self.top_k, fit_rules.regularization_loss(self.model))

    def _predict(self, x) -> np.ndarray:
        """Outputs by plain calls of the model, batch by batch: the same on every worker of a cluster
        (Keras 3's predict does not run under a multi-worker strategy)."""
        batch = self.settings.batch_size
        if isinstance(x, keras.utils.PyDataset):
            parts = [x[i][0] for i in range(len(x))]
        else:
            parts = [x[i:i + batch] for i in range(0, len(x), batch)]
        outputs = [keras.ops.convert_to_numpy(self.model(p, training=False)) for p in parts]
        return np.concatenate(outputs) if outputs else np.zeros((0,))

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
        outputs = [layer_output(self.model.get_layer(n)) for n in self.snapshot_layers]
        return keras.Model(self.model.inputs, outputs)

    def send_snapshot(self, epoch: int, batch: int) -> None:
        """Weights and probe activations of the watched layers, as they are now."""
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()  # JAX keeps the weights apart from the model during fit
        activations = self._probe([np.asarray(self.probe_images, np.float32)], training=False)
        if not isinstance(activations, (list, tuple)):
            activations = [activations]
        weights = {n: [np.array(w) for w in self.model.get_layer(n).get_weights()] for n in self.snapshot_layers}
        self.callbacks.on_snapshot(Snapshot(epoch, batch, weights, {
            n: np.asarray(keras.ops.convert_to_numpy(a)) for n, a in zip(self.snapshot_layers, activations,
                                                                         strict=True)}))
