"""How long a person waits in the looking-inside views, in a real main window (offscreen).

    python benchmarks/inspection_views.py [--repeats 20]

1. Feature maps of every layer for one input on mnist-cnn: from choosing an input (the
   shared current input is set) to every layer's row redrawn, through the window's ML
   thread; median of `--repeats` different validation images after a first one that
   builds and traces the sub-models. Beside it, the Inspector's own `activations` call on
   the ML thread, so the views' overhead shows. Goal: under 100 ms.
2. The filters grid of a 512-filter layer (3x3 kernels reading 64 channels): from the
   kernels arriving to the grid repainted, averaged (512 tiles) and per channel (32,768
   tiles), shared and per-filter scales. Goal: under 200 ms.
3. Drawing to prediction on LeNet-5 (28x28 canvas): from the end of a stroke to the
   probabilities on screen, with the feature maps of every layer redrawn too (the page
   as a person sees it). Goal: under 50 ms.

Wall times depend on what else the machine runs; the CPU time beside them (both threads of
this process) shows the work itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from cnnstudio.commands import quiet_tensorflow

    quiet_tensorflow()
    import numpy as np
    from _ml_jobs import DirectActivations, ValidationImages
    from PySide6.QtWidgets import QApplication

    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.jobs.results import LayerKernels
    from cnnstudio.ui.inspect_area import InputImage
    from cnnstudio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)

    def wait(condition, timeout: float = 300.0) -> None:
        end = time.perf_counter() + timeout
        while not condition():
            app.processEvents()
            if time.perf_counter() > end:
                raise SystemExit("timed out waiting for the views")
            time.sleep(0.0005)

    def ml_call(window, request):
        """Run the request's job on the window's ML thread and wait for its answer."""
        box = []
        window.context.ml.with_model(request, on_result=box.append, on_error=lambda m: box.append(RuntimeError(m)))
        wait(lambda: bool(box))
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]

    # 1. feature maps of every layer, mnist-cnn
    window = MainWindow(load_template("mnist-cnn"))
    window.resize(1600, 1000)
    window.show()
    views = window.features.inspect
    maps = views.feature_maps
    window.features.inspect.area.show_page(maps)
    wait(lambda: maps.analysis is not None and maps.analysis.activations is not None)
    images = ml_call(window, ValidationImages(args.repeats + 1))
    shown: list[int] = []
    maps.shown.connect(lambda: shown.append(1))
    times, cpu = [], []
    for i, image in enumerate(images):
        before = len(shown)
        start, start_cpu = time.perf_counter(), time.process_time()
        window.context.current_input.set(InputImage(image, f"validation image {i}", origin="dataset"))
        wait(lambda before=before: len(shown) > before)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    direct = []
    for image in images[1:]:
        direct.append(ml_call(window, DirectActivations(image)))
    layers = len(maps.rows)
    print(f"Feature maps, all {layers} layers of mnist-cnn, one input (goal < 100 ms):")
    print(f"  first {times[0] * 1000:7.1f} ms, then median {statistics.median(times[1:]) * 1000:6.1f} ms, "
          f"max {max(times[1:]) * 1000:6.1f} ms; CPU time (both threads) median {statistics.median(cpu[1:]) * 1000:.1f} ms"
          f"  (Inspector.activations alone: median {statistics.median(direct) * 1000:.1f} ms)")

    # 2. the filters grid of a 512-filter layer
    filters = views.filters
    window.features.inspect.area.show_page(filters)
    rng = np.random.default_rng(0)
    kernels = LayerKernels("conv512", "Conv2D", rng.normal(size=(512, 3, 3, 64)).astype(np.float32),
                           rng.normal(size=512).astype(np.float32))
    print("Filters grid of a 512-filter layer, 3x3 kernels reading 64 channels (goal < 200 ms):")
    for mode, scale in (("average", True), ("average", False), ("per_channel", True), ("per_channel", False)):
        durations = []
        for repeat in range(max(5, args.repeats // 4)):
            variant = LayerKernels(kernels.layer, kernels.layer_type, kernels.kernels * (1 + repeat * 1e-3),
                                   kernels.biases)
            filters.mode_combo.setCurrentIndex(max(filters.mode_combo.findData(mode), 0))
            filters.scale_combo.setCurrentIndex(filters.scale_combo.findData(scale))
            start = time.perf_counter()
            filters.show_kernels(variant)
            filters.plot.repaint()
            app.processEvents()
            durations.append(time.perf_counter() - start)
        tiles = len(filters.picture.values)
        scale_text = "one scale" if scale else "per-filter scales"
        print(f"  {mode:<11} {scale_text:<17} {tiles:6d} tiles: median {statistics.median(durations) * 1000:6.1f} ms,"
              f" max {max(durations) * 1000:6.1f} ms")
    window.close()

    # 3. drawing to prediction, LeNet-5
    window = MainWindow(load_template("lenet5"))
    window.resize(1600, 1000)
    window.show()
    views = window.features.inspect
    maps = views.feature_maps
    window.features.inspect.area.show_page(maps)
    wait(lambda: maps.analysis is not None and maps.analysis.activations is not None)
    maps.input_panel.focus_draw()
    wait(lambda: maps.analysis.input.origin == "drawing")
    canvas = views.canvas
    predictions: list[int] = []
    original = maps.prediction.show_probabilities

    def counting(*a, **k):
        original(*a, **k)
        predictions.append(1)

    maps.prediction.show_probabilities = counting
    latency, latency_cpu = [], []
    for i in range(args.repeats + 1):
        before = len(predictions)
        angle = i * 0.6
        points = [(14 + 8 * np.cos(angle + t), 14 + 8 * np.sin(angle + t)) for t in np.linspace(0, 1.2, 6)]
        start, start_cpu = time.perf_counter(), time.process_time()
        canvas.stroke(points)
        wait(lambda before=before: len(predictions) > before and maps.analysis.input.origin == "drawing")
        latency.append(time.perf_counter() - start)
        latency_cpu.append(time.process_time() - start_cpu)
        if i % 5 == 4:
            canvas.clear()
            wait(lambda: not maps.controller.is_pending("drawing"))
            app.processEvents()
    print("Drawing to prediction on LeNet-5, with every layer's maps redrawn (goal < 50 ms):")
    print(f"  first {latency[0] * 1000:6.1f} ms, then median {statistics.median(latency[1:]) * 1000:6.1f} ms, "
          f"max {max(latency[1:]) * 1000:6.1f} ms; CPU time median {statistics.median(latency_cpu[1:]) * 1000:.1f} ms")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
