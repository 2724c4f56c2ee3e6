"""How fast the editor is: start-up, a 200-layer network, re-analysis after an edit, dragging.

Run:  QT_QPA_PLATFORM=offscreen python benchmarks/editor_speed.py
Prints one line per measurement (median of several runs, in milliseconds).
"""

from __future__ import annotations

import os
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


def chain_project(layers: int = 200):
    """Input, blocks of Conv2D/BatchNormalization/ReLU, then a classifier head."""
    from cnnstudio.core.network import Network
    from cnnstudio.core.project import Project

    network = Network()
    previous = network.add_node("Input", {"shape": [32, 32, 3]}, node_id="input").id
    kinds = [
        ("Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same"}),
        ("BatchNormalization", {}),
        ("ReLU", {}),
    ]
    index = 0
    while len(network) < layers - 3:
        type_name, params = kinds[index % len(kinds)]
        node = network.add_node(type_name, params, node_id=f"layer{index}")
        network.connect(previous, node.id)
        previous, index = node.id, index + 1
    for type_name, params, node_id in (
        ("GlobalAveragePooling2D", {}, "pool"),
        ("Dropout", {"rate": 0.2}, "drop"),
        ("Dense", {"units": 10, "activation": "softmax"}, "output"),
    ):
        network.connect(previous, network.add_node(type_name, params, node_id=node_id).id)
        previous = node_id
    return Project(f"chain of {layers}", network)


STARTUP = textwrap.dedent("""
    import time; start = time.perf_counter()
    import os, sys
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = sys.argv[1]
    from PySide6.QtCore import QSettings
    from cnnstudio.ui.app import create_application
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
    app = create_application()
    from cnnstudio.ui.main_window import MainWindow
    window = MainWindow()
    window.show()
    app.processEvents()
    print((time.perf_counter() - start) * 1000)
    print(int(any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)))
    window.close()
""")


def measure(label: str, samples: list[float], note: str = "") -> None:
    print(
        f"{label:<48} median {statistics.median(samples):8.1f} ms   (min {min(samples):.1f}, "
        f"max {max(samples):.1f}, n={len(samples)}){'  ' + note if note else ''}"
    )


def startup(runs: int = 5) -> None:
    """Interpreter start + imports + the main window on LeNet-5, shown (a fresh process each time)."""
    samples, tf_loaded = [], 0
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            begin = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", STARTUP, folder], capture_output=True, text=True, cwd=ROOT, check=True
            ).stdout.split()
            total = (time.perf_counter() - begin) * 1000
            samples.append(total)
            tf_loaded |= int(out[1])
            inside = float(out[0])
    measure(
        "start-up to window shown (whole process)",
        samples,
        f"last in-process {inside:.0f} ms; TensorFlow imported: {'YES' if tf_loaded else 'no'}",
    )


def editor(layers: int = 200, runs: int = 5) -> None:
    os.environ["CNNSTUDIO_RECOVERY_DIR"] = tempfile.mkdtemp()
    from PySide6.QtCore import QPointF, QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from cnnstudio.ui.app import create_application

    app = create_application()
    from cnnstudio.ui.editor.commands import MoveCommand, SetParamCommand
    from cnnstudio.ui.main_window import MainWindow

    loads = []
    for _ in range(runs):
        project = chain_project(layers)
        begin = time.perf_counter()
        window = MainWindow(project)
        window.show()
        app.processEvents()
        loads.append((time.perf_counter() - begin) * 1000)
        if _ < runs - 1:
            window.document.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()
    measure(f"open a {layers}-layer network (window + layout + draw)", loads)

    document = window.document
    edits = []
    for value in range(17, 17 + 4 * runs):
        begin = time.perf_counter()
        document.push(SetParamCommand(document.network, "layer0", "filters", value))
        app.processEvents()  # the canvas, table and inspector repaint
        edits.append((time.perf_counter() - begin) * 1000)
    measure("edit the first layer: re-analyse all + redraw", edits)

    window.editor.select(["layer0"])
    form_edits = []
    for value in range(40, 40 + 4 * runs):
        begin = time.perf_counter()
        window.inspector.form.editor("filters").spin.setValue(value)
        app.processEvents()
        form_edits.append((time.perf_counter() - begin) * 1000)
    measure("same, typed into the inspector", form_edits)

    analysis_only = []
    from cnnstudio.core.analysis import Analyzer

    analyzer = Analyzer()
    analyzer.analyze(document.network)
    for value in range(60, 60 + 4 * runs):
        document.network.set_param("layer0", "filters", value)
        begin = time.perf_counter()
        analyzer.analyze(document.network)
        analysis_only.append((time.perf_counter() - begin) * 1000)
    measure("  of which core analysis alone", analysis_only)

    moves = []
    items = list(window.editor.scene.nodes.values())[:20]
    for _step in range(runs * 4):
        begin = time.perf_counter()
        for item in items:
            item.setPos(item.pos() + QPointF(20, 0))
        window.editor.view.viewport().repaint()
        moves.append((time.perf_counter() - begin) * 1000)
    measure("drag 20 layers one step (move + repaint)", moves)

    layouts = []
    network = document.network
    for _ in range(runs):
        pile = {n: (network.node(n).position, (0.0, 0.0)) for n in network.nodes}
        document.push(MoveCommand(network, pile, "pile"))
        begin = time.perf_counter()
        window.editor.auto_layout()
        app.processEvents()
        layouts.append((time.perf_counter() - begin) * 1000)
    measure(f"auto-layout {layers} layers", layouts)

    zooms = []
    for _ in range(runs * 2):
        begin = time.perf_counter()
        window.editor.zoom_to_fit()
        window.editor.view.viewport().repaint()
        zooms.append((time.perf_counter() - begin) * 1000)
    measure(f"zoom to fit + repaint all {layers} layers", zooms)
    document.undo_stack.setClean()
    window.close()
    QApplication.processEvents()


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}, {sys.platform}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}")
    startup()
    editor()
