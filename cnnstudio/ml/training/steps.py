"""The compiled training and evaluation steps for `--strategy multi-worker` (see `multi_worker.py`:
Keras 3's `model.fit` does not run under MultiWorkerMirroredStrategy; everything else uses `fit`).

One call of `train_step(iterator)` takes the next batch, runs forward and backward on
every replica (`strategy.run`), applies the gradients, and adds the batch's sums to
running totals that stay in TensorFlow (no copy to NumPy per batch). A batch whose
loss or gradients are not finite on any replica is *not* applied, so the weights stay
the last good ones, and is counted; the loop reads that count when it reports, and stops.
The apply-or-skip choice is made in cross-replica context (tf.distribute does not allow
a gradient all-reduce inside a replica's conditional).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

from .settings import LossChoice

# Positions in the running totals vector.
LOSS_SUM, CORRECT, TOP_K_CORRECT, COUNT, NON_FINITE = range(5)


class StepFunctions:
    """Compiled steps for one model, optimizer, loss and strategy."""

    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer, loss: LossChoice,
                 strategy: tf.distribute.Strategy, global_batch_size: int, top_k: int | None,
                 num_classes: int) -> None:
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.strategy = strategy
        self.global_batch_size = global_batch_size
        self.top_k = top_k if (top_k and not loss.binary and top_k < num_classes) else None
        self.num_classes = num_classes
        self.replicas = strategy.num_replicas_in_sync
        with tf.device("/CPU:0"):
            self.totals = tf.Variable(tf.zeros(5, tf.float64), trainable=False, name="running_totals")
        self.train_step = tf.function(self._train_one, reduce_retracing=True, autograph=False)
        self.eval_step = tf.function(self._eval_one, reduce_retracing=True, autograph=False)

    # -- per replica ----------------------------------------------------------------------
    def _batch_sums(self, y: tf.Tensor, pred: tf.Tensor, per_example: tf.Tensor) -> list[tf.Tensor]:
        count = tf.cast(tf.shape(y)[0], tf.float32)
        y = tf.cast(y, tf.int32)
        if self.loss.binary:
            threshold = 0.0 if self.loss.from_logits else 0.5
            predicted = tf.cast(tf.reshape(pred, [-1]) > threshold, tf.int32)
        else:
            predicted = tf.argmax(pred, axis=-1, output_type=tf.int32)
        correct = tf.reduce_sum(tf.cast(tf.equal(predicted, y), tf.float32))
        if self.top_k:
            top = tf.reduce_sum(tf.cast(tf.math.in_top_k(y, tf.cast(pred, tf.float32), self.top_k), tf.float32))
        else:
            top = tf.constant(0.0)
        return [tf.reduce_sum(per_example), correct, top, count]

    def _per_example_loss(self, y: tf.Tensor, pred: tf.Tensor) -> tf.Tensor:
        if self.loss.binary:
            target = tf.cast(tf.reshape(y, [-1, 1]), pred.dtype)
            return keras.losses.binary_crossentropy(target, pred, from_logits=self.loss.from_logits)
        if self.loss.one_hot:
            target = tf.one_hot(tf.cast(y, tf.int32), self.num_classes, dtype=pred.dtype)
            return keras.losses.categorical_crossentropy(target, pred, from_logits=self.loss.from_logits)
        return keras.losses.sparse_categorical_crossentropy(y, pred, from_logits=self.loss.from_logits)

    def _regularization(self) -> tf.Tensor:
        losses = self.model.losses
        return tf.add_n(losses) if losses else tf.constant(0.0)

    def _replica_gradients(self, x: tf.Tensor, y: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor]:
        """Forward and backward on one replica's share of the batch: gradients and batch sums."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            pred = self.model(x, training=True)
            per_example = self._per_example_loss(y, pred)
            regularization = self._regularization()
            loss = tf.reduce_sum(per_example) / self.global_batch_size + regularization / self.replicas
        grads = tape.gradient(loss, variables)
        grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)]
        finite = tf.math.is_finite(loss) & tf.math.is_finite(tf.linalg.global_norm(grads))
        sums = self._batch_sums(y, pred, per_example)
        sums[0] = sums[0] + regularization * sums[3]
        return grads, tf.cast(tf.stack([*sums, 1.0 - tf.cast(finite, tf.float32)]), tf.float64)

    def _replica_apply(self, grads: list[tf.Tensor]) -> None:
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))

    def _replica_eval(self, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        pred = self.model(x, training=False)
        sums = self._batch_sums(y, pred, self._per_example_loss(y, pred))
        sums[0] = sums[0] + self._regularization() * sums[3]
        return tf.cast(tf.stack([*sums, tf.constant(0.0)]), tf.float64)

    # -- across replicas --------------------------------------------------------------------
    def _train_one(self, iterator) -> tf.Tensor:
        optional = iterator.get_next_as_optional()

        def step() -> tf.Tensor:
            x, y = optional.get_value()
            grads, sums = self.strategy.run(self._replica_gradients, args=(x, y))
            total = self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)

            def apply() -> tf.Tensor:
                self.strategy.run(self._replica_apply, args=(grads,))
                return tf.constant(0.0, tf.float64)

            # The branch is chosen in cross-replica context, so every replica takes the same one.
            skipped = tf.cond(total[NON_FINITE] < 0.5, apply, lambda: tf.constant(1.0, tf.float64))
            self.totals.assign_add(tf.concat([total[:NON_FINITE], tf.reshape(skipped, [1])], axis=0))
            return tf.constant(True)

        return tf.cond(optional.has_value(), step, lambda: tf.constant(False))

    def _eval_one(self, iterator) -> tf.Tensor:
        optional = iterator.get_next_as_optional()

        def step() -> tf.Tensor:
            x, y = optional.get_value()
            sums = self.strategy.run(self._replica_eval, args=(x, y))
            self.totals.assign_add(self.strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None))
            return tf.constant(True)

        return tf.cond(optional.has_value(), step, lambda: tf.constant(False))

    # -- totals -----------------------------------------------------------------------------
    def reset(self) -> None:
        self.totals.assign(tf.zeros(5, tf.float64))

    def read(self) -> np.ndarray:
        """The running totals as NumPy (this waits for the steps queued so far)."""
        return self.totals.numpy()


def summarize(totals: np.ndarray, has_top_k: bool) -> dict[str, float | None]:
    """Mean loss, accuracy and top-k accuracy from running totals (None when nothing was seen)."""
    count = float(totals[COUNT])
    if count <= 0:
        return {"loss": None, "accuracy": None, "top_k_accuracy": None}
    return {
        "loss": float(totals[LOSS_SUM] / count),
        "accuracy": float(totals[CORRECT] / count),
        "top_k_accuracy": float(totals[TOP_K_CORRECT] / count) if has_top_k else None,
    }


def distribute(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """The dataset split over the strategy's replicas (data sharding, never by file)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def custom_gradient_names() -> frozenset[str]:
    """The gradients `tf.custom_gradient` has registered so far (see `forget_custom_gradients`)."""
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    return frozenset(registry) if isinstance(registry, dict) else frozenset()


def forget_custom_gradients(before: frozenset[str]) -> None:
    """Drop the custom gradients registered since `before` (a run's traced steps no longer need them).

    Tracing a training step registers one globally for the optimizer's all-reduce, and TensorFlow
    never drops it nor the traced graph it holds (tensorflow#97697): about 6 MB per LeNet-5 run,
    which made memory grow with every run in the app. Call it once a run's steps are done with.
    """
    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    if isinstance(registry, dict):
        for name in [n for n in registry if n not in before and n.startswith("CustomGradient-")]:
            registry.pop(name, None)
