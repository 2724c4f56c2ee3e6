"""Which networks people bring import exactly: every keras.applications architecture and Keras's examples.

Run:  python benchmarks/import_coverage.py [NAME ...] [--examples] [--formats onnx,tflite] [--cache DIR]
                                             [--calibrate]

Each architecture is built with weights=None, saved as .keras (kept in --cache to reuse),
imported, and compared with the file's model. Prints one row per model: layers, whether it
imports, whether core's parameter counts equal Keras's (total and trainable), the largest
prediction difference of the rebuilt model (absolute, and relative to the output's scale),
the time to the drawable preview and to the checked import; with --formats, the largest
relative difference of the exported ONNX/TFLite files from the rebuilt model, on random inputs as
the export check makes them (pixel values 0-255 for models that rescale their input themselves).
--calibrate first sets every BatchNormalization's statistics from one batch of random pictures, as a
trained network has them: untrained, the deepest networks (EfficientNetV2M and V2L) grow their values
layer by layer until float32 rounding decides the output, and Keras disagrees with itself between batch
sizes, so no export can be compared with it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ml"))


def applications() -> dict:
    import keras

    return {name: (lambda n=name: getattr(keras.applications, n)(weights=None))
            for name in sorted(dir(keras.applications)) if name[0].isupper()}


def examples() -> dict:
    from keras_examples import EXAMPLES

    return dict(EXAMPLES)


def calibrated(model):
    """`model` with each BatchNormalization's moving mean and variance those of one batch of 4 random
    pictures (pixel values 0-255) flowing through it in training mode."""
    import keras
    import numpy as np

    norms, inner = [], list(model.layers)
    while inner:
        layer = inner.pop()
        inner.extend(getattr(layer, "layers", []))
        if isinstance(layer, keras.layers.BatchNormalization):
            norms.append((layer, layer.momentum))
            layer.momentum = 0.0  # the moving statistics become the batch's
    shape = [224 if s is None else s for s in model.inputs[0].shape[1:]]
    model(np.random.default_rng(0).uniform(0, 255, (4, *shape)).astype("float32"), training=True)
    for layer, momentum in norms:
        layer.momentum = momentum
    return model


def exported_difference(model, fmt: str, folder: Path) -> str:
    """Largest difference of an exported file's predictions from the model's, relative to the output scale."""
    import numpy as np

    from cnnstudio.ml import export

    if len(model.inputs) != 1:
        return "n/a"
    shape = [224 if s is None else s for s in model.inputs[0].shape[1:]]
    pixels = 255 if export.takes_pixels(model, model.inputs[0]) else 1  # what the export check feeds it
    x = (np.random.default_rng(1).random((2, *shape)) * pixels).astype("float32")
    expected = np.asarray(model(x, training=False))
    path = folder / f"model.{fmt}"
    try:
        export._write(model, fmt, path, None)
        got = export.predict_file(fmt, path, x)
    except Exception as exc:  # noqa: BLE001 - the table says what failed
        return f"fails ({type(exc).__name__})"
    return f"{float(np.max(np.abs(got - expected))) / max(float(np.max(np.abs(expected))), 1e-12):.1e}"


def row(name: str, build, cache: Path, formats: list[str], calibrate: bool = False) -> str:
    import keras

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.errors import UserError
    from cnnstudio.ml.importer import import_model, preview_model

    path = cache / f"{name}{'-calibrated' * calibrate}.keras"
    if not path.exists():
        model = calibrated(build()) if calibrate else build()
        model.save(path)
        del model
        keras.backend.clear_session()
        gc.collect()
    begin = time.perf_counter()
    try:
        preview = preview_model(path)
        preview_seconds = time.perf_counter() - begin
        imported = import_model(path, preview)
    except UserError as exc:
        return f"{name:<34} {'-':>6}  no: {exc}"
    import_seconds = time.perf_counter() - begin
    analysis = analyze(imported.network)
    counts = (analysis.total_params, analysis.trainable_params)
    equal = "yes" if counts == imported.file_counts else f"no {counts} vs {imported.file_counts}"
    relative = imported.prediction_difference / max(imported.output_scale, 1e-12)
    cells = [f"{name:<34}", f"{len(imported.network):>6}", "  yes", f"{equal:>6}",
             f"{imported.prediction_difference:>9.1e}", f"{relative:>9.1e}",
             f"{preview_seconds:>8.2f}", f"{import_seconds:>8.1f}"]
    if formats:
        with tempfile.TemporaryDirectory() as folder:
            cells += [f"{exported_difference(imported.model, fmt, Path(folder)):>13}" for fmt in formats]
    del imported
    keras.backend.clear_session()
    gc.collect()
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these (keras.applications or example names)")
    parser.add_argument("--examples", action="store_true", help="Keras's example models instead of applications")
    parser.add_argument("--formats", default="", help="also export and compare, e.g. onnx,tflite")
    parser.add_argument("--cache", help="folder keeping the built .keras files between runs")
    parser.add_argument("--calibrate", action="store_true",
                        help="BatchNormalization statistics from a batch of pictures, as in a trained network")
    args = parser.parse_args()
    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    models = examples() if args.examples else applications()
    if args.names:
        models = {n: models[n] for n in args.names}
    formats = [f for f in args.formats.split(",") if f]
    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="cnnstudio-coverage-"))
    cache.mkdir(parents=True, exist_ok=True)
    heads = ["architecture".ljust(34), "layers", "imports", "params equal", "max diff", "relative", "preview s",
             "import s", *[f"{fmt} relative".rjust(13) for fmt in formats]]
    print(" ".join(heads), flush=True)
    for name, build in models.items():
        print(row(name, build, cache, formats, args.calibrate), flush=True)


if __name__ == "__main__":
    main()
