"""How long 20,000-layer projects take: summarized (read + analysed + the table) and opened in the window.

Run:  QT_QPA_PLATFORM=offscreen python benchmarks/large_projects.py [--layers 20000] [--before REVISION]
Goals: summarized in under 1 s, opened in under 5 s. The same is measured for a tenth of the layers, side
by side, so the ratio shows how the cost grows (10 means in proportion to the layers; 100, with their square).
The window also opens the same 20,000 layers grouped in blocks and folded stages (as an imported application
opens), jumps to a layer inside a stage and edits it; ``--before`` opens both with the program of an older git
revision too, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _measuring import older_program  # noqa: E402 - the benchmarks folder is on the path as this runs


def project_data(layers: int, folded: bool = False) -> dict:
    """A chain of Conv2D / BatchNormalization / ReLU blocks on 32x32x3 images, then a classifier.
    ``folded``: the chain grouped as an imported application is (blocks of 30 layers, stages of 10 blocks),
    every stage folded."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [32, 32, 3]}}]
    edges = []
    kinds = [("Conv2D", {"filters": 8, "kernel_size": 3, "padding": "same"}), ("BatchNormalization", {}),
             ("ReLU", {})]
    previous = "input"
    for i in range(layers - 4):
        type_name, params = kinds[i % 3]
        nodes.append({"id": f"layer{i}", "type": type_name, "params": params})
        edges.append([previous, f"layer{i}"])
        previous = f"layer{i}"
    for type_name, params, node_id in (("GlobalAveragePooling2D", {}, "pool"), ("Dropout", {"rate": 0.2}, "drop"),
                                       ("Dense", {"units": 10, "activation": "softmax"}, "output")):
        nodes.append({"id": node_id, "type": type_name, "params": params})
        edges.append([previous, node_id])
        previous = node_id
    data = {"format": "cnnstudio-project", "version": 1, "name": f"chain of {layers}",
            "network": {"nodes": nodes, "edges": edges},
            "dataset": {"name": "cifar10", "permute_pixels": None}}
    if folded:
        chain = [node["id"] for node in nodes[1:-3]]
        units = [chain[i:i + BLOCK] for i in range(0, len(chain), BLOCK)]
        found = [{"id": f"block{k}", "name": f"block {k}", "nodes": unit} for k, unit in enumerate(units)]
        stages = [{"id": f"stage{k}", "name": f"stage {k}", "collapsed": True,
                   "nodes": [b["id"] for b in found[i:i + STAGE]]}
                  for k, i in enumerate(range(0, len(found), STAGE))]
        data["version"], data["name"] = 2, f"chain of {layers} in folded stages"
        data["network"]["blocks"] = found + stages
    return data


BLOCK, STAGE = 30, 10  # layers in a block, blocks in a stage of the folded variant


def summarized(path: Path, runs: int) -> list[float]:
    """Read, analyse and format the summary table in this process (what `cnnstudio summary` does);
    wall time, so a busy machine shows in the figures."""
    from cnnstudio.cli import format_summary
    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.bulk import collector_paused
    from cnnstudio.core.project import load_project

    samples, cpu = [], []
    for _ in range(runs):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        project = load_project(path)
        with collector_paused():  # as `cnnstudio summary` does
            format_summary(project.name, analyze(project.network))
        samples.append(time.perf_counter() - begin)
        cpu.append(time.process_time() - begin_cpu)
    CPU_SECONDS.append(statistics.median(cpu))
    return samples


def command(path: Path, runs: int) -> list[float]:
    """`cnnstudio summary PROJECT` as a whole process (interpreter start included)."""
    samples, cpu = [], []
    for _ in range(runs):
        begin, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "cnnstudio", "summary", str(path)], cwd=ROOT, check=True,
                       capture_output=True)
        samples.append(time.perf_counter() - begin)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU_SECONDS.append(statistics.median(cpu))
    return samples


OPEN = textwrap.dedent("""
    import json, os, statistics, sys, time
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = sys.argv[2]
    from PySide6.QtCore import QEvent, QObject, QSettings
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
    import cnnstudio
    from cnnstudio.ui.app import create_application
    app = create_application()
    from cnnstudio.ui.main_window import MainWindow
    window = MainWindow()
    window.show()
    app.processEvents()
    painted = [0.0, 0.0]

    class Clock(QObject):  # the time the canvas finished painting, each time it paints
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                window.editor.view.viewportEvent(event)
                painted[:] = [time.perf_counter(), time.process_time()]
                return True
            return False

    clock = Clock()
    window.editor.view.viewport().installEventFilter(clock)

    def paint_after(begin):
        while painted[0] < begin:
            app.processEvents()
        return painted[0] - begin

    ready, ready_cpu = time.perf_counter(), time.process_time()
    assert window.open_project(sys.argv[1])
    first = paint_after(ready)
    result = {"open": first, "open_cpu": painted[1] - ready_cpu, "items": len(window.editor.scene.nodes),
              "code": os.path.dirname(os.path.dirname(cnnstudio.__file__))}
    network = window.document.network
    convolutions = [n for n in network.nodes if network.node(n).type == "Conv2D"]
    target = convolutions[len(convolutions) // 2]
    begin, begin_cpu = time.perf_counter(), time.process_time()
    window.editor.go_to_layer(target)  # as Find Layer does: opens the folded stage holding it
    paint_after(begin)
    result["jump_cpu"] = painted[1] - begin_cpu
    app.processEvents()
    spin = window.inspector.form.editor("filters").spin
    edits, edits_cpu = [], []
    for step in range(int(sys.argv[3])):
        window.editor.view.viewport().update()
        begin, begin_cpu = time.perf_counter(), time.process_time()
        spin.setValue(spin.value() + 1)
        edits.append(paint_after(begin))
        edits_cpu.append(painted[1] - begin_cpu)
    result["edit"], result["edit_cpu"] = statistics.median(edits), statistics.median(edits_cpu)
    print(json.dumps(result))
    window.document.undo_stack.setClean()
    window.close()
""")


def opened(path: Path, runs: int, code: Path = ROOT, edits: int = 5) -> dict[str, float]:
    """File > Open of the project in a window already shown, to the canvas painted; then Find Layer of a
    convolution in the middle (opening its folded stage) and edits of its filters in the Inspector, each to the
    canvas repainted. Medians over the runs, each in a fresh process running the program in ``code``."""
    found: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", OPEN, str(path), folder, str(edits)], cwd=code, check=True,
                                 capture_output=True, text=True).stdout
            for key, value in json.loads(out.strip().splitlines()[-1]).items():
                found.setdefault(key, []).append(value)
    assert found["code"][0] == str(code), f"ran the program in {found['code'][0]}, not {code}"
    return {k: statistics.median(v) for k, v in found.items() if k != "code"}


def window_line(label: str, big: dict, small: dict | None, goal: float) -> None:
    ratio = f"; a tenth of the layers {small['open']:.3f} s, ratio {big['open'] / small['open']:.1f}" if small else ""
    print(f"{label:<44} first paint {big['open']:6.2f} s, processor {big['open_cpu']:5.2f} s "
          f"(goal < {goal:g} s: {'met' if big['open_cpu'] < goal else 'NOT met'}), {big['items']:,.0f} layer items"
          f"{ratio}\n{'':<44} Find Layer into it {big['jump_cpu'] * 1000:5.0f} ms processor; an edit to its "
          f"redraw {big['edit_cpu'] * 1000:4.0f} ms processor, {big['edit'] * 1000:4.0f} ms clock", flush=True)


CPU_SECONDS: list[float] = []  # processor time of the last measurements (what a busy machine does not inflate)


def show(label: str, big: list[float], small: list[float], goal: float) -> None:
    b, s = statistics.median(big), statistics.median(small)
    cpu = f"; processor time {CPU_SECONDS[-2]:.2f} s" if len(CPU_SECONDS) >= 2 else ""
    CPU_SECONDS.clear()
    print(f"{label:<44} {b:7.2f} s  (goal < {goal:g} s: {'met' if b < goal else 'NOT met'}{cpu}); "
          f"a tenth of the layers {s:6.3f} s, ratio {b / s:5.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--without-window", action="store_true", help="measure the summary only (no Qt needed)")
    parser.add_argument("--window-only", action="store_true", help="measure opening in the window only")
    parser.add_argument("--before", metavar="REVISION",
                        help="also open both projects with the program as it was at this git revision, side by side")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"medians of {args.runs} runs; {args.layers:,} layers vs {args.layers // 10:,}")
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.cnnproj", Path(folder) / "small.cnnproj"
        folded = Path(folder) / "folded.cnnproj"
        big.write_text(json.dumps(project_data(args.layers)))
        small.write_text(json.dumps(project_data(args.layers // 10)))
        folded.write_text(json.dumps(project_data(args.layers, folded=True)))
        print(f"project file: {big.stat().st_size / 2**20:.1f} MB")
        if not args.window_only:
            show("summarized (read + analyse + table)", summarized(big, args.runs), summarized(small, args.runs), 1)
            show("cnnstudio summary (whole process)", command(big, args.runs), command(small, args.runs), 2)
        if args.without_window:
            return
        programs = [("", ROOT)]
        if args.before:
            programs.append((f" at {args.before}", older_program(args.before, Path(tempfile.mkdtemp()))))
        stages = -(-(args.layers - 4) // (BLOCK * STAGE))
        for name, code in programs:  # one program after the other, the same projects, in the same run
            window_line(f"opened in the window{name}", opened(big, args.runs, code),
                        opened(small, args.runs, code) if not name else None, 5)
            window_line(f"in {stages} folded stages{name}", opened(folded, args.runs, code), None, 5)


if __name__ == "__main__":
    main()
