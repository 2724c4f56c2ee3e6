"""Training across machines (`--strategy multi-worker`): the one place CNN Studio runs its own step.

Keras 3's `model.fit` cannot run under `tf.distribute.MultiWorkerMirroredStrategy`: its
train step hands per-replica values to code that expects tensors and fails ("unsupported
type PerReplica", keras-team/keras#20585; measured with Keras 3.15). So here the step is
`strategy.run` of a compiled forward/backward pass (`steps.StepFunctions`), and the epoch
loop around it calls the very callbacks `model.fit` would (schedule, plateau rule, early
stopping, validation pass, reports, checkpoints): only the step differs.
"""

from __future__ import annotations

import numpy as np

from .steps import COUNT, NON_FINITE, StepFunctions, distribute, summarize


def fit_multi_worker(trainer, callbacks, start: int) -> None:
    """Train `trainer.model` epoch by epoch from `start` with the trainer's callbacks."""
    s, model = trainer.settings, trainer.model
    optimizer = getattr(trainer.optimizer, "inner_optimizer", trainer.optimizer)  # the step skips NaN batches
    steps = StepFunctions(model, optimizer, trainer.loss, trainer.strategy, s.batch_size, trainer.top_k,
                          trainer.dataset.num_classes)
    data = trainer.dataset.train(s.batch_size, seed=s.seed)
    if s.max_steps_per_epoch:
        data = data.take(s.max_steps_per_epoch)
    data = distribute(trainer.strategy, data)
    model.stop_training = False
    callbacks.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(start, s.epochs):
        steps.reset()
        callbacks.on_epoch_begin(epoch)
        iterator = iter(data)
        batch = 0
        while True:
            callbacks.on_train_batch_begin(batch)
            if not bool(steps.train_step(iterator)):
                break
            callbacks.on_train_batch_end(batch, lambda: _logs(steps.read(), steps.top_k is not None))
            batch += 1
        logs = _logs(steps.read(), steps.top_k is not None)
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end(logs)


def _logs(totals: np.ndarray, has_top_k: bool) -> dict[str, float]:
    """The epoch's running figures as `fit` logs them; a skipped (non-finite) batch makes the loss NaN."""
    figures = summarize(totals, has_top_k)
    logs = {"loss": float("nan") if totals[NON_FINITE] > 0 or totals[COUNT] == 0 else figures["loss"],
            "accuracy": figures["accuracy"]}
    if has_top_k:
        logs["top_k_accuracy"] = figures["top_k_accuracy"]
    return {k: v for k, v in logs.items() if v is not None}
