"""How fast the Keras bridge is: auto-layout, code generation (both run on the GUI thread), import.

Run:  python benchmarks/keras_bridge.py
Prints one line per measurement (median of several runs, in milliseconds). Goals: auto-layout
of 200 layers well under 100 ms, model code of 200 layers under 50 ms (the Code panel
regenerates it after every edit); File > Import of NASNetMobile (771 layers) and DenseNet121
(429) drawable in well under 3 s: the preview (description read, refusals checked, graph,
analysis, layout; no TensorFlow) is what the window draws first, the checked import with the
weights follows in the background.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def measure(label: str, samples: list[float]) -> None:
    print(f"{label:<52} median {statistics.median(samples):8.1f} ms   (min {min(samples):.1f}, "
          f"max {max(samples):.1f}, n={len(samples)})")


def timed(function, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        function()
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def main() -> None:
    from editor_speed import chain_project

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.layout import auto_layout
    from cnnstudio.core.templates import load_template
    from cnnstudio.ml.codegen import generate_model_code, generate_script

    chain = chain_project(200)
    resnet = load_template("resnet-mini")
    measure("auto-layout, 200-layer chain", timed(lambda: auto_layout(chain.network), 20))
    measure("auto-layout, resnet-mini (31 layers, 3 skips)", timed(lambda: auto_layout(resnet.network), 20))
    analysis = analyze(chain.network)
    measure("model code, 200 layers (analysis given)",
            timed(lambda: generate_model_code(chain.network, chain.name, analysis=analysis), 20))
    measure("training script, 200 layers",
            timed(lambda: generate_script(chain.network, name=chain.name, dataset={"name": "cifar10"},
                                          training={}), 20))

    import keras

    from cnnstudio.ml.builder import build_model
    from cnnstudio.ml.importer import import_model

    with tempfile.TemporaryDirectory() as folder:
        large_graphs(Path(folder))
        for name in ("lenet5", "resnet-mini"):
            project = load_template(name)
            path = Path(folder) / f"{name}.keras"
            build_model(project.network, project.name).save(path)
            import_model(path)  # the first import pays for TensorFlow's warm-up
            measure(f"import {name}.keras (load, convert, rebuild, verify)",
                    timed(lambda p=path: import_model(p), 5))
            keras.backend.clear_session()


def large_graphs(folder: Path) -> None:
    """Import of the largest keras.applications graphs, phase by phase."""
    import keras

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.layout import auto_layout
    from cnnstudio.ml.import_check import read_model_config, refuse_unsupported
    from cnnstudio.ml.import_graph import GraphReader
    from cnnstudio.ml.importer import import_model, preview_model

    for name in ("NASNetMobile", "DenseNet121"):
        path = folder / f"{name}.keras"
        getattr(keras.applications, name)(weights=None).save(path)
        keras.backend.clear_session()
        config = read_model_config(path)
        reader = GraphReader()
        reader.read_model(config)
        network = reader.network()
        layers = len(network)
        measure(f"{name} ({layers} layers): read the description",
                timed(lambda p=path: refuse_unsupported(read_model_config(p), p.name), 10))
        measure(f"{name}: description -> network", timed(lambda c=config: GraphReader().read_model(c), 10))
        measure(f"{name}: analysis", timed(lambda n=network: analyze(n), 10))
        measure(f"{name}: layout", timed(lambda n=network: auto_layout(n), 10))
        measure(f"{name}: preview, all of the above (drawn first)", timed(lambda p=path: preview_model(p), 10))
        measure(f"{name}: checked import with weights (after)", timed(lambda p=path: import_model(p), 1))
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
