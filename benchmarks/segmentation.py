"""Segmentation on the generated shapes: how good does the `unet-mini` template get, and how fast?

    python benchmarks/segmentation.py [--epochs 8] [--seeds 1]

Trains the template with its own settings (as `cnnstudio train unet-mini` does, no run record)
and prints, per epoch, the loss, pixel accuracy and mean IoU (training and validation), then
the test mean IoU and pixel accuracy on the 500 held-out pictures, with processor and wall
time. Goal: test mean IoU above 0.8 within one to two minutes of processor time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: the template's own (8)")
    parser.add_argument("--seeds", type=int, default=1, help="train with seeds 0..N-1")
    args = parser.parse_args()

    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.trainer import Trainer, TrainingCallbacks

    def epoch(report) -> None:
        m = report.metrics
        print(f"  epoch {report.epoch}/{report.epochs}: loss {report.loss:.4f}, pixel accuracy {report.accuracy:.4f}, "
              f"mean IoU {m.get('mean_iou', 0):.3f}; validation {report.val_accuracy:.4f} and "
              f"{m.get('val_mean_iou', 0):.3f}; {report.seconds:.1f} s", flush=True)

    for seed in range(args.seeds):
        project = load_template("unet-mini")
        project.training["seed"] = seed
        if args.epochs:
            project.training["epochs"] = args.epochs
        print(f"unet-mini on shapes, seed {seed}, {project.training['epochs']} epochs:", flush=True)
        wall, cpu = time.perf_counter(), time.process_time()
        result = Trainer(project, callbacks=TrainingCallbacks(on_epoch=epoch)).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  test mean IoU {result.test_metrics['mean_iou']:.3f}, test pixel accuracy "
              f"{result.test_accuracy:.4f}; {cpu:.0f} s of processor time, {wall:.0f} s by the wall clock "
              f"(data included); goal: mean IoU > 0.8 in 60-120 s of processor time", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
