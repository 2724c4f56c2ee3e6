"""The "shuffled pixels" experiment: does a CNN still win when the pixel order is scrambled?

    python benchmarks/shuffled_pixels.py [--epochs 5] [--seeds 1] [--dataset mnist-sample] [--set KEY=VALUE ...]

Trains the `lenet5` and `mlp` templates with their own settings, once on the images as
they are and once with one fixed permutation of pixel positions (`permute_pixels`),
and prints test accuracy and seconds (training plus evaluation, as `cnnstudio train
--json` reports them). With `--seeds N` each is trained with seeds 0..N-1 (weights and
batch order) and the mean, lowest and highest test accuracy are printed. A dense network does not care about pixel order; a convolutional
one relies on neighbouring pixels and loses its edge. Goal: lenet5 >= 0.97 test accuracy
in under 60 s on the unshuffled images.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PERMUTATION_SEED = 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--seeds", type=int, default=1, help="train each with seeds 0..N-1")
    parser.add_argument("--templates", nargs="+", default=["lenet5", "mlp"])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a training setting of every template, e.g. --set schedule=cosine")
    args = parser.parse_args()
    overrides = {key: json_value(value) for key, value in (item.split("=", 1) for item in args.set)}

    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.trainer import Trainer

    rows = []
    for name in args.templates:
        for permute in (None, PERMUTATION_SEED):
            accuracies, seconds = [], []
            for seed in range(args.seeds):
                project = load_template(name)
                project.training.update({**overrides, "epochs": args.epochs, "seed": seed})
                project.dataset = {**project.dataset, "name": args.dataset, "permute_pixels": permute}
                result = Trainer(project).run()
                accuracies.append(result.test_accuracy)
                seconds.append(result.seconds)
                pixels = "shuffled" if permute is not None else "original"
                print(f"  {name} {pixels} seed {seed}: test accuracy {result.test_accuracy:.4f} "
                      f"in {result.seconds:.1f} s", file=sys.stderr, flush=True)
                keras.backend.clear_session()
            rows.append((name, analyze(project.network).total_params, pixels, accuracies, seconds))

    changed = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "none"
    print(f"\n{args.dataset}, {args.epochs} epochs, seeds 0..{args.seeds - 1}, each template's own settings "
          f"(overridden: {changed}); seconds = training + test evaluation")
    print(f"{'model':<8}{'params':>9}  {'pixels':<9}{'test accuracy':>14}{'lowest':>8}{'highest':>8}{'seconds':>9}")
    for name, params, pixels, accuracies, seconds in rows:
        print(f"{name:<8}{params:>9,}  {pixels:<9}{statistics.mean(accuracies):>14.4f}{min(accuracies):>8.4f}"
              f"{max(accuracies):>8.4f}{statistics.mean(seconds):>9.1f}")
    for name in args.templates:
        plain, shuffled = [r for r in rows if r[0] == name]
        change = statistics.mean(shuffled[3]) - statistics.mean(plain[3])
        print(f"{name}: shuffling the pixels changes mean test accuracy by {change:+.4f}")
    return 0


def json_value(text: str):
    """A --set value as JSON when it parses (numbers, null), else as text."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


if __name__ == "__main__":
    sys.exit(main())
