"""Does CNN Studio's training path keep a GPU as busy as bare Keras? Images/s of the trainer
(all reporting on, live snapshots of the layer the window watches, a full run record with
checkpoints) against a bare `model.fit` on the same Keras backend, model, data and batch size,
side by side, for the templates and for pretrained backbones at 224x224 (built without weights:
the speed does not depend on them).

    python benchmarks/gpu_training.py [--backends jax,torch] [--models lenet5,...,MobileNetV2,ResNet50]
                                      [--images 20000] [--backbone-images 2560] [--batch 256]
                                      [--backbone-batch 128] [--epochs 3] [--rounds 1]
                                      [--json figures.json]

Each backend runs in its own process (a Keras backend is chosen once per process). The data
are random pictures of the network's input size, 10 classes, fed from NumPy as the app feeds
any in-memory dataset; bare Keras gets the same float32 arrays with `shuffle=True`. The first
epoch (compilation) is left out; printed are the best and the median epoch of each, and the
ratio trainer/fit (goal >= 0.95). `--rounds N` alternates trainer and fit N times. Runs on CPU
too (small --images to keep it short); there the clock swings with whatever else the machine
runs, so images per second of the process's CPU time are printed as well (the steadier measure).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATES = ["lenet5", "mnist-cnn", "keras-mnist-convnet", "resnet-mini", "vgg-mini", "cifar10-convnet"]
BACKBONES = ["MobileNetV2", "ResNet50"]
CLASSES = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="jax,torch")
    parser.add_argument("--models", default=",".join(TEMPLATES + BACKBONES))
    parser.add_argument("--images", type=int, default=20000, help="pictures per epoch for the templates")
    parser.add_argument("--backbone-images", type=int, default=2560, help="pictures per epoch for backbones")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--backbone-batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=224, help="backbone input side")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="trainer and fit alternately, this many times")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: run one backend here
    args = parser.parse_args()
    if args.one:
        return measure(args)
    figures = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        command = [sys.executable, __file__, "--one", backend] + [
            a for a in sys.argv[1:] if not a.startswith("--backends") and a != args.backends]
        env = dict(os.environ, KERAS_BACKEND=backend)
        print(f"== Keras on {backend}", flush=True)
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                figures.append(json.loads(line))
            else:
                print(line, flush=True)
        if done.returncode:
            print(f"   (the {backend} measurement ended with exit code {done.returncode})", flush=True)
    print()
    print(f"{'backend':8}{'model':22}{'batch':>6}{'trainer img/s':>15}{'fit img/s':>12}{'ratio best':>12}"
          f"{'ratio median':>14}{'ratio CPU':>11}")
    for f in figures:
        print(f"{f['backend']:8}{f['model']:22}{f['batch']:>6}{f['trainer_best']:>15,.0f}{f['fit_best']:>12,.0f}"
              f"{f['ratio_best']:>12.3f}{f['ratio_median']:>14.3f}{f['ratio_cpu']:>11.3f}")
    print("(ratio CPU: images per second of the process's CPU time, median epochs)")
    print("goal: ratio >= 0.95 (the trainer keeps up with bare Keras on the same backend)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


def project_for(model: str, size: int):
    """The template, or an Input -> backbone (no weights) -> global pooling -> Dense(10) project."""
    from cnnstudio.core.project import project_from_dict
    from cnnstudio.core.templates import load_template

    if model not in BACKBONES:
        return load_template(model)
    return project_from_dict({
        "format": "cnnstudio-project", "version": 1, "name": model,
        "network": {"nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [size, size, 3]}},
            {"id": "backbone", "type": model, "params": {"weights": None}},
            {"id": "pool", "type": "GlobalAveragePooling2D", "params": {}},
            {"id": "output", "type": "Dense", "params": {"units": CLASSES, "activation": "softmax"}}],
            "edges": [["input", "backbone"], ["backbone", "pool"], ["pool", "output"]]},
        "dataset": {"name": "npz:synthetic.npz"},
        "training": {"optimizer": "adam", "learning_rate": 0.001}})


def measure(args) -> int:
    from cnnstudio.ml.quiet import quiet_keras

    quiet_keras()
    import keras

    backend = keras.backend.backend()
    devices = _devices(backend)
    print(f"   Keras {keras.__version__} on {backend}: {devices}", flush=True)
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        one_model(model, args, backend, devices)
    return 0


def one_model(model: str, args, backend: str, devices: str) -> None:
    """Trainer and bare fit, side by side, for one model; prints the figures (and a JSON line)."""
    import keras
    import numpy as np

    from cnnstudio.core.analysis import first_convolution
    from cnnstudio.core.catalog import CATALOG
    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.data.arrays import ArrayDataset
    from cnnstudio.ml.data.options import LoadOptions
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks, TrainingSettings
    from cnnstudio.ml.training.callbacks import learning_rate_schedule, make_optimizer

    backbone = model in BACKBONES
    if backbone and model not in CATALOG:
        print(f"   {model}: not in this version's catalog, left out", flush=True)
        return
    project = project_for(model, args.size)
    shape = tuple(project.network.node("input").params["shape"])
    count = args.backbone_images if backbone else args.images
    batch = args.backbone_batch if backbone else args.batch
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(count + count // 8, *shape), dtype=np.uint8)
    y = rng.integers(0, CLASSES, size=len(x))
    data = ArrayDataset.from_arrays("synthetic", tuple(str(i) for i in range(CLASSES)), x[:count], y[:count],
                                    x[count:], y[count:], LoadOptions(validation_split=0.0, seed=0))
    settings = TrainingSettings.from_project(project, epochs=args.epochs, batch_size=batch,
                                             validation_split=0.0)
    images = data.num_train

    def speeds(ends: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Images per second by the clock and per second of CPU time, for each epoch after the first."""
        return [(images / (b[0] - a[0]), images / max(b[1] - a[1], 1e-9))
                for a, b in zip(ends, ends[1:], strict=False)]

    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def trainer_speed() -> list[tuple[float, float]]:
        ends: list[tuple[float, float]] = []
        callbacks = TrainingCallbacks(on_batch=lambda r: None, on_epoch=lambda r: ends.append(now()),
                                      on_snapshot=lambda s: None, on_message=lambda m: None)
        watched = first_convolution(project.network)  # as the window watches it live (none in a backbone)
        with tempfile.TemporaryDirectory() as tmp:
            Trainer(project, settings=settings, dataset=data, run_dir=Path(tmp) / "run", callbacks=callbacks,
                    snapshot_layers=[watched] if watched else [], evaluate_test=False).run()
        keras.backend.clear_session()
        return speeds(ends)

    def fit_speed() -> list[tuple[float, float]]:
        ends: list[tuple[float, float]] = []
        keras.utils.set_random_seed(0)
        net = build_model(project.network, project.name)
        steps = -(-images // batch)
        rate = learning_rate_schedule(settings.learning_rate, settings.schedule, settings.schedule_params,
                                      args.epochs, steps)
        net.compile(optimizer=make_optimizer(settings.optimizer, rate, settings.momentum, settings.weight_decay),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        x_train, y_train = data.arrays("train")
        end = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(now()))
        net.fit(x_train, y_train, batch_size=batch, shuffle=True, epochs=args.epochs, verbose=0, callbacks=[end])
        keras.backend.clear_session()
        return speeds(ends)

    try:
        started = time.perf_counter()
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours += trainer_speed()
            theirs += fit_speed()
    except Exception as exc:  # noqa: BLE001 - one model failing must not hide the others' figures
        import traceback

        traceback.print_exc()
        print(f"   {model}: failed: {type(exc).__name__}: {exc}"[:400], flush=True)
        return
    figure = {"backend": backend, "devices": devices, "model": model, "batch": batch, "images": images,
              "trainer_best": max(w for w, _ in ours), "fit_best": max(w for w, _ in theirs),
              "trainer_median": statistics.median(w for w, _ in ours),
              "fit_median": statistics.median(w for w, _ in theirs),
              "trainer_cpu": statistics.median(c for _, c in ours), "fit_cpu": statistics.median(c for _, c in theirs),
              "seconds": time.perf_counter() - started}
    figure.update(ratio_best=figure["trainer_best"] / figure["fit_best"],
                  ratio_median=figure["trainer_median"] / figure["fit_median"],
                  ratio_cpu=figure["trainer_cpu"] / figure["fit_cpu"])
    print(f"   {model}: trainer {figure['trainer_best']:,.0f} img/s, model.fit {figure['fit_best']:,.0f} img/s, "
          f"ratio {figure['ratio_best']:.3f}, by CPU time {figure['ratio_cpu']:.3f} ({figure['seconds']:.0f} s)", flush=True)
    print(json.dumps(figure), flush=True)


def _devices(backend: str) -> str:
    try:
        if backend == "jax":
            import jax

            return ", ".join(str(d.device_kind) for d in jax.devices())
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
        import tensorflow as tf

        return ", ".join(d.name for d in tf.config.list_logical_devices()) or "CPU"
    except Exception as exc:  # noqa: BLE001 - a description only
        return f"unknown ({exc})"


if __name__ == "__main__":
    sys.exit(main())
