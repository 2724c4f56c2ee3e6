"""Reliability soak: the real main window trained, stopped, inspected and exported over and over.

    python benchmarks/soak.py [--minutes 60] [--csv soak.csv] [--epochs 2] [--steps 30]

Each cycle, driven through the Qt event loop (timers and signals, never a blocking wait):
1. train LeNet-5 on mnist-sample through `window.features.training` (`--epochs` short epochs of
   `--steps` batches); one cycle in three lets it finish, one stops it part-way through the
   second epoch, one stops it at once (before the first batch);
2. inspect the model shown: the feature maps of a dataset sample and of the next one, the
   filters of the first convolution, Grad-CAM of a validation image (the Inspect pages);
3. export it as .keras, .tflite and .onnx through the export dialog into a scratch folder,
   and check each file was written, checked and is on disk;
4. every `--delete-every` cycles, delete the older runs through the Runs panel (the trash
   lives in the scratch folder and is emptied), so the disk does not fill up.
After every cycle (and a garbage collection): resident memory, Python and OS thread counts,
top-level widgets, the cycle's duration and any failure (uncaught exceptions, also those the
crash handler reports; error messages; unexpected dialogs; failed checks; timeouts). A failed
cycle is recorded, the window is brought back to rest, and the soak goes on. The memory
baseline is taken after `--warmup` cycles. Goal: no failure and memory growth under 100 MB.
Exit status 0 on PASS, 1 on FAIL. `--skip inspect,export` leaves phases out, to find where a
problem comes from. Offscreen unless QT_QPA_PLATFORM says otherwise (xvfb-run with
QT_QPA_PLATFORM=xcb shows it); settings, runs, logs and exports go to a scratch folder removed
at the end. Cycle times depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import csv
import gc
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _measuring import rss_mb  # noqa: E402  (beside this script)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
QUIET_QT = ("This plugin does not support",)  # the offscreen platform's notes on window hints

GOAL_MB = 100.0
POLL_MS = 25
MODES = ("finish", "stop part-way", "stop at once")
EXPORT_FORMATS = ("keras", "tflite", "onnx")
TRAIN_TIMEOUT_S, STEP_TIMEOUT_S = 600.0, 300.0


# ---------------------------------------------------------------------------------------- measuring
def os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


@dataclass
class Cycle:
    number: int
    mode: str
    started_s: float = 0.0
    seconds: float = 0.0
    train_s: float = 0.0
    inspect_s: float = 0.0
    export_s: float = 0.0
    rss_mb: float = 0.0
    py_threads: int = 0
    os_threads: int = 0
    widgets: int = 0
    visible_windows: int = 0
    runs_on_disk: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def row(self) -> dict:
        return {"cycle": self.number, "mode": self.mode, "started_s": f"{self.started_s:.1f}",
                "seconds": f"{self.seconds:.1f}", "train_s": f"{self.train_s:.1f}",
                "inspect_s": f"{self.inspect_s:.1f}", "export_s": f"{self.export_s:.1f}",
                "rss_mb": f"{self.rss_mb:.1f}", "py_threads": self.py_threads, "os_threads": self.os_threads,
                "top_level_widgets": self.widgets, "visible_windows": self.visible_windows,
                "runs_on_disk": self.runs_on_disk, "ok": int(self.ok), "failures": " | ".join(self.failures)}


# ---------------------------------------------------------------------------------------- driving
@dataclass
class Wait:
    """What a script step waits for: `done()` true (it may raise to report a failure) within `timeout` s."""

    what: str
    done: Callable[[], bool]
    timeout: float = STEP_TIMEOUT_S


class Driver:
    """Runs a generator of `Wait`s on the Qt event loop: a timer polls each condition, then resumes it.
    A timeout or a failing condition is thrown into the generator at the point it waited."""

    def __init__(self, steps: Iterator[Wait], on_done: Callable[[BaseException | None], None]) -> None:
        from PySide6.QtCore import QTimer

        self.steps, self.on_done = steps, on_done
        self.wait: Wait | None = None
        self.deadline = 0.0
        self.timer = QTimer(interval=POLL_MS)
        self.timer.timeout.connect(self._poll)

    def start(self) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: self._advance(None))

    def _advance(self, error: BaseException | None) -> None:
        self.timer.stop()
        try:
            self.wait = self.steps.throw(error) if error is not None else next(self.steps)
        except StopIteration:
            self.on_done(None)
            return
        except BaseException as exc:  # noqa: BLE001 - the script itself broke: end, and say so
            self.on_done(exc)
            return
        self.deadline = time.monotonic() + self.wait.timeout
        self.timer.start()

    def _poll(self) -> None:
        try:
            done = self.wait.done()
        except Exception as exc:  # noqa: BLE001 - the condition saw a failure
            self._advance(exc)
            return
        if done:
            self._advance(None)
        elif time.monotonic() > self.deadline:
            self._advance(TimeoutError(f"no {self.wait.what} within {self.wait.timeout:.0f} s"))


def pause(seconds: float) -> Wait:
    end = time.monotonic() + seconds
    return Wait(f"pause of {seconds} s", lambda: time.monotonic() >= end, seconds + 60)


class Count:
    """How often a signal fired, and its last arguments."""

    def __init__(self, signal) -> None:
        self.n, self.last = 0, None
        signal.connect(self._fired)

    def _fired(self, *args) -> None:
        self.n += 1
        self.last = args[0] if len(args) == 1 else args


class SoakFailure(Exception):
    """A check of the soak failed (the message says which, in plain words)."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SoakFailure(message)


# ---------------------------------------------------------------------------------------- the soak
class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.scratch = Path(tempfile.mkdtemp(prefix="cnnstudio-soak-"))
        self.trash = self.scratch / "data" / "Trash"
        for sub in ("files", "info"):
            (self.trash / sub).mkdir(parents=True)  # Qt moves to the trash only where it exists
        os.environ.update(CNNSTUDIO_RUNS_DIR=str(self.scratch / "runs"), XDG_DATA_HOME=str(self.scratch / "data"),
                          CNNSTUDIO_RECOVERY_DIR=str(self.scratch / "recovery"),
                          CNNSTUDIO_LOG_DIR=str(self.scratch / "logs"))
        self.cycles: list[Cycle] = []
        self.problems: list[str] = []  # failures seen by the hooks since the current cycle began
        self.notes: list[str] = []
        self.script_error: BaseException | None = None
        self.shutdown_ok = False
        self.window = None

    # -- setting up -------------------------------------------------------------------------------
    def open_window(self) -> None:
        from PySide6.QtCore import QSettings, QTimer, qInstallMessageHandler

        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(self.scratch / "settings"))
        from cnnstudio.core.templates import load_template
        from cnnstudio.ui import dialogs
        from cnnstudio.ui.app import create_application
        from cnnstudio.ui.main_window import MainWindow

        qInstallMessageHandler(lambda _kind, _context, text: None if text.startswith(QUIET_QT)
                               else print(text, file=sys.stderr))
        logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes of the models loaded
        self.app = create_application(["cnnstudio-soak"])
        self.app.setQuitOnLastWindowClosed(False)  # the script quits once it has checked the closing
        dialogs.ask_save_changes = lambda parent, name: dialogs.DISCARD  # closing at the end discards
        dialogs.show_error = lambda parent, title, text: self.problem(f"error dialog: {title}: {text}")
        window = self.window = MainWindow(load_template("lenet5"))
        window.crash_handler.install()  # as the program does; ours records first, then hands over
        app_hook, app_thread_hook = sys.excepthook, threading.excepthook

        def hook(exc_type, exc, tb) -> None:
            self.problem(f"uncaught {exc_type.__name__}: {exc}")
            traceback.print_exception(exc_type, exc, tb)
            app_hook(exc_type, exc, tb)

        def thread_hook(info) -> None:
            self.problem(f"uncaught in thread {info.thread.name if info.thread else '?'}: "
                         f"{info.exc_type.__name__}: {info.exc_value}")
            app_thread_hook(info)

        sys.excepthook, threading.excepthook = hook, thread_hook
        def recording_message(severity: str, text: str) -> None:
            if severity == "error":
                self.problem(f"error message: {text}")
            elif severity == "warning":
                self.notes.append(f"cycle {len(self.cycles) + 1}: warning: {text}")

        window.context.messages.shown.connect(recording_message)
        window.context.ml.failed.connect(lambda text: self.problem(f"ML job failed: {text}"))
        window.document.project.training.update(epochs=self.args.epochs, max_steps_per_epoch=self.args.steps,
                                                validation_split=0.1, batch_size=64, seed=0)
        window.document.mark_modified()
        window.resize(1600, 1000)
        window.show()
        self.counts = {name: Count(signal) for name, signal in (
            ("batch", window.features.training.batch), ("result", window.features.training.resultReady),
            ("failed", window.features.training.failed), ("maps", window.features.inspect.feature_maps.shown),
            ("filters", window.features.inspect.filters.shown))}
        self.watchdog = QTimer(interval=250)
        self.watchdog.timeout.connect(self.dismiss_dialogs)
        self.watchdog.start()

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def dismiss_dialogs(self) -> None:
        """A dialog that waits for an answer would stop the soak: record it and close it."""
        from PySide6.QtWidgets import QApplication, QMessageBox

        modal = QApplication.activeModalWidget()
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        for widget in ([modal] if modal is not None and modal not in boxes else []) + boxes:
            text = widget.text() if isinstance(widget, QMessageBox) else ""
            self.problem(f"unexpected dialog {widget.objectName() or type(widget).__name__} "
                         f"'{widget.windowTitle()}': {text}".strip())
            widget.reject() if hasattr(widget, "reject") else widget.close()

    # -- the script -------------------------------------------------------------------------------
    def script(self) -> Iterator[Wait]:
        yield pause(0.5)  # the window laid out and painted
        start = time.monotonic()
        end = start + self.args.minutes * 60
        number = 0
        while number < self.args.warmup + 1 or time.monotonic() < end:
            number += 1
            cycle = Cycle(number, MODES[(number - 1) % len(MODES)], started_s=time.monotonic() - start)
            began = time.monotonic()
            try:
                yield from self.one_cycle(cycle)
            except Exception as exc:  # noqa: BLE001 - a failed cycle is recorded; the soak goes on
                self.problem(f"{type(exc).__name__}: {exc}" if not isinstance(exc, SoakFailure) else str(exc))
                yield from self.recover()
            cycle.seconds = time.monotonic() - began
            self.measure(cycle)
            self.cycles.append(cycle)
            if number % self.args.table_every == 0:
                self.print_table(self.cycles[-self.args.table_every:])
        if len(self.cycles) % self.args.table_every:
            self.print_table(self.cycles[-(len(self.cycles) % self.args.table_every):])
        yield from self.close_window()

    def one_cycle(self, cycle: Cycle) -> Iterator[Wait]:
        skip = self.args.skip
        for phase, steps in (("train", self.train), ("inspect", self.inspect), ("export", self.export)):
            if phase not in skip:
                began = time.monotonic()
                yield from steps(cycle)
                setattr(cycle, f"{phase}_s", time.monotonic() - began)
        if cycle.number % self.args.delete_every == 0:
            yield from self.delete_old_runs()

    def train(self, cycle: Cycle) -> Iterator[Wait]:
        from cnnstudio.ml.training.reporting import FINISHED, STOPPED

        training, counts, last = self.window.features.training, self.counts, self.args.epochs
        batches, results, failures = counts["batch"].n, counts["result"].n, counts["failed"].n
        check(training.start(), "training did not start")
        if cycle.mode == "stop at once":
            training.stop()
        elif cycle.mode == "stop part-way":  # at the first progress report of the last epoch
            def in_last_epoch() -> bool:
                report = counts["batch"].last
                return (counts["batch"].n > batches and report.epoch == last) or not training.is_running

            yield Wait("the last epoch", in_last_epoch, TRAIN_TIMEOUT_S)
            check(training.is_running, "the run ended before it could be stopped part-way")
            stopped_at = counts["batch"].last
            check(stopped_at.batches is None or stopped_at.batch < stopped_at.batches,
                  f"the last epoch was already over ({stopped_at.batch} of {stopped_at.batches} batches)")
            training.stop()

        def over() -> bool:
            check(counts["failed"].n == failures, f"training failed: {counts['failed'].last}")
            return not training.is_running

        yield Wait("end of training", over, TRAIN_TIMEOUT_S)
        result = training.last_result
        if cycle.mode == "stop at once":
            check(result is None or result.stopped_reason == STOPPED, "a run stopped at once did not say so")
            return
        check(counts["result"].n > results and result is not None, "training ended without a result")
        run_dir = Path(result.run_dir)
        check((run_dir / "model.keras").is_file(), f"run {run_dir.name} holds no model.keras")
        check(self.window.model_source.run_dir == run_dir, "the inspection views do not show the new run")
        if cycle.mode == "finish":
            check(result.stopped_reason == FINISHED and result.epochs == self.args.epochs,
                  f"the run ended after {result.epochs} epoch(s) ({result.stopped_reason})")
        else:
            check(result.stopped_reason == STOPPED and result.epochs == last - 1,
                  f"a run stopped in epoch {last} ended as {result.stopped_reason} after {result.epochs} epoch(s)")

    def inspect(self, cycle: Cycle) -> Iterator[Wait]:
        from superqt.utils import signals_blocked

        window, views, counts = self.window, self.window.features.inspect, self.counts
        maps, filters = views.feature_maps, views.filters

        def maps_shown(before: int) -> Callable[[], bool]:
            def done() -> bool:
                check(not maps.banner.isVisible(), f"feature maps: {maps.banner.text()}")
                return counts["maps"].n > before
            return done

        before = counts["maps"].n
        window.features.inspect.area.show_page(maps)
        yield Wait("feature maps", maps_shown(before))
        first = maps.analysis.input
        before = counts["maps"].n
        maps.input_panel.browser.step(cycle.number)  # another sample each cycle
        yield Wait("feature maps of the next sample", maps_shown(before))
        analysis = maps.analysis
        check(analysis.input is not first, "the feature maps did not follow the new sample")
        missing = [name for name in maps.rows if analysis.activations.get(name) is None]
        check(not missing, f"feature maps missing for {', '.join(missing)}")

        before = counts["filters"].n
        window.features.inspect.area.show_page(filters)
        filters.request()
        yield Wait("filters", lambda: counts["filters"].n > before)
        check(filters.kernels is not None and len(filters.kernels.kernels) > 0, "no filters shown")

        saliency = window.findChild(object, "saliencyView")
        check(saliency is not None, "the window has no Saliency page")
        window.features.inspect.area.show_page(saliency)
        with signals_blocked(saliency.method):
            saliency.set_method("grad-cam")
        saliency.explanation = None
        saliency.pick_image("validation", (cycle.number * 7) % 100)

        def explained() -> bool:
            check("Not explained" not in saliency.status.text(), f"Grad-CAM: {saliency.status.text()}")
            return saliency.explanation is not None

        yield Wait("Grad-CAM", explained)
        found = saliency.explanation
        check(found.method == "grad-cam" and found.heatmap.size > 0, "Grad-CAM gave no heat map")

    def export(self, cycle: Cycle) -> Iterator[Wait]:
        window = self.window
        window.actions_["export"].trigger()  # File > Export…
        dialog = window.findChild(object, "exportDialog")
        check(dialog is not None and dialog.isVisible(), "File > Export… opened no dialog")
        run_dir = window.model_source.run_dir
        dialog.select_source(run_dir)
        folder = self.scratch / "exports" / f"cycle-{cycle.number}"
        dialog.folder.setText(str(folder))
        dialog.base.setText(f"soak-{cycle.number}")
        dialog.set_formats(EXPORT_FORMATS)
        check(dialog.start_export(), f"the export did not start: {dialog.summary.text()}")
        yield Wait("the export", lambda: not dialog.running)
        results = dialog.results
        bad = [f"{key}: {results[key].detail}" for key in EXPORT_FORMATS if key in results and not results[key].ok]
        check(not bad, "export failed: " + "; ".join(bad))
        check(set(results) >= set(EXPORT_FORMATS), f"export wrote only {', '.join(sorted(results))}")
        absent = [key for key in EXPORT_FORMATS if not results[key].path.is_file()
                  or results[key].path.stat().st_size == 0]
        check(not absent, f"exported files missing or empty: {', '.join(absent)}")
        dialog.close()
        shutil.rmtree(folder, ignore_errors=True)

    def delete_old_runs(self) -> Iterator[Wait]:
        history = self.window.features.runs
        history.refresh()
        keep = {self.window.model_source.run_dir, history.active_run}
        old = [run.path for run in history.runs if run.path not in keep]
        if old:
            gone = history.delete(old)
            check(gone == len(old), f"deleted {gone} of {len(old)} old runs")
        for sub in ("files", "info"):  # empty the scratch trash
            shutil.rmtree(self.trash / sub, ignore_errors=True)
            (self.trash / sub).mkdir(parents=True, exist_ok=True)
        yield pause(0.1)

    def recover(self) -> Iterator[Wait]:
        """After a failure: stop training, close the export dialog, let the ML thread drain.
        What does not recover is recorded too; the next cycle starts either way."""
        window = self.window
        dialog = window.findChild(object, "exportDialog")
        steps = (
            (window.features.training.stop, Wait("training to stop after a failure", lambda: not window.features.training.is_running,
                                        TRAIN_TIMEOUT_S)),
            (lambda: dialog is not None and dialog.cancel(),
             Wait("the export to cancel", lambda: dialog is None or not dialog.running)),
            (lambda: dialog is not None and dialog.close(),
             Wait("the ML worker to be idle", lambda: not window.ml_transport.busy, 120)),
        )
        for action, wait in steps:
            try:
                action()
                yield wait
            except Exception as exc:  # noqa: BLE001 - recorded; the soak goes on
                self.problem(f"while recovering: {type(exc).__name__}: {exc}")

    def close_window(self) -> Iterator[Wait]:
        window = self.window
        if window.features.training.is_running:
            window.features.training.stop()
            yield Wait("training to stop before closing", lambda: not window.features.training.is_running, TRAIN_TIMEOUT_S)
        yield Wait("the ML worker to be idle before closing", lambda: not window.ml_transport.busy)
        self.watchdog.stop()
        window.close()  # the close guards run, then the window's jobs in the worker end (waited for)
        problems = ["the window did not close"] if window.isVisible() else []
        if not window.ml_transport.shutdown(timeout_ms=0):
            problems.append("the window's jobs are still running in the ML worker")
        self.shutdown_problems = problems + self.problems
        self.shutdown_ok = not self.shutdown_problems

    # -- measuring and telling --------------------------------------------------------------------
    def measure(self, cycle: Cycle) -> None:
        from PySide6.QtWidgets import QApplication

        gc.collect()
        cycle.rss_mb = rss_mb()
        cycle.py_threads = threading.active_count()
        cycle.os_threads = os_threads()
        widgets = QApplication.topLevelWidgets()
        cycle.widgets = len(widgets)
        cycle.visible_windows = sum(1 for w in widgets if w.isVisible())
        runs = self.scratch / "runs"
        cycle.runs_on_disk = sum(1 for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else 0
        cycle.failures, self.problems = self.problems, []  # what comes later counts for the next cycle
        if cycle.failures:
            print(f"cycle {cycle.number} ({cycle.mode}) FAILED: " + " | ".join(cycle.failures), flush=True)

    def print_table(self, rows: list[Cycle]) -> None:
        """The rows; the column heads before the first and then every 100 cycles."""
        if not any((c.number - 1) % 100 == 0 for c in rows):
            self._print_rows(rows)
            return
        print(f"{'cycle':>5} {'mode':<14} {'s':>6} {'train':>6} {'insp':>5} {'exp':>5} {'RSS MB':>8} "
              f"{'py thr':>6} {'OS thr':>6} {'widg':>5} {'runs':>4}  result", flush=True)
        self._print_rows(rows)

    @staticmethod
    def _print_rows(rows: list[Cycle]) -> None:
        for c in rows:
            print(f"{c.number:>5} {c.mode:<14} {c.seconds:>6.1f} {c.train_s:>6.1f} {c.inspect_s:>5.1f} "
                  f"{c.export_s:>5.1f} {c.rss_mb:>8.1f} {c.py_threads:>6} {c.os_threads:>6} {c.widgets:>5} "
                  f"{c.runs_on_disk:>4}  {'ok' if c.ok else 'FAILED'}", flush=True)

    def write_csv(self, path: Path) -> None:
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(Cycle(0, "").row()))
            writer.writeheader()
            for cycle in self.cycles:
                writer.writerow(cycle.row())

    def summary(self) -> bool:
        cycles, warm = self.cycles, self.args.warmup
        measured = cycles[warm - 1:] if len(cycles) > warm else cycles[-1:]
        failed = [c for c in cycles if not c.ok]
        print("\nSoak summary")
        print(f"  cycles: {len(cycles)} ({warm} warm-up) over "
              f"{(cycles[-1].started_s + cycles[-1].seconds) / 60 if cycles else 0:.1f} min; "
              f"median cycle {_median([c.seconds for c in cycles]):.1f} s; modes: "
              + ", ".join(f"{sum(c.mode == m for c in cycles)} {m}" for m in MODES))
        print(f"  failures: {len(failed)} cycle(s)")
        for c in failed[:20]:
            print(f"    cycle {c.number} ({c.mode}): " + " | ".join(c.failures))
        ok = not failed and self.script_error is None
        if self.script_error is not None:
            print(f"  the soak script broke: {type(self.script_error).__name__}: {self.script_error}")
        if measured:
            base, final = measured[0].rss_mb, measured[-1].rss_mb
            peak = max(c.rss_mb for c in measured)
            growth = final - base
            slope = _slope([(c.started_s + c.seconds) / 3600 for c in measured], [c.rss_mb for c in measured])
            trend = f"; trend {slope:+.1f} MB/hour (least squares)" if len(measured) >= 10 else ""
            print(f"  resident memory: baseline {base:.1f} MB (after cycle {measured[0].number}), final {final:.1f} MB,"
                  f" peak {peak:.1f} MB; growth {growth:+.1f} MB (goal < {GOAL_MB:.0f} MB){trend}")
            first_rss = cycles[0].rss_mb
            print(f"  (after cycle 1: {first_rss:.1f} MB)")
            for label, key in (("Python threads", "py_threads"), ("OS threads", "os_threads"),
                               ("top-level widgets", "widgets"), ("runs on disk", "runs_on_disk")):
                values = [getattr(c, key) for c in measured]
                print(f"  {label}: min {min(values)}, max {max(values)}, final {values[-1]} "
                      f"(baseline {values[0]})")
            ok = ok and growth < GOAL_MB
        shutdown = "clean (window closed, ML thread ended)" if self.shutdown_ok else \
            "NOT clean: " + "; ".join(getattr(self, "shutdown_problems", ["the soak did not reach the end"]))
        print(f"  shutdown: {shutdown}")
        ok = ok and self.shutdown_ok
        if self.notes:
            print(f"  warnings shown ({len(self.notes)}): " + "; ".join(self.notes[:5]))
        print(f"  result: {'PASS' if ok else 'FAIL'} (goal: no failure, memory growth < {GOAL_MB:.0f} MB)")
        return ok

    def run(self) -> int:
        self.open_window()

        def done(error: BaseException | None) -> None:
            if error is not None:
                self.script_error = error
                traceback.print_exception(type(error), error, error.__traceback__)
                if self.window is not None and self.window.isVisible():
                    self.window.close()
            self.app.quit()

        driver = Driver(self.script(), done)
        driver.start()
        self.app.exec()
        if self.args.csv:
            self.write_csv(Path(self.args.csv))
            print(f"  per-cycle figures: {self.args.csv}")
        ok = self.summary()
        shutil.rmtree(self.scratch, ignore_errors=True)
        return 0 if ok else 1


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 for fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to keep starting cycles")
    parser.add_argument("--csv", default=None, help="write the per-cycle figures to this CSV file")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training run")
    parser.add_argument("--steps", type=int, default=30, help="batches per epoch (max_steps_per_epoch)")
    parser.add_argument("--warmup", type=int, default=2, help="cycles before the memory baseline")
    parser.add_argument("--delete-every", type=int, default=3, help="delete the older runs every N cycles")
    parser.add_argument("--skip", type=lambda text: set(text.split(",")), default=set(),
                        help="leave phases out, to find which one a problem comes from: train,inspect,export")
    parser.add_argument("--table-every", type=int, default=5, help="print the figures every N cycles")
    args = parser.parse_args()
    return Soak(args).run()


if __name__ == "__main__":
    raise SystemExit(main())
