"""Core speed: analysis of a 200-layer network after one edit, and `cnnstudio summary` start-up.

Run: .venv/bin/python benchmarks/core_speed.py
Goals: re-analysis after one edit under 5 ms; summary never imports TensorFlow.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from cnnstudio.core.analysis import Analyzer, analyze
from cnnstudio.core.network import Network


def deep_residual_network(layers: int = 200) -> Network:
    """Input, a stem, then residual blocks (conv, BN, ReLU, conv, BN, Add, ReLU) up to ``layers``."""
    net = Network()
    net.add_node("Input", {"shape": [64, 64, 3]}, node_id="input")
    net.add_node("Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same"}, node_id="stem")
    net.connect("input", "stem")
    previous, block = "stem", 0
    while len(net) + 9 <= layers:
        ids = []
        for kind, params in [
            ("Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same"}),
            ("BatchNormalization", {}),
            ("ReLU", {}),
            ("Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same"}),
            ("BatchNormalization", {}),
        ]:
            node = net.add_node(kind, params)
            net.connect(ids[-1] if ids else previous, node.id)
            ids.append(node.id)
        add = net.add_node("Add").id
        net.connect(ids[-1], add)
        net.connect(previous, add)
        relu = net.add_node("ReLU").id
        net.connect(add, relu)
        previous, block = relu, block + 1
    for kind, params in [("GlobalAveragePooling2D", {}), ("Dense", {"units": 10, "activation": "softmax"})]:
        node = net.add_node(kind, params)
        net.connect(previous, node.id)
        previous = node.id
    while len(net) < layers:  # pad to exactly `layers` with dropout after the head's input
        node = net.add_node("Dropout", {"rate": 0.1})
        net.connect("input", node.id)
    return net


def timed(fn, repeats: int = 50) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    net = deep_residual_network(200)
    analyzer = Analyzer()
    analyzer.analyze(net)
    first_conv = next(n.id for n in net if n.type == "Conv2D" and n.id != "stem")
    last_conv = [n.id for n in net if n.type == "Conv2D"][-1]
    toggle = iter(range(10**9))

    def edit_late_layer():
        net.set_param(last_conv, "filters", 32 + next(toggle) % 2)
        analyzer.analyze(net)

    def edit_early_layer():  # the worst case: everything downstream changes shape or count
        net.set_param(first_conv, "kernel_size", 3 + 2 * (next(toggle) % 2))
        analyzer.analyze(net)

    full_median, full_max = timed(lambda: analyze(net))
    late_median, late_max = timed(edit_late_layer)
    early_median, early_max = timed(edit_early_layer)
    print(f"network: {len(net)} layers, {len(net.edges)} connections")
    print(f"full analysis (no reuse):            median {full_median:6.2f} ms   max {full_max:6.2f} ms")
    print(f"after one edit near the output:      median {late_median:6.2f} ms   max {late_max:6.2f} ms")
    print(f"after one edit near the input:       median {early_median:6.2f} ms   max {early_max:6.2f} ms")
    print("goal: under 5 ms after one edit")

    code = ("import sys, time; t=time.process_time(); from cnnstudio.cli import main; main(['summary','lenet5']);"
            "print('TF_IMPORTED' if 'tensorflow' in sys.modules else 'TF_NOT_IMPORTED', file=sys.stderr)")
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(time.perf_counter() - start)
    print(f"`cnnstudio summary lenet5` process wall time: median {statistics.median(runs) * 1000:.0f} ms "
          f"({done.stderr.strip().splitlines()[-1]})")


if __name__ == "__main__":
    main()
