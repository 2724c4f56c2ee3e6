"""Fine-tuning a MobileNetV2 backbone on a local folder dataset with `cnnstudio train`.

    python benchmarks/fine_tune.py [--classes 3] [--per-class 200] [--head-epochs 3] [--epochs 6]
                                   [--unfreeze-top 30] [--alpha 1.0] [--keep DIR]

Writes a folder dataset (one subfolder per class) of digits from the bundled MNIST sample as
32x32 RGB PNG files, a project with MobileNetV2 + GlobalAveragePooling2D + Dense, and trains it
through the command line with the fine-tuning recipe. Prints the test accuracy, the time, and
the trainable and non-trainable parameters of each phase.

The backbone's "ImageNet" weights: with `--pretrain N`, MobileNetV2 is first trained with plain
Keras for N epochs on the other digits (a source task, as ImageNet is for real) and its weights
are written into a temporary Keras cache (KERAS_HOME) under the name of the ImageNet file, so
the project asks for `"weights": "imagenet"` and Keras loads them from its cache, offline.
Without it, `--imagenet` uses whatever Keras's own cache holds, else the backbone starts
untrained (`"weights": null`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_folder(root: Path, classes: int, per_class: int) -> None:
    """`per_class` digits of each of the first `classes` digits, as 32x32 RGB PNG files."""
    import numpy as np
    from PIL import Image

    data = np.load(ROOT / "resources" / "mnist-sample.npz")
    x, y = data["x"], data["y"]
    for digit in range(classes):
        folder = root / f"digit_{digit}"
        folder.mkdir(parents=True)
        for i, index in enumerate(np.flatnonzero(y == digit)[:per_class]):
            Image.fromarray(x[index]).resize((32, 32), Image.BILINEAR).convert("RGB").save(folder / f"{i:04d}.png")


def weights_name(alpha: float) -> str:
    """The file Keras's MobileNetV2 looks for in its cache (no top; 32x32 is not in its table: the 224 file)."""
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_224_no_top.h5"


def pretrain(home: Path, classes: int, per_class: int, epochs: int, alpha: float) -> float:
    """Train MobileNetV2 on the digits not in the dataset; write its weights where Keras caches the ImageNet
    file for this alpha (no top, input size not in Keras's table: the 224 file). The seconds it took."""
    import h5py
    import keras
    import numpy as np
    from keras.src.legacy.saving import legacy_h5_format
    from PIL import Image

    started = time.perf_counter()
    data = np.load(ROOT / "resources" / "mnist-sample.npz")
    keep = np.flatnonzero(data["y"] >= classes)
    keep = np.concatenate([keep[data["y"][keep] == d][:per_class] for d in range(classes, 10)])
    x = np.stack([np.asarray(Image.fromarray(img).resize((32, 32), Image.BILINEAR).convert("RGB"))
                  for img in data["x"][keep]]).astype("float32") / 255.0
    y = data["y"][keep] - classes
    keras.utils.set_random_seed(1)
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=alpha, include_top=False, weights=None)
    inputs = keras.Input((32, 32, 3))
    features = base(keras.layers.Rescaling(2.0, offset=-1.0)(inputs))  # as CNN Studio prepares MobileNetV2
    outputs = keras.layers.Dense(10 - classes, activation="softmax")(keras.layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, shuffle=True, verbose=2)
    # MobileNetV2's BatchNormalization keeps its statistics with momentum 0.999: after a few hundred steps
    # they are still near their start. A frozen backbone runs them in inference mode, so set them from the
    # data once (as a long training would have), then check the backbone in inference mode.
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    kept = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    model(x[:1024], training=True)
    for layer, momentum in zip(norms, kept, strict=True):
        layer.momentum = momentum
    _, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    print(f"source task (digits {classes}-9), inference mode: accuracy {accuracy:.4f}", flush=True)
    folder = home / "models"
    folder.mkdir(parents=True, exist_ok=True)
    name = weights_name(alpha)
    with h5py.File(folder / name, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, base)
    return time.perf_counter() - started


def project(dataset: Path, classes: int, args: argparse.Namespace) -> dict:
    return {
        "format": "cnnstudio-project", "version": 2, "name": "mobilenet-finetune",
        "network": {"nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}},
            {"id": "mobilenetv2", "type": "MobileNetV2",
             "params": {"weights": "imagenet" if args.imagenet or args.pretrain else None, "alpha": args.alpha}},
            {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
            {"id": "head", "type": "Dense", "params": {"units": classes, "activation": "softmax"}}],
            "edges": [["image", "mobilenetv2"], ["mobilenetv2", "pool"], ["pool", "head"]]},
        "dataset": {"name": f"folder:{dataset}"},
        "training": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": args.epochs,
                     "validation_split": 0.2, "seed": 0,
                     "fine_tune": {"head_epochs": args.head_epochs, "unfreeze_top": 0, "rate_factor": 0.1}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--head-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--unfreeze-top", type=int, default=30)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--imagenet", action="store_true", help="use ImageNet weights (from Keras's cache)")
    parser.add_argument("--pretrain", type=int, default=0, metavar="N",
                        help="make the backbone's weights first: N epochs on the other digits, into a temporary cache")
    parser.add_argument("--keep", type=Path, help="write the dataset, project and run here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        where = args.keep or Path(temporary)
        where.mkdir(parents=True, exist_ok=True)
        dataset = where / "digits"
        if not dataset.exists():
            write_folder(dataset, args.classes, args.per_class)
        environment = dict(os.environ)
        if args.pretrain:
            home = where / "keras-home"
            environment["KERAS_HOME"] = str(home)
            if (home / "models" / weights_name(args.alpha)).exists():
                print(f"using the pretrained weights already in {home / 'models'}", flush=True)
            else:
                seconds = pretrain(home, args.classes, args.per_class, args.pretrain, args.alpha)
                print(f"pretrained MobileNetV2 on digits {args.classes}-9 for {args.pretrain} epochs in {seconds:.1f} "
                      f"s; its weights are in {home / 'models'}", flush=True)
        path = where / "finetune.cnnproj"
        path.write_text(json.dumps(project(dataset, args.classes, args), indent=1))
        run_dir, n = where / "run", 2
        while run_dir.exists():  # a run folder of its own each time
            run_dir, n = where / f"run-{n}", n + 1
        command = [sys.executable, "-m", "cnnstudio", "train", str(path), "--fine-tune-top", str(args.unfreeze_top),
                   "--run-dir", str(run_dir), "--json"]
        print("$ cnnstudio " + " ".join(command[3:]), flush=True)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment)
        seconds = time.perf_counter() - started
        if done.returncode:
            sys.exit(done.stderr[-3000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
        info = json.loads((run_dir / "run.json").read_text())
        for phase in info["fine_tune_phases"]:
            print(f"phase {phase['phase']} from epoch {phase['first_epoch']}: {phase['epochs']} epochs at learning "
                  f"rate {phase['learning_rate']:.3g}, {phase['trainable_params']:,} trainable and "
                  f"{phase['non_trainable_params']:,} non-trainable parameters")
        with open(run_dir / "metrics.csv", newline="") as rows:
            for row in csv.DictReader(rows):
                print(f"epoch {row['epoch']}: loss {float(row['loss']):.4f} accuracy {float(row['accuracy']):.4f} "
                      f"val_accuracy {float(row['val_accuracy']):.4f}")
        print(f"{info['dataset']['num_train']} training, {info['dataset']['num_validation']} validation, "
              f"{info['dataset']['num_test']} test images; test accuracy {result['test_accuracy']:.4f}; "
              f"training {result['seconds']:.1f} s, whole command {seconds:.1f} s")


if __name__ == "__main__":
    main()
