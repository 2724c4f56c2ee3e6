"""Training in the app: does the window slow training down, does training make the window lag,
do long curves stay smooth, does memory stay put? Prints measured figures (no assertions).

    python benchmarks/app_training.py [--epochs 4] [--rounds 2] [--points 1000000]
                                      [--memory-minutes 30] [--only throughput,redraw,memory]
                                      [--in-process] [--no-settle]

The window's ML jobs run in its worker process, as in the app; `--in-process` runs them on a
thread of the window's own process instead (CNNSTUDIO_ML_IN_PROCESS=1: how it was before).

1. Throughput: LeNet-5 on mnist-sample trained from the window (Training tab in front: live
   curves redrawn up to 10 times a second, live filters and feature maps every 2 s, a run
   record written every epoch) against a bare `model.fit` of the same model, data and batch
   size in the same worker process, rounds alternating. Images/s per epoch from consecutive epoch
   ends (the first epoch, which traces the model, left out), by the wall clock and per second
   of the CPU time of the process that trains (steady when other programs load the machine).
   Goal: ratio >= 0.95. And the same run with live views off (the Network tab in front, no layer
   watched): goal live on/off >= 0.97.
2. GUI latency while training: a 10 ms timer on the GUI thread measures how late each tick fires,
   from the first batch to the last epoch and over whole runs, Start included, and how much
   processor time the GUI thread itself used between two ticks (its own work, which other
   programs loading the machine do not change).
   Goal: p99 <= 16 ms, max <= 50 ms over whole runs.
3. A curve of `--points` batch points: time to draw it whole, zoomed to 1 %, and panning
   (each frame forced with a repaint), downsampled and clipped to the view as the app does,
   and, for comparison, without.
4. Memory: resident memory over a training run of `--memory-minutes` (after a 1-minute
   warm-up). Goal: growth under 100 MB.

Runs offscreen unless a display is there (xvfb-run works too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _measuring import cpu_seconds, rss_mb  # noqa: E402  (beside this script)
from _ml_jobs import BareFit, TrainImages  # noqa: E402

from cnnstudio.ui.app import settle_after_start  # noqa: E402

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from PySide6.QtCore import QCoreApplication, QSettings
        from PySide6.QtWidgets import QApplication

        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="cnnstudio-bench-"))
        os.environ["CNNSTUDIO_RUNS_DIR"] = str(self.tmp / "runs")
        os.environ["CNNSTUDIO_RECOVERY_DIR"] = str(self.tmp / "recovery")
        QCoreApplication.setOrganizationName("CNN Studio Benchmarks")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(self.tmp / "settings"))
        self.app = QApplication.instance() or QApplication(["cnnstudio-bench"])
        self.app.setStyle("Fusion")
        self.window = None
        self.gui_busy: list[float] = []  # CPU ms the GUI thread spent between two ticks of the 10 ms timer

    # ------------------------------------------------------------------ helpers
    def project(self, epochs: int):
        from cnnstudio.core.templates import load_template

        project = load_template("lenet5")
        project.training.update(epochs=epochs, batch_size=self.args.batch_size, validation_split=0.0,
                                learning_rate=0.001, schedule="constant", optimizer="adam", seed=0)
        return project

    def open_window(self):
        from cnnstudio.ui.main_window import MainWindow

        if self.window is None:
            self.window = MainWindow(self.project(self.args.epochs))
            self.window.resize(1600, 1000)
            self.window.show()
            self.window.tabs.setCurrentWidget(self.window.features.training_view)
            self.wait(lambda: False, 0.5)
            if not self.args.no_settle:
                settle_after_start()  # as the app does once its window is up
        return self.window

    def ml_cpu(self) -> float:
        """CPU seconds so far of the process the ML jobs run in (the worker, or this one)."""
        worker = getattr(self.window.ml_transport, "worker", None) if self.window is not None else None
        return cpu_seconds(worker.pid if worker is not None else None)

    def wait(self, done, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            if done():
                return True
            time.sleep(0.002)
        return done()

    def train_in_app(self, epochs: int, stop_after: float | None = None, sample=None, live: bool = True):
        """Train from the window; epoch-end times (GUI clock), trainer speeds, timer lateness. `live` False:
        the Network tab in front and no layer watched (no live filters or feature maps, no curves drawn)."""
        from PySide6.QtCore import Qt, QTimer

        from cnnstudio.ui.training import controller

        w = self.open_window()
        w.tabs.setCurrentWidget(w.features.training_view if live else w.editor)
        watched = controller.first_convolution
        if not live:
            controller.first_convolution = lambda project: None
        ends, speeds, late, finished, failed = [], [], [], [], []
        interval = 10
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(interval)
        last = [0.0, 0.0]

        def tick() -> None:
            now, busy = time.perf_counter(), time.thread_time()
            if last[0]:
                late.append((now, max(0.0, (now - last[0]) * 1000 - interval), (busy - last[1]) * 1000))
            last[0], last[1] = now, busy

        timer.timeout.connect(tick)
        on_epoch = lambda r: (ends.append((time.perf_counter(), self.ml_cpu(), time.process_time())),  # noqa: E731
                              speeds.append(r.images_per_second))
        first_batch: list[float] = []
        on_batch = lambda _r: first_batch or first_batch.append(time.perf_counter())  # noqa: E731
        on_finished = lambda d: finished.append(d)  # noqa: E731
        on_failed = lambda t: failed.append(t)  # noqa: E731
        c = w.features.training
        c.epoch.connect(on_epoch)
        c.batch.connect(on_batch)
        c.runFinished.connect(on_finished)
        c.failed.connect(on_failed)
        try:
            started = time.monotonic()
            timer.start()  # lateness over the whole run, Start included
            c.start(self.project(epochs))
            while not finished and not failed:
                self.wait(lambda: bool(finished or failed), 5.0)
                if sample is not None:
                    sample(time.monotonic() - started)
                if stop_after is not None and time.monotonic() - started > stop_after and c.is_running:
                    c.stop()
                    stop_after = None
        finally:
            timer.stop()
            controller.first_convolution = watched
            for signal, slot in ((c.epoch, on_epoch), (c.batch, on_batch),
                                 (c.runFinished, on_finished), (c.failed, on_failed)):
                signal.disconnect(slot)
        if failed:
            raise SystemExit(f"training failed: {failed[0]}")
        training = [ms for t, ms, _b in late if first_batch and first_batch[0] <= t <= (ends[-1][0] if ends else t)]
        self.gui_busy += [b for _t, _ms, b in late]
        return ends, speeds, training, [ms for _t, ms, _b in late]

    def fit_bare(self, epochs: int) -> list[float]:
        """model.fit of the same model and data where the app's jobs run; epoch-end times."""
        w = self.open_window()
        project = self.project(epochs)
        batch = self.args.batch_size
        out: dict = {}
        w.context.ml.run(BareFit(project, epochs, batch), on_result=lambda r: out.update(result=r),
                         on_error=lambda t: out.update(error=t))
        self.wait(lambda: bool(out), 3600)
        if "error" in out:
            raise SystemExit(f"model.fit failed: {out['error']}")
        return out["result"]

    def images_per_epoch(self) -> int:
        w = self.open_window()
        out: dict = {}
        w.context.ml.run(TrainImages(self.project(1)), on_result=lambda n: out.update(n=n))
        self.wait(lambda: bool(out), 600)
        return out["n"]

    # ------------------------------------------------------------------ parts
    def throughput_and_latency(self) -> None:
        args = self.args
        images = self.images_per_epoch()
        wall = {"app": [], "fit": [], "quiet": []}
        cpu = {"app": [], "fit": [], "quiet": []}
        reported, late_training, late_all = [], [], []
        window_cpu = {"app": [], "quiet": []}  # the window's CPU seconds per second while epochs 2.. ran

        def speeds(ends: list[tuple[float, float]], which: int) -> list[float]:
            return [images / (b[which] - a[which]) for a, b in zip(ends, ends[1:], strict=False)]

        for round_ in range(args.rounds):
            ends, trainer_speeds, late, late_whole = self.train_in_app(args.epochs)
            fit_ends, _ = self.fit_bare(args.epochs)
            quiet_ends, _, _, _ = self.train_in_app(args.epochs, live=False)
            wall["quiet"] += speeds(quiet_ends, 0)
            cpu["quiet"] += speeds(quiet_ends, 1)
            wall["app"] += speeds(ends, 0)
            cpu["app"] += speeds(ends, 1)
            wall["fit"] += speeds(fit_ends, 0)
            cpu["fit"] += speeds(fit_ends, 1)
            for key, run in (("app", ends), ("quiet", quiet_ends)):
                window_cpu[key].append((run[-1][2] - run[1][2]) / (run[-1][0] - run[1][0]))
            reported += trainer_speeds[1:]
            late_training += late
            late_all += late_whole
            print(f"round {round_ + 1}: in the app {statistics.median(speeds(ends, 0)):,.0f} img/s, bare model.fit "
                  f"{statistics.median(speeds(fit_ends, 0)):,.0f} img/s, live views off "
                  f"{statistics.median(speeds(quiet_ends, 0)):,.0f} img/s (epoch medians, wall clock)", flush=True)
        n = len(wall["app"])
        print(f"\n1. Throughput — LeNet-5 on mnist-sample ({images} images, batch {args.batch_size}, "
              f"{args.epochs} epochs per run, first left out, {args.rounds} rounds alternating)")
        print(f"{'images/s, median over ' + str(n) + ' epochs each':46}{'wall clock':>12}{'best':>9}{'per CPU-s':>12}")
        print(f"{'in the app (live curves + live filters on)':46}{statistics.median(wall['app']):>12,.0f}"
              f"{max(wall['app']):>9,.0f}{statistics.median(cpu['app']):>12,.0f}")
        print(f"{'in the app, live views off':46}{statistics.median(wall['quiet']):>12,.0f}"
              f"{max(wall['quiet']):>9,.0f}{statistics.median(cpu['quiet']):>12,.0f}")
        print(f"{'  training loop only, as the trainer times it':46}{statistics.median(reported):>12,.0f}"
              f"{max(reported):>9,.0f}")
        print(f"{'bare model.fit, where the jobs run':46}{statistics.median(wall['fit']):>12,.0f}"
              f"{max(wall['fit']):>9,.0f}{statistics.median(cpu['fit']):>12,.0f}")
        print(f"ratio app/fit: wall clock {statistics.median(wall['app']) / statistics.median(wall['fit']):.3f} "
              f"(best epochs {max(wall['app']) / max(wall['fit']):.3f}), CPU time "
              f"{statistics.median(cpu['app']) / statistics.median(cpu['fit']):.3f}   goal >= 0.95")
        print(f"ratio live views on/off: wall clock {statistics.median(wall['app']) / statistics.median(wall['quiet']):.3f}"
              f" (best epochs {max(wall['app']) / max(wall['quiet']):.3f}), CPU time "
              f"{statistics.median(cpu['app']) / statistics.median(cpu['quiet']):.3f}   goal >= 0.97")
        print(f"the window's own processor use while training (CPU-s per s): live views on "
              f"{statistics.median(window_cpu['app']):.3f}, off {statistics.median(window_cpu['quiet']):.3f}")
        print("(per CPU-s: images per second of CPU time of the process that trains — the worker, or with\n"
              " --in-process this one, GUI thread included; unlike the wall clock it does not depend on what\n"
              " else the machine runs)")
        print(f"\n2. GUI event-loop latency, a 10 ms timer's lateness: from the first batch to the last epoch "
              f"({len(late_training)} ticks)")
        print(f"p50 {percentile(late_training, 50):.1f} ms   p99 {percentile(late_training, 99):.1f} ms   "
              f"max {max(late_training):.1f} ms")
        print(f"whole runs, Start to finish, with loading, building and what other views do when a run ends "
              f"({len(late_all)} ticks): p50 {percentile(late_all, 50):.1f} ms   p99 {percentile(late_all, 99):.1f} ms"
              f"   max {max(late_all):.1f} ms   goals: p99 <= 16 ms, max <= 50 ms")
        busy = self.gui_busy
        print(f"the window's own work between two ticks (CPU time of the GUI thread, whatever else the machine "
              f"runs): p99 {percentile(busy, 99):.1f} ms   max {max(busy):.1f} ms   "
              f"(a tick later than that waited for the processor)", flush=True)
        import gc

        started = time.perf_counter()
        gc.collect()
        print(f"a full garbage collection on the GUI thread after the runs: {(time.perf_counter() - started) * 1000:.1f} "
              f"ms ({'startup objects frozen, as the app does' if not self.args.no_settle else 'nothing frozen'})",
              flush=True)

    def redraw(self) -> None:
        import numpy as np

        from cnnstudio.ui.training.curves import TrainingCurves

        n = self.args.points
        results = {}
        for mode in ("as in the app (downsampled, clipped to view)", "without downsampling or clipping"):
            curves = TrainingCurves()
            curves.resize(1200, 800)
            curves.show()
            if mode.startswith("without"):
                for plot in (curves.loss_plot, curves.accuracy_plot):
                    plot.setClipToView(False)
                    plot.setDownsampling(auto=False, ds=1)
                    for item in plot.getPlotItem().listDataItems():
                        item.setClipToView(False)
                        item.setDownsampling(auto=False, ds=1)
            rng = np.random.default_rng(0)
            epochs = 100
            x = np.linspace(0, epochs, n)
            loss = 2.3 * np.exp(-x / 10) + 0.05 + rng.normal(0, 0.05, n) ** 2
            accuracy = np.clip(1 - loss / 2.5 + rng.normal(0, 0.01, n), 0, 1)
            started = time.perf_counter()
            curves.set_batches(x, loss, accuracy)
            curves.redraw_now()
            set_data = time.perf_counter() - started
            plot = curves.loss_plot

            def frame(plots=(plot, curves.accuracy_plot)) -> float:
                t = time.perf_counter()
                for p in plots:
                    p.viewport().repaint()
                return (time.perf_counter() - t) * 1000

            def move(low: float, high: float, plot=plot) -> float:
                """Change the view; the event loop re-clips, re-downsamples and repaints the linked plots."""
                t = time.perf_counter()
                plot.setXRange(low, high, padding=0)
                self.app.processEvents()
                return (time.perf_counter() - t) * 1000

            curves.fit_view()
            self.app.processEvents()
            whole = statistics.median(frame() for _ in range(5))
            zoomed = move(40, 41)
            pans = [move(40 + step * 0.05, 41 + step * 0.05) for step in range(30)]
            zoom_out = move(0, 100)
            results[mode] = (set_data * 1000, whole, zoomed, statistics.mean(pans), max(pans), zoom_out)
            curves.close()
            curves.deleteLater()
            self.app.processEvents()
        print(f"\n3. Redraw of a curve of {n:,} batch points (loss and accuracy plots, raw + smoothed), ms")
        print(f"{'':46}{'set data':>9}{'whole':>8}{'zoom 1%':>9}{'pan avg':>9}{'pan max':>9}{'zoom out':>9}")
        for mode, r in results.items():
            print(f"{mode:46}" + "".join(f"{v:>9.1f}" if i else f"{v:>9.0f}" for i, v in enumerate(r)))
        print("(whole: loss and accuracy plots repainted; zoom, pan: the view moved, then one pass of the event loop\n"
              " re-clips, re-downsamples and repaints all three linked plots — smooth needs <= 16-33 ms a frame)",
              flush=True)

    def memory(self) -> None:
        minutes = self.args.memory_minutes
        if minutes <= 0:
            return
        samples: list[tuple[float, float]] = []

        def sample(elapsed: float) -> None:
            samples.append((elapsed, rss_mb()))

        before = rss_mb()
        self.train_in_app(100000, stop_after=60 * (minutes + 1), sample=sample)
        warm = [m for t, m in samples if t >= 60]
        baseline = warm[0] if warm else before
        points = len(self.window.features.training_view.curves.batches)
        print(f"\n4. Memory over {minutes} min of training after a 1-min warm-up (resident, MB; "
              f"{len(samples)} samples, {points:,} curve points at the end)")
        print(f"before the run {before:.0f}   after warm-up {baseline:.0f}   at the end {samples[-1][1]:.0f}   "
              f"highest {max(m for _, m in samples):.0f}")
        print(f"growth after warm-up: {samples[-1][1] - baseline:+.0f} MB (highest {max(warm) - baseline:+.0f})"
              f"   goal < 100 MB", flush=True)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.app.processEvents()
        shutil.rmtree(self.tmp, ignore_errors=True)  # the settings and runs this benchmark made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--memory-minutes", type=float, default=30.0)
    parser.add_argument("--only", default="throughput,redraw,memory",
                        help="comma-separated parts: throughput (with latency), redraw, memory")
    parser.add_argument("--in-process", action="store_true",
                        help="run the ML jobs on a thread of the window's process (as before the worker process)")
    parser.add_argument("--no-settle", action="store_true",
                        help="leave what the window's start made in the garbage collector's sight (as before)")
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",")}
    print("ML jobs: " + ("on a thread of the window's process" if args.in_process else "in the worker process"))
    if args.in_process:
        os.environ["CNNSTUDIO_ML_IN_PROCESS"] = "1"
        from cnnstudio.ml.quiet import quiet_tensorflow

        quiet_tensorflow()
    bench = Bench(args)
    try:
        if "redraw" in parts:
            bench.redraw()
        if "throughput" in parts:
            bench.throughput_and_latency()
        if "memory" in parts:
            bench.memory()
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
