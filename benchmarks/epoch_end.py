"""How long training waits at the end of each epoch for the run's own bookkeeping: the report, the run
record, the copy of the good weights and the checkpoint (`Trainer.end_epoch`, on the training thread).

Run:  python benchmarks/epoch_end.py [--backend jax] [--models mnist-cnn,cifar10-convnet,lenet5]
                                     [--epochs 6] [--images 512] [--before REVISION]

On a GPU an epoch of MNIST takes about 0.13 s, so this wait decides whether the app keeps up with a bare
`model.fit` (which keeps no record): before it was taken off the training thread, mnist-cnn (3.2 M
weights, Adam) trained at half of bare Keras's speed there. Each model trains in a fresh process with a
full run record (random pictures of its input size, batch 256); printed is the median and largest wait
per epoch after the first (tracing), and the weights' size. `--before` measures the program as it was
at a git revision too, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measuring import ROOT, child_figures, older_program


def measure(model: str, epochs: int, images: int) -> dict:
    """Train `model` here (the program on sys.path) and time each `end_epoch`."""
    from cnnstudio.ml.quiet import quiet_keras

    quiet_keras()
    import numpy as np

    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.data.arrays import ArrayDataset
    from cnnstudio.ml.data.options import LoadOptions
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks, TrainingSettings

    waits: list[float] = []
    end_epoch = Trainer.end_epoch

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return end_epoch(self, *args, **kwargs)
        finally:
            waits.append(time.perf_counter() - started)

    Trainer.end_epoch = timed
    project = load_template(model)
    shape = tuple(project.network.node(project.network.topological_order()[0]).params["shape"])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(images + 64, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, size=len(x))
    data = ArrayDataset.from_arrays("synthetic", tuple(str(i) for i in range(10)), x[:images], y[:images],
                                    x[images:], y[images:], LoadOptions(validation_split=0.0, seed=0))
    settings = TrainingSettings.from_project(project, epochs=epochs, batch_size=256, validation_split=0.0)
    callbacks = TrainingCallbacks(on_batch=lambda r: None, on_epoch=lambda r: None, on_snapshot=lambda s: None,
                                  on_message=lambda m: None)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(project, settings=settings, dataset=data, run_dir=Path(folder) / "run",
                          callbacks=callbacks, snapshot_layers=[project.network.topological_order()[1]],
                          evaluate_test=False)
        trainer.run()
        weights = sum(int(np.prod(w.shape)) for w in trainer.model.weights)
    later = waits[1:] or waits
    return {"median_ms": 1000 * statistics.median(later), "max_ms": 1000 * max(later), "weights": weights}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--models", default="mnist-cnn,cifar10-convnet,lenet5")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--before", metavar="REVISION", help="also measure the program as it was at this revision")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, args.child[0])
        print(json.dumps(measure(args.child[1], args.epochs, args.images)))
        return
    programs = [("now", ROOT)]
    if args.before:
        programs.append((args.before, older_program(args.before, Path(tempfile.mkdtemp(prefix="cnnstudio-before-")))))
    print(f"Keras on {args.backend}; {args.images} pictures an epoch, batch 256, {args.epochs} epochs; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':22s} {'weights':>10s} " + " ".join(f"{name[:10] + ' median':>18s} {'max':>7s}"
                                                       for name, _ in programs))
    for model in args.models.split(","):
        cells, weights = [], 0
        for _, root in programs:
            figures = child_figures([__file__, "--child", str(root), model, "--epochs", str(args.epochs), "--images",
                                     str(args.images)], env=dict(os.environ, KERAS_BACKEND=args.backend), cwd=root)
            if figures is None:
                cells.append(f"{'failed':>18s} {'':>7s}")
                continue
            weights = figures["weights"]
            cells.append(f"{figures['median_ms']:15.1f} ms {figures['max_ms']:5.0f} ms")
        print(f"{model:22s} {weights:>10,d} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
