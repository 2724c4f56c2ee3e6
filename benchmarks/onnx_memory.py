"""How much memory an ONNX export takes, in copies of the model's weights: CNN Studio's conversion against
tf2onnx's own `from_graph_def` on the same frozen graph (how the export converted before).

Run:  python benchmarks/onnx_memory.py [--models ResNet50,DenseNet121] [--only ours]
Each conversion runs in a fresh process (keras.applications, weights=None): the model is built, then its
peak resident memory above that point is sampled every 5 ms while the ONNX proto is made. `--only ours`
skips tf2onnx's way (it needs 30 to 50 copies: VGG16's 553 MB of weights would ask for about 27 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _measuring import child_figures, rss_mb  # noqa: E402 - the benchmarks folder is on the path as this runs


def measure(name: str, way: str) -> dict:
    """One conversion in this process; its figures as a dict."""
    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    import gc

    import keras

    from cnnstudio.ml import export_onnx

    model = getattr(keras.applications, name)(weights=None)
    weights = sum(int(v.numpy().nbytes) for v in model.weights) / 2 ** 20
    gc.collect()
    base = peak = rss_mb()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    if way == "ours":
        export_onnx._register_erfc()
        proto = export_onnx._convert(model)
    else:
        import tf2onnx
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()
        export_onnx._register_erfc()
        graph, inputs, outputs = export_onnx.frozen_graph(model)
        proto, _ = tf2onnx.convert.from_graph_def(graph, name=model.name, input_names=inputs, output_names=outputs)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {"weights_mb": weights, "peak_mb": peak - base, "seconds": seconds, "nodes": len(proto.graph.node)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ResNet50,DenseNet121")
    parser.add_argument("--only", choices=["ours", "tf2onnx"], help="measure one way only")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    ways = [args.only] if args.only else ["ours", "tf2onnx"]
    print(f"{'model':18s} {'weights':>9s} " + " ".join(f"{way + ' peak':>14s} {'copies':>7s} {'s':>5s}" for way in ways))
    for name in args.models.split(","):
        cells, weights = [], float("nan")
        for way in ways:
            figures = child_figures([__file__, "--child", name, way], cwd=ROOT)
            if figures is None:
                cells.append(f"{'failed':>14s} {'':7s} {'':5s}")
                continue
            weights = figures["weights_mb"]
            cells.append(f"{figures['peak_mb'] / 1024:11.2f} GB {figures['peak_mb'] / weights:7.1f} "
                         f"{figures['seconds']:5.0f}")
        print(f"{name:18s} {weights:6.0f} MB " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
