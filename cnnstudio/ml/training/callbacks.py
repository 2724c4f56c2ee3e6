"""How CNN Studio trains, in plain Keras: optimizer, schedule, plateau rule, early stopping,
class weights, mixed precision, batches, the loss and metrics of each task and the validation pass.

Tasks: "classification" (and "binary": one sigmoid unit), "multilabel" (0/1 labels per image:
binary cross-entropy, binary accuracy and AUC), "segmentation" (a class per pixel: cross-entropy
per pixel, pixel accuracy and mean IoU) and "regression" (mean squared error, and MAE).

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
        labels = self.y[indices]  # class numbers, 0/1 labels, masks or values
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


class Tally:
    """The figures of a multi-label, segmentation or regression task, added up a batch at a time (a
    validation split of large masks never has to be held in memory at once).

    Segmentation: loss (cross-entropy per pixel), accuracy (of pixels) and mean_iou (the mean over
    classes present of |predicted and true| / |predicted or true|, from the confusion over pixels, as
    Keras's MeanIoU computes it). Multi-label: loss (binary cross-entropy per label), accuracy (of the
    0/1 answers) and auc (Keras's AUC per label, averaged). Regression: loss (mean squared error),
    accuracy (none) and mae.
    """

    def __init__(self, task, from_logits=False, num_classes=None):
        self.task, self.from_logits, self.num_classes = task, from_logits, num_classes
        self.loss_sum, self.count, self.correct, self.absolute = 0.0, 0, 0, 0.0
        self.confusion = None
        self.kept = []  # multi-label: (probabilities, labels) for the AUC

    def add(self, pred, labels):
        p = np.asarray(pred, np.float64)
        y = np.asarray(labels)
        if self.task == "segmentation":
            k = p.shape[-1]
            p = p.reshape(-1, k)
            y = y.reshape(-1).astype(np.int64)
            if self.from_logits:
                shifted = p - p.max(axis=-1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            else:
                log_p = np.log(np.clip(p / p.sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7))
            predicted = p.argmax(axis=-1)
            self.loss_sum -= float(log_p[np.arange(len(y)), y].sum())
            self.count += len(y)
            self.correct += int(np.sum(predicted == y))
            classes = int(self.num_classes or k)
            cells = np.bincount(y * classes + predicted, minlength=classes * classes)
            cells = cells[:classes * classes].reshape(classes, classes)
            self.confusion = cells if self.confusion is None else self.confusion + cells
        elif self.task == "multilabel":
            y = y.astype(np.float64).reshape(p.shape)
            prob = 1 / (1 + np.exp(-p)) if self.from_logits else np.clip(p, 1e-7, 1 - 1e-7)
            if self.from_logits:
                entropy = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
            else:
                entropy = -(y * np.log(prob) + (1 - y) * np.log(1 - prob))
            self.loss_sum += float(entropy.sum())
            self.count += y.size
            self.correct += int(np.sum((prob > 0.5) == (y > 0.5)))
            self.kept.append((prob.astype(np.float32), y.astype(np.float32)))
        else:
            error = p.reshape(len(p), -1) - y.astype(np.float64).reshape(len(p), -1)
            self.loss_sum += float(np.square(error).sum())
            self.absolute += float(np.abs(error).sum())
            self.count += error.size

    def result(self, extra_loss=0.0):
        if self.count == 0:
            return {"loss": None, "accuracy": None, **{name: None for name in TASK_METRICS[self.task]}}
        figures = {"loss": self.loss_sum / self.count + extra_loss, "accuracy": None}
        if self.task == "segmentation":
            figures["accuracy"] = self.correct / self.count
            figures["mean_iou"] = mean_iou(self.confusion)
        elif self.task == "multilabel":
            figures["accuracy"] = self.correct / self.count
            prob = np.concatenate([p for p, _ in self.kept])
            y = np.concatenate([t for _, t in self.kept])
            auc = keras.metrics.AUC(multi_label=True, num_labels=prob.shape[-1])
            auc.update_state(y, prob)
            figures["auc"] = float(keras.ops.convert_to_numpy(auc.result()))
        else:
            figures["mae"] = self.absolute / self.count
        return figures


TASK_METRICS = {"classification": (), "binary": (), "multilabel": ("auc",), "segmentation": ("mean_iou",),
                "regression": ("mae",)}


def mean_iou(confusion):
    """The mean over classes present (in the truth or the prediction) of TP / (TP + FP + FN)."""
    confusion = np.asarray(confusion, np.float64)
    true_positives = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - true_positives
    present = union > 1e-9
    if not present.any():
        return 0.0
    return float(np.sum(true_positives[present] / (union[present] + 1e-7)) / present.sum())


def evaluate(model, x, labels, batch_size, task, from_logits=False, num_classes=None, extra_loss=0.0,
             predict=None):
    """The figures of a multi-label, segmentation or regression `task` on images `x` (an array or
    batches) with their `labels`, predicted a piece at a time (`predict`: how, else `model.predict`)."""
    tally = Tally(task, from_logits, num_classes)
    labels = np.asarray(labels)
    start = 0
    for images in pieces(x, max(int(batch_size), 1)):
        outputs = predict(images) if predict is not None else model.predict(images, batch_size=batch_size,
                                                                            verbose=0)
        tally.add(outputs, labels[start:start + len(images)])
        start += len(images)
    return tally.result(extra_loss)


def pieces(x, batch_size, per_piece=16):
    """The images of `x` a few batches at a time: from an array, or a batches object's items."""
    if isinstance(x, keras.utils.PyDataset):
        for i in range(len(x)):
            yield x[i][0]
        return
    step = batch_size * per_piece
    for start in range(0, len(x), step):
        yield x[start:start + step]


def regularization_loss(model):
    """The sum of the model's weight penalties (L1/L2) at its current weights."""
    total = 0.0
    for loss in model.losses:
        total += float(keras.ops.convert_to_numpy(loss))
    return total


def training_phases(epochs, fine_tune=None):
    """The phases of a run as (first epoch, end epoch, learning-rate factor, layers to unfreeze).

    Without fine-tuning: one phase. With `fine_tune` ({"head_epochs", "unfreeze_top",
    "rate_factor"}): the head trains with the backbones frozen for `head_epochs`, then the top
    `unfreeze_top` layers of each backbone train too, at the learning rate x `rate_factor`.
    """
    if not fine_tune:
        return [(0, int(epochs), 1.0, None)]
    head = min(int(fine_tune["head_epochs"]), int(epochs))
    return [(0, head, 1.0, None),
            (head, int(epochs), float(fine_tune.get("rate_factor", 0.1)), int(fine_tune["unfreeze_top"]))]


def early_stop(callbacks):
    """(the epoch early stopping ended a fit after, the epoch whose weights it kept), both counted from 0;
    None when it did not stop that fit."""
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.stopped_epoch > 0:
            return callback.stopped_epoch, callback.best_epoch
    return None


def after_early_stop(phases, index, stopped):
    """The phases once early stopping ended phase `index` after epoch `stopped` (from 0): that phase ends
    there, and each later phase starts right after, with its own number of epochs (the run ends sooner)."""
    changed = list(phases[:index])
    first, _, factor, top = phases[index]
    end = stopped + 1
    changed.append((first, end, factor, top))
    for later_first, later_end, later_factor, later_top in phases[index + 1:]:
        length = later_end - later_first
        changed.append((end, end + length, later_factor, later_top))
        end += length
    return changed


def phase_stopped_text(index, count, stopped, kept, patience, next_first):
    """What a run says when early stopping ends a fine-tuning phase before the last one."""
    return (f"fine-tuning, phase {index + 1} of {count} ended early after epoch {stopped + 1}: validation loss "
            f"did not improve for {patience} epoch{'s' if patience != 1 else ''}; kept the weights of epoch {kept + 1}, the best; phase "
            f"{index + 2} starts now, from epoch {next_first + 1}")


def backbone_base(backbone):
    """The keras.applications network inside a backbone (after its preprocessing), or the backbone itself."""
    inner = [layer for layer in backbone.layers if isinstance(layer, keras.Model)]
    return inner[-1] if inner else backbone


def freeze_backbones(backbones):
    """Fine-tuning, phase 1: each backbone frozen whole (its BatchNormalization in inference mode)."""
    for backbone in backbones:
        backbone.trainable = False


def unfreeze_top(backbones, count):
    """Fine-tuning, phase 2: the top `count` layers of each backbone's network train again, except
    BatchNormalization, which stays frozen in inference mode (as Keras's transfer-learning guide
    recommends); its preprocessing stays fixed. The number of layers that now train."""
    unfrozen = 0
    for backbone in backbones:
        base = backbone_base(backbone)
        top = {id(layer) for layer in base.layers[len(base.layers) - int(count):]} if count > 0 else set()
        backbone.trainable = True
        for layer in backbone.layers:
            if layer is not base:
                layer.trainable = False
        for layer in base.layers:
            layer.trainable = id(layer) in top and not isinstance(layer, keras.layers.BatchNormalization)
            unfrozen += bool(layer.trainable and layer.weights)
    return unfrozen


def parameter_counts(model):
    """(trainable, non-trainable) parameters, as Keras's summary counts them."""
    def count(weights):
        return sum(int(np.prod(w.shape)) for w in weights)

    return count(model.trainable_weights), count(model.non_trainable_weights)


def top_k_for(top_k, binary, num_classes):
    """k when top-k accuracy means something for this output (k below the class count), else None."""
    return top_k if top_k and not binary and top_k < num_classes else None


def metric_objects(binary, one_hot, from_logits, top_k, task="classification", num_classes=None):
    """The training metrics: accuracy (of pixels in segmentation, of 0/1 answers in multi-label), and
    top-k accuracy when `top_k` is set; mean IoU in segmentation, AUC in multi-label, MAE in regression."""
    if task == "regression":
        return [keras.metrics.MeanAbsoluteError(name="mae")]
    if task == "multilabel":
        return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits else 0.5),
                keras.metrics.AUC(name="auc", multi_label=True, num_labels=num_classes, from_logits=from_logits)]
    if task == "segmentation":
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                keras.metrics.MeanIoU(num_classes, name="mean_iou", sparse_y_pred=False)]
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


def loss_object(binary, one_hot, from_logits, task="classification"):
    """The Keras loss for the task and the output layer."""
    if task == "regression":
        return keras.losses.MeanSquaredError()
    if binary or task == "multilabel":
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
    val_top_k_accuracy, or the task's val_mean_iou, val_auc or val_mae) to the epoch's logs, so the
    plateau rule and early stopping read them.

    `x` is an array or a batches object (a PyDataset) of the images; `labels` their targets.
    In classification the last epoch's predicted classes and their probabilities stay in `predictions`.
    """

    def __init__(self, x, labels, batch_size, binary=False, one_hot=False, from_logits=False, top_k=None,
                 predict=None, task="classification", num_classes=None):
        super().__init__()
        self.task, self.num_classes = task, num_classes
        per_image = task in ("classification", "binary")
        self.x, self.labels, self.batch_size = x, np.asarray(labels), int(batch_size)
        if per_image:
            self.labels = self.labels.reshape(-1)
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
        if self.task not in ("classification", "binary"):
            figures = evaluate(self.model, self.x, self.labels, self.batch_size, self.task, self.from_logits,
                               self.num_classes, regularization_loss(self.model), self.predict)
            for name, value in figures.items():
                if value is not None:
                    logs[f"val_{name}"] = value
            return
        pred = np.asarray(self.outputs())
        figures = score(pred, self.labels, self.binary, self.one_hot, self.from_logits, self.top_k,
                        regularization_loss(self.model))
        self.predictions = predicted_classes(pred, self.binary, self.from_logits)
        logs["val_loss"], logs["val_accuracy"] = figures["loss"], figures["accuracy"]
        if self.top_k:
            logs["val_top_k_accuracy"] = figures["top_k_accuracy"]
