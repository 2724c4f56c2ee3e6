"""The standalone training script's text: data loading, preparation, training, evaluation.

It trains as CNN Studio does with plain Keras and NumPy (so it needs no CNN Studio): the
same splits and pixel preparation, and the very training code of the app, because the
source of `training/callbacks.py` (optimizer, schedules, plateau rule, early stopping,
class weights, batches, validation pass) is copied into the script as it is. No Keras or
TensorFlow is imported here: this is text. `codegen.generate_script` is the entry point.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

from ..core.analysis import Analysis
from ..core.datasets import dataset_info, parse_dataset_name
from ..core.errors import UserError
from ..core.network import Network
from ..core.project import Project
from ..core.tasks import CLASSIFICATION, SEGMENTATION, OutputFacts, choose_task
from .codegen_data import COMMON_HELPERS, data_section
from .training.preparation import backbone_ids
from .training.settings import TrainingSettings, choose_loss

TRAINING_SOURCE = Path(__file__).parent / "training" / "callbacks.py"
COPIED = "# ---- How CNN Studio trains (copied unchanged from CNN Studio's training/callbacks.py) ----"


def training_source() -> str:
    """The source of `training/callbacks.py`, which every script carries as it is."""
    return TRAINING_SOURCE.read_text(encoding="utf-8")


def script_text(network: Network, analysis: Analysis, model_code: str, *, name: str, dataset: dict[str, Any],
                training: dict[str, Any]) -> str:
    """The whole script for `network` trained on `dataset` with `training` (a project's sections)."""
    settings = TrainingSettings.from_project(Project(name, network, dataset, training))
    dataset_name = str(dataset.get("name") or "mnist-sample")
    kind, path = parse_dataset_name(dataset_name)
    output = network.output_nodes()[0]
    info = analysis.layers[output]
    units = int(info.output_shape[-1]) if info.output_shape else 1
    activation = "softmax" if info.type == "Softmax" else (info.resolved or {}).get("activation")
    facts = OutputFacts(tuple(info.output_shape or ()), activation)
    data_task, classes = _data_task(kind, path, facts)
    task = choose_task(settings.task, data_task, facts, classes, dataset_name)
    loss = choose_loss(settings.loss, activation, units, classes or max(units, 2),
                       where=f"the output layer '{output}'", task=task)
    input_shape = tuple(analysis.layers[network.input_nodes()[0]].output_shape or ())
    if len(input_shape) != 3 or None in input_shape:
        raise UserError("a training script needs an image input of fixed size (height, width, channels); "
                        f"this network's input is {list(input_shape)}")
    data_doc, data_code, needs_path = data_section(kind, path, dataset_name, data_task == SEGMENTATION)
    info = dataset_info(kind) if path is None else None
    class_names = list(info.class_names) if info and info.class_names else [str(i) for i in range(classes or units)]
    code = [model_code, data_code, COMMON_HELPERS, _main(name, dataset_name, loss)]
    return (
        _header(name, dataset_name, data_doc, settings) + "\n\n"
        + _imports(needs_path) + "\n\n"
        + _constants(settings, dataset, input_shape, loss.num_classes or classes or units, path, loss, class_names,
                     data_task, backbone_ids(network)) + "\n\n\n"
        + COPIED + "\n\n" + training_source().strip("\n") + "\n\n\n# ---- This network and its data ----\n\n\n"
        + "\n\n\n".join(part.strip("\n") for part in code)
        + '\n\n\nif __name__ == "__main__":\n    main()\n'
    )


def _data_task(kind: str, path: Path | None, output: OutputFacts) -> tuple[str, int | None]:
    """The task the data implies and its classes, from the dataset's description; for a file or folder
    that cannot be read now (the script may run elsewhere), from the output: a map means masks."""
    try:
        info = dataset_info(kind if path is None else f"{kind}:{path}")
    except UserError:
        if path is None:
            raise
        return (SEGMENTATION if len(output.shape) == 3 else CLASSIFICATION), (output.units if output.units else None)
    return info.task, info.num_classes


def _header(name: str, dataset_name: str, data_doc: str, s: TrainingSettings) -> str:
    from .. import __version__

    schedule = "" if s.schedule == "constant" else f" with {s.schedule} decay" if s.schedule != "plateau" \
        else " lowered when validation loss stalls"
    stopping = f", early stopping after {s.early_stopping} epochs without improvement" if s.early_stopping else ""
    if s.fine_tune:
        f = s.fine_tune
        stopping += (f"; fine-tuning: the head trains {f['head_epochs']} epochs with the backbone frozen, then the "
                     f"top {f['unfreeze_top']} layers of the backbone train too (BatchNormalization stays frozen) at "
                     f"the learning rate x {f.get('rate_factor', 0.1):g}")
    title = f"Train {name} on {dataset_name}: a standalone script generated by CNN Studio {__version__}."
    return (
        f'#!/usr/bin/env python3\n"""{docstring_text(title)}\n\n'
        + _wrapped(f"Data: {data_doc}") + "\n"
        + _wrapped(f"Training: {s.optimizer}, learning rate {s.learning_rate:g}{schedule}, batch size "
                   f"{s.batch_size}, {s.epochs} epochs, {s.validation_split:.0%} of the training images for "
                   f"validation, seed {s.seed}{stopping}.") + "\n\n"
        "It needs only Keras 3 (on TensorFlow, JAX or PyTorch: set KERAS_BACKEND) and NumPy.\n"
        "Run it with\n\n"
        "    python this_script.py [--epochs N] [--batch-size N] [--limit N] [--save model.keras]\n\n"
        "--limit N trains on the first N training images only (a quick check).\n"
        '"""'
    )


def _imports(needs_path: bool) -> str:
    lines = ["import argparse"]
    if needs_path:
        lines.append("from pathlib import Path")
    return "\n".join(lines) + "\n\nimport keras\nimport numpy as np\nfrom keras import layers"


def _constants(s: TrainingSettings, dataset: dict[str, Any], input_shape: tuple, classes: int, path, loss,
               class_names: list[str], data_task: str, backbones: list[str]) -> str:
    permute = dataset.get("permute_pixels")
    lines = [
        "# The project's settings, as CNN Studio's training panel shows them.",
        f"EPOCHS = {s.epochs}",
        f"BATCH_SIZE = {s.batch_size}",
        f"OPTIMIZER = {json.dumps(s.optimizer)}",
        f"LEARNING_RATE = {s.learning_rate!r}",
        f"MOMENTUM = {s.momentum!r}  # sgd and rmsprop",
        f"WEIGHT_DECAY = {s.weight_decay!r}",
        f"SCHEDULE = {json.dumps(s.schedule)}  # constant, step, cosine or plateau",
        f"SCHEDULE_PARAMS = {s.schedule_params!r}",
        f"EARLY_STOPPING = {s.early_stopping!r}  # patience in epochs, or None",
        f"MIXED_PRECISION = {s.mixed_precision!r}  # None, \"float16\" or \"bfloat16\"",
        f"CLASS_WEIGHT = {s.class_weight!r}  # None, \"balanced\" or {{class: weight}}",
        f"TOP_K = {s.top_k if 'top_k' in s.metrics else None!r}  # also report top-k accuracy",
        f"VALIDATION_SPLIT = {s.validation_split!r}  # share of the training images kept for validation",
        f"SEED = {s.seed}",
        f"NORMALIZATION = {json.dumps(s.normalization)}  # scale (to 0..1), standardize (per channel) or none",
        f"PERMUTE_PIXELS = {permute!r}  # a seed: one fixed shuffle of the pixel positions, or None",
        f"INPUT_SHAPE = {tuple(input_shape)!r}",
        f"NUM_CLASSES = {classes}",
        f"CLASS_NAMES = {class_names!r}",
        f"TASK = {json.dumps(loss.task)}  # classification, binary, multilabel, segmentation or regression",
        f"DATA_TASK = {json.dumps(data_task)}  # what the data's targets are (class labels are split by class)",
        f"LOSS = {json.dumps(loss.name)}  # chosen from the task and the output layer",
        f"FROM_LOGITS = {loss.from_logits!r}  # the output layer has no softmax/sigmoid",
        "TEST_FRACTION = 0.2  # held out for testing when the data has no test split",
        f"FINE_TUNE = {s.fine_tune!r}  # None, or the head first with the backbone frozen, then its top layers",
        f"BACKBONES = {backbones!r}  # the pretrained backbones' layer names",
    ]
    if path is not None:
        lines.append(f"DATA_PATH = Path({json.dumps(str(path))}).expanduser()")
    return "\n".join(lines)


def _main(name: str, dataset_name: str, loss) -> str:
    return "\n".join([
        "def main():",
        f'    parser = argparse.ArgumentParser(description={json.dumps(f"Train {name} on {dataset_name}.")})',
        '    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the data")',
        '    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="images per step")',
        '    parser.add_argument("--limit", type=int, metavar="N", help="use only N training images")',
        '    parser.add_argument("--save", metavar="FILE", help="save the trained model (.keras)")',
        "    args = parser.parse_args()",
        "    keras.utils.set_random_seed(SEED)",
        "",
        "    (x_train, y_train), (x_test, y_test) = load_data()",
        "    keep, take = stratified_split(strata(y_train), VALIDATION_SPLIT, SEED)",
        "    y_train, y_test = as_targets(y_train), as_targets(y_test)",
        "    x_val, y_val = x_train[take], y_train[take]",
        "    x_train, y_train = x_train[keep], y_train[keep]",
        "    if args.limit:",
        "        x_train, y_train = x_train[: args.limit], y_train[: args.limit]",
        "    x_train, x_val, x_test = prepare(x_train, x_val, x_test)",
        '    if TASK == "segmentation":',
        "        y_train, y_val, y_test = prepare_masks(y_train), prepare_masks(y_val), prepare_masks(y_test)",
        '    print(f"{len(x_train)} training, {len(x_val)} validation and {len(x_test)} test images")',
        "",
        '    binary, one_hot = TASK == "binary", LOSS == "categorical_crossentropy"',
        '    per_image = TASK in ("classification", "binary")',
        "    top_k = top_k_for(TOP_K, binary, NUM_CLASSES) if per_image else None",
        "    steps_per_epoch = -(-len(x_train) // args.batch_size)",
        "    use_mixed_precision(MIXED_PRECISION)",
        "    model = build_model()",
        "    backbones = [model.get_layer(name) for name in BACKBONES] if FINE_TUNE else []",
        "    freeze_backbones(backbones)",
        '    monitor = "val_loss" if len(x_val) else "loss"',
        "    batches = EpochBatches(x_train, y_train, args.batch_size, seed=SEED, one_hot=NUM_CLASSES if one_hot else None)",
        "    phases = training_phases(args.epochs, FINE_TUNE)",
        "    for index in range(len(phases)):",
        "        first, end, factor, top = phases[index]",
        "        if end <= first:",
        "            continue",
        "        if top is not None:",
        "            unfreeze_top(backbones, top)",
        "        if FINE_TUNE:",
        "            trainable, frozen = parameter_counts(model)",
        "            what = f\"the top {top} layers of the backbone train too\" if top is not None else \"the backbone is frozen\"",
        '            print(f"fine-tuning from epoch {first + 1}: {what}, learning rate {LEARNING_RATE * factor:.3g}; "',
        '                  f"{trainable:,} trainable and {frozen:,} non-trainable parameters")',
        "        rate = learning_rate_schedule(LEARNING_RATE * factor, SCHEDULE, SCHEDULE_PARAMS, end - first,",
        "                                      steps_per_epoch)",
        "        use_mixed_precision(MIXED_PRECISION)",
        "        model.compile(",
        "            optimizer=make_optimizer(OPTIMIZER, rate, MOMENTUM, WEIGHT_DECAY, MIXED_PRECISION),",
        "            loss=loss_object(binary, one_hot, FROM_LOGITS, TASK),",
        "            metrics=metric_objects(binary, one_hot, FROM_LOGITS, top_k, TASK, NUM_CLASSES),",
        "        )",
        "        use_mixed_precision(None)",
        "        callbacks = [",
        "            StopWhenNotFinite(),",
        "            ValidationPass(x_val, y_val, args.batch_size, binary, one_hot, FROM_LOGITS, top_k, task=TASK,",
        "                           num_classes=NUM_CLASSES),",
        "            *schedule_callbacks(SCHEDULE, SCHEDULE_PARAMS, EARLY_STOPPING, monitor),",
        "        ]",
        "        model.fit(",
        "            batches,",
        "            initial_epoch=first,",
        "            epochs=end,",
        "            callbacks=callbacks,",
        "            class_weight=class_weights(y_train, CLASS_WEIGHT, CLASS_NAMES) if per_image else None,",
        "            shuffle=False,",
        "            verbose=2,",
        "        )",
        "        stop = early_stop(callbacks)",
        "        if stop is not None and index + 1 < len(phases):  # the next phase starts at once",
        "            phases = after_early_stop(phases, index, stop[0])",
        "            print(phase_stopped_text(index, len(phases), *stop, EARLY_STOPPING, phases[index + 1][0]))",
        "    if per_image:",
        "        pred = model.predict(x_test, batch_size=args.batch_size, verbose=0)",
        "        results = score(pred, y_test, binary, one_hot, FROM_LOGITS, top_k, regularization_loss(model))",
        "    else:",
        "        results = evaluate(model, x_test, y_test, args.batch_size, TASK, FROM_LOGITS, NUM_CLASSES,",
        "                           regularization_loss(model))",
        "    print(f\"test loss: {results['loss']:.4f}\")",
        "    if results['accuracy'] is not None:",
        "        print(f\"test accuracy: {results['accuracy']:.4f}\")",
        "    if top_k:",
        "        print(f\"test top-{top_k} accuracy: {results['top_k_accuracy']:.4f}\")",
        "    for name in TASK_METRICS[TASK]:",
        "        print(f\"test {name}: {results[name]:.4f}\")",
        "    if args.save:",
        "        model.save(args.save)",
        '        print(f"saved the trained model to {args.save}")',
    ])


def _wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(docstring_text(text), 88, break_on_hyphens=False))


def docstring_text(text: str) -> str:
    """Text that cannot end or escape the triple-quoted docstring it goes in: a name never becomes code.
    Control characters (a NUL, which Python source cannot hold) and lone surrogates become escapes."""
    text = text.replace("\\", "\\\\").replace('"""', "'''").replace("\r", " ")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
