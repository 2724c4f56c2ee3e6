"""Fine-tuning a MobileNetV2 backbone on a local folder dataset with `cnnstudio train`.

    python benchmarks/fine_tune.py [--classes 3] [--per-class 200] [--head-epochs 3] [--epochs 6]
                                   [--unfreeze-top 30] [--alpha 1.0] [--keep DIR]

Writes a folder dataset (one subfolder per class) of digits from the bundled MNIST sample as
32x32 RGB PNG files, a project with MobileNetV2 (no weights: this machine has no internet;
ImageNet weights in Keras's cache are used when `--imagenet` is given) + GlobalAveragePooling2D
+ Dense, and trains it through the command line with the fine-tuning recipe. Prints the
test accuracy, the time, and the trainable and non-trainable parameters of each phase.
"""

from __future__ import annotations

import argparse
import csv
import json
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


def project(dataset: Path, classes: int, args: argparse.Namespace) -> dict:
    return {
        "format": "cnnstudio-project", "version": 2, "name": "mobilenet-finetune",
        "network": {"nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}},
            {"id": "mobilenetv2", "type": "MobileNetV2",
             "params": {"weights": "imagenet" if args.imagenet else None, "alpha": args.alpha}},
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
    parser.add_argument("--keep", type=Path, help="write the dataset, project and run here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        where = args.keep or Path(temporary)
        where.mkdir(parents=True, exist_ok=True)
        dataset = where / "digits"
        if not dataset.exists():
            write_folder(dataset, args.classes, args.per_class)
        path = where / "finetune.cnnproj"
        path.write_text(json.dumps(project(dataset, args.classes, args), indent=1))
        command = [sys.executable, "-m", "cnnstudio", "train", str(path), "--fine-tune-top", str(args.unfreeze_top),
                   "--run-dir", str(where / "run"), "--json"]
        print("$ cnnstudio " + " ".join(command[3:]), flush=True)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - started
        if done.returncode:
            sys.exit(done.stderr[-3000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
        info = json.loads((where / "run" / "run.json").read_text())
        for phase in info["fine_tune_phases"]:
            print(f"phase {phase['phase']} from epoch {phase['first_epoch']}: {phase['epochs']} epochs at learning "
                  f"rate {phase['learning_rate']:.3g}, {phase['trainable_params']:,} trainable and "
                  f"{phase['non_trainable_params']:,} non-trainable parameters")
        with open(where / "run" / "metrics.csv", newline="") as rows:
            for row in csv.DictReader(rows):
                print(f"epoch {row['epoch']}: loss {float(row['loss']):.4f} accuracy {float(row['accuracy']):.4f} "
                      f"val_accuracy {float(row['val_accuracy']):.4f}")
        print(f"{info['dataset']['num_train']} training, {info['dataset']['num_validation']} validation, "
              f"{info['dataset']['num_test']} test images; test accuracy {result['test_accuracy']:.4f}; "
              f"training {result['seconds']:.1f} s, whole command {seconds:.1f} s")


if __name__ == "__main__":
    main()
