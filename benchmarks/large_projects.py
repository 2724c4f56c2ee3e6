"""How long 20,000-layer projects take: summarized (read + analysed + the table) and opened in the window.

Run:  QT_QPA_PLATFORM=offscreen python benchmarks/large_projects.py [--layers 20000]
Goals: summarized in under 1 s, opened in under 5 s. The same is measured for a tenth of the layers, side
by side, so the ratio shows how the cost grows (10 means in proportion to the layers; 100, with their square).
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
    import os, sys, time
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = sys.argv[2]
    from PySide6.QtCore import QSettings
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
    from cnnstudio.ui.app import create_application
    app = create_application()
    from cnnstudio.ui.main_window import MainWindow
    begin = time.perf_counter()
    window = MainWindow()
    window.show()
    app.processEvents()
    ready, ready_cpu = time.perf_counter(), time.process_time()
    assert window.open_project(sys.argv[1])
    app.processEvents()
    print(time.perf_counter() - ready, time.process_time() - ready_cpu, len(window.editor.scene.nodes))
    window.document.undo_stack.setClean()
    window.close()
""")


def opened(path: Path, runs: int) -> list[float]:
    """File > Open of the project in a window already shown, until the canvas and tables are drawn."""
    samples, cpu = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", OPEN, str(path), folder], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout.split()
            samples.append(float(out[0]))
            cpu.append(float(out[1]))
    CPU_SECONDS.append(statistics.median(cpu))
    return samples


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
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"medians of {args.runs} runs; {args.layers:,} layers vs {args.layers // 10:,}")
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.cnnproj", Path(folder) / "small.cnnproj"
        big.write_text(json.dumps(project_data(args.layers)))
        small.write_text(json.dumps(project_data(args.layers // 10)))
        print(f"project file: {big.stat().st_size / 2**20:.1f} MB")
        show("summarized (read + analyse + table)", summarized(big, args.runs), summarized(small, args.runs), 1)
        show("cnnstudio summary (whole process)", command(big, args.runs), command(small, args.runs), 2)
        if not args.without_window:
            show("opened in the window (File > Open to drawn)", opened(big, args.runs), opened(small, args.runs), 5)


if __name__ == "__main__":
    main()
