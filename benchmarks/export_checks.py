"""How closely exported files agree with Keras on real networks: ResNet50 and InceptionV3 (weights=None).

Run:  python benchmarks/export_checks.py [--models ResNet50,InceptionV3] [--formats onnx,tflite,savedmodel]
For each model and format it writes the export (the check accepting any difference) and prints the largest
difference relative to the output's scale (what `cnnstudio export` compares with its tolerance, 0.001 by
default) and in absolute terms, with the seconds the export and its check took. The inputs are random
pixel values from 0 to 255 by default (--pixels 1 for values from 0 to 1, where the untrained networks'
outputs are nearly uniform and every runtime agrees to about 1e-7).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ResNet50,InceptionV3")
    parser.add_argument("--formats", default="onnx,tflite,savedmodel")
    parser.add_argument("--pixels", type=float, default=255.0,
                        help="inputs are random values from 0 to this (255: raw pixels, as these models take them)")
    args = parser.parse_args()

    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from cnnstudio.ml.export import SUFFIXES, TOLERANCE, export_model, sample_inputs

    print(f"Keras {keras.__version__}; default tolerance {TOLERANCE:g} of the output's scale; 8 random inputs "
          f"from 0 to {args.pixels:g}")
    print(f"{'model':<12} {'format':<11} {'relative':>10} {'absolute':>10} {'scale':>8} {'verdict':<9} seconds")
    for name in args.models.split(","):
        keras.utils.set_random_seed(0)
        model = getattr(keras.applications, name)(weights=None)
        inputs = [x * args.pixels for x in sample_inputs(model)]
        for fmt in args.formats.split(","):
            with tempfile.TemporaryDirectory() as folder:
                begin = time.perf_counter()
                result = export_model(model, fmt, Path(folder) / f"model{SUFFIXES[fmt] or '_savedmodel'}",
                                      inputs=inputs, tolerance=1.0)
                seconds = time.perf_counter() - begin
            scale = result.max_abs_diff / result.difference if result.difference else float("nan")
            verdict = "passes" if result.difference <= TOLERANCE else "refused"
            print(f"{name:<12} {fmt:<11} {result.difference:>10.2e} {result.max_abs_diff:>10.2e} {scale:>8.3g} "
                  f"{verdict:<9} {seconds:.0f}", flush=True)
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
