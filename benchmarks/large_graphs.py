"""Large imported networks on the canvas: File > Import to first paint, and an edit to its redraw.

Run:  QT_QPA_PLATFORM=offscreen python benchmarks/large_graphs.py [--models NASNetMobile,DenseNet121] [--edits 7]
      [--before REVISION]   (the same measured after with the program of an older git revision, in the same run)

NASNetMobile (771 layers) and DenseNet121 (429 layers), built by keras.applications with
``weights=None`` and saved as .keras once (kept in the temporary folder between runs), are
imported through the window as File > Import does. For each it prints:
- import to first paint: from the import starting to the canvas having painted the new network,
  split into the import itself (reading, converting and checking the model on the ML thread) and
  the window's part (the project shown: canvas items, layout, minimap, summary, inspector, paint);
- an edit to its redraw: a convolution's filters changed in the Inspector, until the canvas has
  repainted with the new shapes (median of several edits).
Goals: import to first paint under 3 s; an edit under 50 ms. The window's part and the edits are
also given in processor time of this process, the steadier figure on a machine others share.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("CNNSTUDIO_BENCHMARK_CODE", ROOT))  # the program measured (--before: an older one)
sys.path.insert(0, str(CODE))
MODELS = Path(tempfile.gettempdir()) / "cnnstudio-benchmark-models"


def model_file(name: str) -> Path:
    """``name`` from keras.applications, untrained, saved as .keras (made once)."""
    path = MODELS / f"{name}.keras"
    if not path.exists():
        import keras

        MODELS.mkdir(parents=True, exist_ok=True)
        model = getattr(keras.applications, name)(weights=None)
        model.save(path)
        print(f"  (made {path}: {len(model.layers)} layers)", flush=True)
    return path


class PaintClock:
    """The time at which the canvas finished painting, each time it paints."""

    def __init__(self, view) -> None:
        from PySide6.QtCore import QEvent, QObject

        clock = self

        class Filter(QObject):
            def eventFilter(self, watched, event):  # noqa: N802
                if event.type() == QEvent.Type.Paint:
                    view.viewportEvent(event)  # paint now, then note the time
                    clock.painted, clock.painted_cpu = time.perf_counter(), time.process_time()
                    return True
                return False

        self.painted = self.painted_cpu = 0.0
        self._filter = Filter()
        view.viewport().installEventFilter(self._filter)

    def wait(self, app, since: float, seconds: float = 600.0) -> float:
        """Seconds from ``since`` to the first paint after it."""
        deadline = time.perf_counter() + seconds
        while self.painted < since and time.perf_counter() < deadline:
            app.processEvents()
        return self.painted - since


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="NASNetMobile,DenseNet121")
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--before", metavar="REVISION", help="then measure the program of this git revision")
    args = parser.parse_args(argv)
    if args.before:
        status = measure(args)
        with tempfile.TemporaryDirectory() as folder:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            print(f"--- the same with the program at {args.before}", flush=True)
            again = [a for a in (argv if argv is not None else sys.argv[1:]) if a != args.before and a != "--before"]
            older = subprocess.run([sys.executable, __file__, *again], env={**os.environ,
                                   "CNNSTUDIO_BENCHMARK_CODE": folder})
        return status or older.returncode
    return measure(args)


def measure(args: argparse.Namespace) -> int:
    """Import each model through the window, to its first paint, then edit it."""
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    paths = {name: model_file(name) for name in names}

    home = Path(tempfile.mkdtemp(prefix="cnnstudio-bench-"))
    os.environ["CNNSTUDIO_RUNS_DIR"] = str(home / "runs")
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = str(home / "recovery")
    from PySide6.QtCore import QObject, QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "settings"))
    import cnnstudio
    from cnnstudio.ui.app import create_application

    assert Path(cnnstudio.__file__).parents[1] == CODE, f"the program measured is {cnnstudio.__file__}"
    app = create_application()
    from cnnstudio.ui import dialogs
    from cnnstudio.ui.main_window import MainWindow

    dialogs.ask_save_changes = lambda parent, name: dialogs.DISCARD
    window = MainWindow()
    window.resize(1366, 740)
    window.show()
    app.processEvents()
    importer = window.findChild(QObject, "modelImporter")
    clock = PaintClock(window.editor.view)
    shown_at: list[float] = []
    shown_cpu: list[float] = []
    original = importer._project

    def project(result):  # the import has finished on the ML thread: the window's part starts here
        shown_at.append(time.perf_counter())
        shown_cpu.append(time.process_time())
        return original(result)

    importer._project = project
    print(f"Python {sys.version.split()[0]}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}, window 1366x740")
    importer.import_file(paths[names[0]])  # once, unmeasured: TensorFlow and Keras load the first time
    while importer.busy:
        app.processEvents()
    for name in names:
        shown_at.clear()
        begin = time.perf_counter()
        if not importer.import_file(paths[name]):
            print(f"{name}: not imported: {importer.last_error}")
            continue
        while importer.busy:
            app.processEvents()
        if importer.last_error:
            print(f"{name}: not imported: {importer.last_error}")
            continue
        first_paint = clock.wait(app, shown_at[-1]) + shown_at[-1] - begin
        window_part = first_paint - (shown_at[-1] - begin)
        window_cpu = clock.painted_cpu - shown_cpu[-1]
        layers = len(window.document.network)
        items = len(window.editor.scene.nodes)
        print(f"{name} ({layers} layers, {items} shown with an item): import to first paint {first_paint:.2f} s "
              f"(import {shown_at[-1] - begin:.2f} s, window {window_part * 1000:.0f} ms, "
              f"{window_cpu * 1000:.0f} ms of processor time)   goal under 3 s", flush=True)
        edits, cpu, jump = edit_times(app, window, clock, args.edits)
        print(f"{name}: Find Layer of a convolution in the middle, opening its stage, to the canvas repainted: "
              f"{jump * 1000:.0f} ms of processor time", flush=True)
        print(f"{name}: an edit in the Inspector to the canvas redrawn: median {statistics.median(edits):.1f} ms "
              f"(min {min(edits):.1f}, max {max(edits):.1f}, n={len(edits)}; processor time median "
              f"{statistics.median(cpu):.1f} ms)   goal under 50 ms", flush=True)
    window.document.undo_stack.setClean()
    window.close()
    return 0


def edit_times(app, window, clock: PaintClock, count: int) -> tuple[list[float], list[float], float]:
    """Change a convolution's filters in the Inspector (one near the middle), until the canvas repaints; and the
    processor time of jumping to it first (Find Layer, which opens the folded stage holding it)."""
    network = window.document.network
    convolutions = [n for n in network.topological_order() if network.node(n).type == "Conv2D"]
    target = convolutions[len(convolutions) // 2]
    window.editor.view.viewport().update()
    begin, begin_cpu = time.perf_counter(), time.process_time()
    window.editor.go_to_layer(target)
    clock.wait(app, begin)
    jump = clock.painted_cpu - begin_cpu
    app.processEvents()
    spin = window.inspector.form.editor("filters").spin
    start = spin.value()
    times, cpu = [], []
    for step in range(count):
        window.editor.view.viewport().update()
        begin, begin_cpu = time.perf_counter(), time.process_time()
        spin.setValue(start + step + 1)
        times.append(clock.wait(app, begin) * 1000)
        cpu.append((clock.painted_cpu - begin_cpu) * 1000)
    return times, cpu, jump


if __name__ == "__main__":
    sys.exit(main())
