"""How CNN Studio trains, in plain Keras: optimizer, schedule, plateau rule, early stopping,
class weights, mixed precision, batches and the validation pass.

The app, the command line's train command and every exported training script train with this file:
the script generator copies its source verbatim into each script, so it imports only the
standard library, NumPy and Keras, and works on any Keras backend (TensorFlow, JAX, PyTorch).
"""

import math

import keras
import numpy as np

OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                     "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam"}
SCHEDULE_DEFAULTS = {
    "constant": {},
    "step": {"every": 10, "factor": 0.5},
    "cosine": {"min_fraction": 0.0},
    "plateau": {"factor": 0.5, "patience": 2, "min_lr": 1e-6},
}
NEVER = 2**30  # steps before a loss scale of 1 would grow: never, in practice


def schedule_param(schedule, params, key):
    """One parameter of a learning-rate schedule, its default where `params` leaves it out."""
    return float((params or {}).get(key, SCHEDULE_DEFAULTS[schedule][key]))


def learning_rate_schedule(learning_rate, schedule, params, epochs, steps_per_epoch):
    """The optimizer's learning rate: a Keras schedule object for "step" and "cosine", else a number.

    "step" multiplies the rate by `factor` every `every` epochs; "cosine" lowers it along a
    half cosine to `min_fraction` of the start over all epochs; "plateau" starts from the
    number and `ReduceLROnPlateau` lowers it (see `schedule_callbacks`).
    """
    steps = max(1, int(steps_per_epoch))
    if schedule == "step":
        every = max(1, int(schedule_param(schedule, params, "every")))
        return keras.optimizers.schedules.ExponentialDecay(
            learning_rate, decay_steps=every * steps, decay_rate=schedule_param(schedule, params, "factor"),
            staircase=True)
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=max(1, int(epochs)) * steps,
            alpha=schedule_param(schedule, params, "min_fraction"))
    return float(learning_rate)


def rate_at(rate, step):
    """The learning rate at optimizer step `step` (counted from 0) as a number."""
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return float(keras.ops.convert_to_numpy(rate(step)))
    return float(rate)


def make_optimizer(name, learning_rate, momentum=0.0, weight_decay=None, mixed_precision=None):
    """The Keras optimizer, wrapped so that a batch whose gradients are not finite is skipped.

    The wrapper (Keras's loss-scale optimizer) applies only finite gradients, so a loss that
    turns NaN or infinite leaves the last good weights. With float16 it also scales the loss
    (as Keras does for mixed float16); otherwise the scale stays 1 and changes no number.
    """
    cls = getattr(keras.optimizers, OPTIMIZER_CLASSES[name])
    arguments = {"learning_rate": learning_rate}
    if name in ("sgd", "rmsprop"):
        arguments["momentum"] = momentum
    if name == "adamw":
        arguments["weight_decay"] = 0.004 if weight_decay is None else weight_decay
    elif weight_decay:
        arguments["weight_decay"] = weight_decay
    inner = cls(**arguments)
    if mixed_precision == "float16":
        return keras.optimizers.LossScaleOptimizer(inner)
    return keras.optimizers.LossScaleOptimizer(inner, initial_scale=1.0, dynamic_growth_steps=NEVER)


def use_mixed_precision(mixed_precision):
    """Set Keras's global dtype policy for the next model built: "float16", "bfloat16" or None."""
    keras.mixed_precision.set_dtype_policy(f"mixed_{mixed_precision}" if mixed_precision else "float32")


def schedule_callbacks(schedule, params, early_stopping, monitor):
    """Keras's callbacks for the plateau rule and early stopping (epoch-level, on `monitor`)."""
    callbacks = []
    if schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=schedule_param(schedule, params, "factor"),
            patience=int(schedule_param(schedule, params, "patience")),
            min_lr=schedule_param(schedule, params, "min_lr"), verbose=0))
    if early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=int(early_stopping),
                                                       restore_best_weights=True))
    return callbacks


def class_weights(labels, setting, class_names):
    """`fit`'s class_weight from a project's setting: None, "balanced" or {class name or number: weight}.

    "balanced" weighs each class by N / (classes x its count), so rare classes count as much
    as common ones.
    """
    if setting is None:
        return None
    classes = len(class_names)
    if setting == "balanced":
        counts = np.bincount(np.asarray(labels).reshape(-1), minlength=classes)
        total = float(counts.sum())
        return {c: (total / (classes * counts[c]) if counts[c] else 1.0) for c in range(classes)}
    weights = {c: 1.0 for c in range(classes)}
    for key, weight in setting.items():
        text = str(key)
        index = list(class_names).index(text) if text in class_names else int(text)
        weights[index] = float(weight)
    return weights


class EpochBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays in a new order every epoch, the same for the same seed.

    The order of epoch k (counted from 0) depends only on `seed` and k, on every backend,
    so a run resumed after epoch k sees what an unbroken run would (`first_epoch=k`).
    `one_hot` gives labels as one-hot rows of that many classes; `max_batches` cuts epochs short.
    """

    def __init__(self, x, y, batch_size, seed=0, shuffle=True, first_epoch=0, one_hot=None, max_batches=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_batches = max_batches
        self.x, self.y = x, np.asarray(y)
        self.batch_size, self.seed, self.shuffle = int(batch_size), int(seed), shuffle
        self.one_hot = one_hot
        self.epoch = int(first_epoch)
        self.order = self._order()

    def _order(self):
        if not self.shuffle:
            return np.arange(len(self.y))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.y))

    def __len__(self):
        batches = -(-len(self.y) // self.batch_size)
        return min(batches, self.max_batches) if self.max_batches else batches

    def images(self, indices):
        """The network inputs at these positions (a subclass may decode them from files)."""
        return self.x[indices]

    def __getitem__(self, index):
        indices = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        labels = self.y[indices]
        if self.one_hot:
            labels = np.eye(self.one_hot, dtype=np.float32)[labels]
        return self.images(indices), labels

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()


def cross_entropy(pred, labels, binary, one_hot, from_logits):
    """Per-image cross-entropy in float64, as Keras computes it for the output layer."""
    p = np.asarray(pred, np.float64)
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    eps = 1e-7
    if binary:
        z = p.reshape(-1)
        if from_logits:
            return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        z = np.clip(z, eps, 1 - eps)
        return -(y * np.log(z) + (1 - y) * np.log(1 - z))
    if from_logits:
        shifted = p - p.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    else:
        if one_hot:
            p = p / p.sum(axis=-1, keepdims=True)
        log_p = np.log(np.clip(p, eps, 1 - eps))
    return -log_p[np.arange(len(y)), y]


def predicted_classes(pred, binary, from_logits):
    """(class, probability of that class) per image, from the output layer's values."""
    p = np.asarray(pred, np.float64)
    if binary:
        z = p.reshape(-1)
        prob = 1 / (1 + np.exp(-z)) if from_logits else z
        classes = (prob > 0.5).astype(np.int64)
        return classes, np.where(classes == 1, prob, 1 - prob)
    if from_logits:
        e = np.exp(p - p.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
    classes = p.argmax(axis=-1)
    return classes, p[np.arange(len(classes)), classes]


def score(pred, labels, binary=False, one_hot=False, from_logits=False, top_k=None, extra_loss=0.0):
    """Mean loss (plus `extra_loss`, the weights' regularization), accuracy and top-k accuracy."""
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(y) == 0:
        return {"loss": None, "accuracy": None, "top_k_accuracy": None}
    classes, _ = predicted_classes(pred, binary, from_logits)
    figures = {"loss": float(np.mean(cross_entropy(pred, y, binary, one_hot, from_logits)) + extra_loss),
               "accuracy": float(np.mean(classes == y)), "top_k_accuracy": None}
    if top_k:
        ranked = np.argsort(-np.asarray(pred), axis=-1, kind="stable")[:, :top_k]
        figures["top_k_accuracy"] = float(np.mean((ranked == y[:, None]).any(axis=1)))
    return figures


def regularization_loss(model):
    """The sum of the model's weight penalties (L1/L2) at its current weights."""
    total = 0.0
    for loss in model.losses:
        total += float(keras.ops.convert_to_numpy(loss))
    return total


def top_k_for(top_k, binary, num_classes):
    """k when top-k accuracy means something for this output (k below the class count), else None."""
    return top_k if top_k and not binary and top_k < num_classes else None


def metric_objects(binary, one_hot, from_logits, top_k):
    """The training metrics: accuracy, and top-k accuracy when `top_k` is set."""
    if binary:
        metrics = [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5)]
    elif one_hot:
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
    else:
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    if top_k:
        cls = keras.metrics.TopKCategoricalAccuracy if one_hot else keras.metrics.SparseTopKCategoricalAccuracy
        metrics.append(cls(k=top_k, name="top_k_accuracy"))
    return metrics


def loss_object(binary, one_hot, from_logits):
    """The Keras loss for the output layer."""
    if binary:
        return keras.losses.BinaryCrossentropy(from_logits=from_logits)
    if one_hot:
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


class StopWhenNotFinite(keras.callbacks.Callback):
    """End training after an epoch whose loss became NaN or infinite (the weights stay the last good
    ones: the optimizer skipped those batches)."""

    def __init__(self):
        super().__init__()
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_epoch = epoch
            self.model.stop_training = True


class ValidationPass(keras.callbacks.Callback):
    """After each epoch, predict the validation images once and add val_loss, val_accuracy (and
    val_top_k_accuracy) to the epoch's logs, so the plateau rule and early stopping read them.

    `x` is an array or a batches object (a PyDataset) of the images; `labels` their classes.
    The last epoch's predicted classes and their probabilities stay in `predictions`.
    """

    def __init__(self, x, labels, batch_size, binary=False, one_hot=False, from_logits=False, top_k=None,
                 predict=None):
        super().__init__()
        self.x, self.labels, self.batch_size = x, np.asarray(labels).reshape(-1), int(batch_size)
        self.binary, self.one_hot, self.from_logits, self.top_k = binary, one_hot, from_logits, top_k
        self.predict = predict
        self.predictions = None

    def outputs(self):
        """The output layer's values for every validation image."""
        if self.predict is not None:
            return self.predict(self.x)
        if isinstance(self.x, keras.utils.PyDataset):
            return self.model.predict(self.x, verbose=0)
        return self.model.predict(self.x, batch_size=self.batch_size, verbose=0)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        loss = logs.get("loss")
        if len(self.labels) == 0 or self.model.stop_training or (loss is not None and not math.isfinite(loss)):
            return
        pred = np.asarray(self.outputs())
        figures = score(pred, self.labels, self.binary, self.one_hot, self.from_logits, self.top_k,
                        regularization_loss(self.model))
        self.predictions = predicted_classes(pred, self.binary, self.from_logits)
        logs["val_loss"], logs["val_accuracy"] = figures["loss"], figures["accuracy"]
        if self.top_k:
            logs["val_top_k_accuracy"] = figures["top_k_accuracy"]
