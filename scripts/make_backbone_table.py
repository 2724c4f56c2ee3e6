"""Write cnnstudio/core/catalog/backbone_table.json: the facts core needs about each pretrained backbone.

Run:  python scripts/make_backbone_table.py   (builds every variant with Keras, weights=None; a few minutes)

For each keras.applications family the catalog offers, and each setting that changes its size
(alpha, minimalistic): parameters without the classifier (trainable and not), output channels,
the classifier's parameters as a function of the number of classes, the chain of strided
layers that decides the output size (so core computes it for any input size), the receptive
field, the minimum and default input sizes and the preprocessing the ImageNet weights expect.
The output sizes the chain gives are checked against core's own analysis of the whole graph.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "cnnstudio" / "core" / "catalog" / "backbone_table.json"

# family -> (minimum input size, default input size, preprocessing, settings that change the size)
FAMILIES = {
    "MobileNet": (32, 224, "tf", {"alpha": [0.25, 0.5, 0.75, 1.0]}),
    "MobileNetV2": (32, 224, "tf", {"alpha": [0.35, 0.5, 0.75, 1.0, 1.3, 1.4]}),
    "MobileNetV3Small": (32, 224, "inside", {"alpha": [0.75, 1.0], "minimalistic": [False, True]}),
    "MobileNetV3Large": (32, 224, "inside", {"alpha": [0.75, 1.0], "minimalistic": [False, True]}),
    "EfficientNetB0": (32, 224, "inside", {}),
    "EfficientNetB1": (32, 240, "inside", {}),
    "EfficientNetB2": (32, 260, "inside", {}),
    "EfficientNetB3": (32, 300, "inside", {}),
    "EfficientNetV2B0": (32, 224, "inside", {}),
    "ResNet50": (32, 224, "caffe", {}),
    "ResNet50V2": (32, 224, "tf", {}),
    "DenseNet121": (32, 224, "torch", {}),
    "ConvNeXtTiny": (32, 224, "inside", {}),
    "VGG16": (32, 224, "caffe", {}),
    "Xception": (71, 299, "tf", {}),
    "InceptionV3": (75, 299, "tf", {}),
}
SPATIAL = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D"}


def counts(model) -> tuple[int, int, int]:
    """(parameters, trainable parameters, biases) as Keras counts them."""
    import numpy as np

    biases = sum(int(np.prod(w.shape)) for w in model.weights if re.search(r"(^|/)bias$", w.path))
    return model.count_params(), sum(int(np.prod(w.shape)) for w in model.trainable_weights), biases


def chain(network, analysis) -> list[list]:
    """The strided layers from the input to the output along one path: [kind, kernel, stride, dilation, padding]."""
    from cnnstudio.core.catalog import get_spec

    (node,) = network.output_nodes()
    steps = []
    while network.nodes[node].type != "Input":
        kind = network.nodes[node].type
        p = get_spec(kind).resolve(network.nodes[node].params)
        if kind in SPATIAL:
            kernel = p.get("kernel_size") or p["pool_size"]
            stride = p["strides"] or p["pool_size"]
            dilation = p.get("dilation_rate", (1, 1))
            if max(stride) > 1 or p["padding"] == "valid" and max(kernel) > 1:
                steps.append(["window", list(kernel), list(stride), list(dilation), p["padding"]])
        elif kind == "ZeroPadding2D":
            steps.append(["pad", [list(pair) for pair in p["padding"]]])
        elif kind == "Cropping2D":
            steps.append(["crop", [list(pair) for pair in p["cropping"]]])
        node = network.inputs_of(node)[0]
    return steps[::-1]


def describe(family: str, settings: dict, minimum: int, default: int) -> dict:
    import keras

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.catalog.backbones import output_size
    from cnnstudio.ml.import_graph import GraphReader

    build = getattr(keras.applications, family)
    base = build(weights=None, include_top=False, input_shape=(default, default, 3), **settings)
    total, trainable, biases = counts(base)
    reader = GraphReader()
    reader.read_model({"class_name": "Functional", "config": base.get_config()})
    network = reader.network()
    analysis = analyze(network)
    (out,) = network.output_nodes()
    info = analysis.layers[out]
    steps = chain(network, analysis)
    (image,) = network.input_nodes()
    mismatches = []
    for size in [*range(minimum, 260), default, 299, 320, 331, 384, 480, 512]:
        network.nodes[image].params["shape"] = [size, size + 1, 3]
        network.nodes[image].revision += 1
        result = analyze(network).layers[out]
        try:
            expected = (output_size(steps, 0, size), output_size(steps, 1, size + 1))
        except ValueError:
            expected = None
        if result.output_shape is None or tuple(result.output_shape[:2]) != expected:
            mismatches.append(size)
    tops, top_biases = [], []
    for classes in (1000, 10):
        keras.backend.clear_session()
        whole = build(weights=None, include_top=True, classes=classes, input_shape=(default, default, 3), **settings)
        tops.append(counts(whole)[0] - total)
        top_biases.append(counts(whole)[2] - biases)
    per_class = (tops[0] - tops[1]) // 990
    keras.backend.clear_session()
    return {
        "params": total, "trainable": trainable, "biases": biases, "channels": int(info.output_shape[-1]),
        "top_fixed": tops[1] - 10 * per_class, "top_per_class": per_class, "top_fixed_biases": top_biases[1] - 10,
        "steps": steps, # squeeze-and-excite blocks see the whole image: no receptive field
        "receptive_field": None if info.receptive_field is None else list(info.receptive_field),
        "jump": None if info.jump is None else [int(j) for j in info.jump],
        "sizes_not_matching": mismatches,
    }


def main() -> None:
    from cnnstudio.commands import quiet_tensorflow
    from cnnstudio.core.files import atomic_write_text

    quiet_tensorflow()
    table = {}
    for family, (minimum, default, preprocessing, options) in FAMILIES.items():
        variants = {}
        keys = sorted(options)
        for values in itertools.product(*(options[k] for k in keys)) if keys else [()]:
            settings = dict(zip(keys, values, strict=True))
            name = ",".join(f"{k}={v}" for k, v in settings.items())
            variants[name] = describe(family, settings, minimum, default)
            print(family, name or "-", {k: v for k, v in variants[name].items() if k != "steps"}, flush=True)
        table[family] = {"minimum": minimum, "default": default, "preprocessing": preprocessing,
                         "variants": variants}
    atomic_write_text(OUT, json.dumps(table, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
