"""Writes the bundled templates (resources/templates/*.cnnproj) from the definitions below.

Run: .venv/bin/python scripts/make_templates.py   (the files are committed; rerun after edits)
"""

from __future__ import annotations

from pathlib import Path

from cnnstudio.core.network import Network
from cnnstudio.core.project import DEFAULT_TRAINING, Project, save_project

OUT = Path(__file__).resolve().parent.parent / "resources" / "templates"


def chain(net: Network, start: str, layers: list[tuple[str, str, dict]]) -> str:
    """Append layers one after another from ``start``; returns the last id."""
    previous = start
    for node_id, type_name, params in layers:
        net.add_node(type_name, params, node_id=node_id)
        net.connect(previous, node_id)
        previous = node_id
    return previous


def sequential(shape: list[int], layers: list[tuple[str, str, dict]]) -> Network:
    net = Network()
    net.add_node("Input", {"shape": shape}, node_id="input")
    chain(net, "input", layers)
    return net


def relu_conv(node_id: str, filters: int, kernel: int, **extra) -> tuple[str, str, dict]:
    return (node_id, "Conv2D", {"filters": filters, "kernel_size": kernel, **extra, "activation": "relu"})


def softmax_out(units: int = 10) -> tuple[str, str, dict]:
    return ("output", "Dense", {"units": units, "activation": "softmax"})


def resnet_mini() -> Network:
    net = Network()
    net.add_node("Input", {"shape": [28, 28, 1]}, node_id="input")
    stem = chain(net, "input", [
        ("stem_conv", "Conv2D", {"filters": 16, "kernel_size": 3, "padding": "same", "use_bias": False}),
        ("stem_bn", "BatchNormalization", {}),
        ("stem_relu", "ReLU", {}),
    ])

    def block(name: str, entry: str, filters: int, stride: int) -> str:
        main = chain(net, entry, [
            (f"{name}_conv1", "Conv2D", {"filters": filters, "kernel_size": 3, "strides": stride,
                                         "padding": "same", "use_bias": False}),
            (f"{name}_bn1", "BatchNormalization", {}),
            (f"{name}_relu1", "ReLU", {}),
            (f"{name}_conv2", "Conv2D", {"filters": filters, "kernel_size": 3, "padding": "same",
                                         "use_bias": False}),
            (f"{name}_bn2", "BatchNormalization", {}),
        ])
        shortcut = entry
        if stride != 1:
            shortcut = chain(net, entry, [
                (f"{name}_shortcut", "Conv2D", {"filters": filters, "kernel_size": 1, "strides": stride,
                                                "use_bias": False}),
                (f"{name}_shortcut_bn", "BatchNormalization", {}),
            ])
        net.add_node("Add", {}, node_id=f"{name}_add")
        net.connect(main, f"{name}_add")
        net.connect(shortcut, f"{name}_add")
        return chain(net, f"{name}_add", [(f"{name}_out", "ReLU", {})])

    x = block("block1", stem, 16, 1)
    x = block("block2", x, 32, 2)
    x = block("block3", x, 64, 2)
    chain(net, x, [("pool", "GlobalAveragePooling2D", {}), softmax_out()])
    return net


def unet_mini(classes: int = 4, width: int = 8, levels: int = 3) -> Network:
    """A small U-Net: convolutions and pooling down, transposed convolutions up, each level's features
    joined back in (skip connections), and a 1x1 convolution giving each pixel its class scores."""
    net = Network()
    net.add_node("Input", {"shape": [64, 64, 3]}, node_id="input")

    def convs(name: str, entry: str, filters: int) -> str:
        return chain(net, entry, [relu_conv(f"{name}_conv1", filters, 3, padding="same"),
                                  relu_conv(f"{name}_conv2", filters, 3, padding="same")])

    x, skips = "input", []
    for level in range(1, levels + 1):
        x = convs(f"down{level}", x, width * 2 ** (level - 1))
        skips.append(x)
        x = chain(net, x, [(f"pool{level}", "MaxPooling2D", {"pool_size": 2})])
    x = convs("middle", x, width * 2**levels)
    for level in range(levels, 0, -1):
        x = chain(net, x, [(f"up{level}", "Conv2DTranspose", {"filters": width * 2 ** (level - 1), "kernel_size": 2,
                                                               "strides": 2})])
        net.add_node("Concatenate", {}, node_id=f"skip{level}")
        net.connect(x, f"skip{level}")
        net.connect(skips[level - 1], f"skip{level}")
        x = convs(f"up{level}", f"skip{level}", width * 2 ** (level - 1))
    chain(net, x, [("output", "Conv2D", {"filters": classes, "kernel_size": 1, "activation": "softmax"})])
    return net


TEMPLATES: dict[str, tuple[str, str, Network, dict]] = {
    "lenet5": (
        "LeNet-5",
        "LeCun's classic digit recogniser: two convolution + pooling stages, then three dense layers.",
        sequential([28, 28, 1], [
            relu_conv("conv1", 6, 5, padding="same"),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            relu_conv("conv2", 16, 5),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("fc1", "Dense", {"units": 120, "activation": "relu"}),
            ("fc2", "Dense", {"units": 84, "activation": "relu"}),
            softmax_out(),
        ]),
        {"name": "mnist-sample", "permute_pixels": None},
    ),
    "mnist-cnn": (
        "MNIST CNN",
        "The TensorFlow tutorial network: 32 and 64 filters of 5x5, max pooling, Dense 1024 with dropout.",
        sequential([28, 28, 1], [
            relu_conv("conv1", 32, 5, padding="same"),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            relu_conv("conv2", 64, 5, padding="same"),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 1024, "activation": "relu"}),
            ("dropout", "Dropout", {"rate": 0.4}),
            softmax_out(),
        ]),
        {"name": "mnist-sample", "permute_pixels": None},
    ),
    "keras-mnist-convnet": (
        "Keras MNIST convnet",
        "The Keras example 'Simple MNIST convnet': two 3x3 convolutions with pooling, dropout, softmax.",
        sequential([28, 28, 1], [
            relu_conv("conv1", 32, 3),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            relu_conv("conv2", 64, 3),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("dropout", "Dropout", {"rate": 0.5}),
            softmax_out(),
        ]),
        {"name": "mnist-sample", "permute_pixels": None},
    ),
    "mlp": (
        "Multi-layer perceptron",
        "No convolutions: 784 pixels -> 512 -> 512 -> 10. Compare its parameter count with a CNN's.",
        sequential([28, 28, 1], [
            ("flatten", "Flatten", {}),
            ("dense1", "Dense", {"units": 512, "activation": "relu"}),
            ("dense2", "Dense", {"units": 512, "activation": "relu"}),
            softmax_out(),
        ]),
        {"name": "mnist-sample", "permute_pixels": None},
    ),
    "edge-detector": (
        "Edge detector",
        "One 5x5 filter and global max pooling tell vertical from horizontal stripes: watch it learn an edge filter.",
        sequential([28, 28, 1], [
            ("edge_filter", "Conv2D", {"filters": 1, "kernel_size": 5}),
            ("strongest", "GlobalMaxPooling2D", {}),
            softmax_out(2),
        ]),
        {"name": "stripes", "permute_pixels": None},
    ),
    "cifar10-convnet": (
        "CIFAR-10 convnet",
        "The classic Keras CIFAR-10 network: two blocks of two 3x3 convolutions, pooling and dropout.",
        sequential([32, 32, 3], [
            relu_conv("conv1", 32, 3, padding="same"),
            relu_conv("conv2", 32, 3),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            ("dropout1", "Dropout", {"rate": 0.25}),
            relu_conv("conv3", 64, 3, padding="same"),
            relu_conv("conv4", 64, 3),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            ("dropout2", "Dropout", {"rate": 0.25}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 512, "activation": "relu"}),
            ("dropout3", "Dropout", {"rate": 0.5}),
            softmax_out(),
        ]),
        {"name": "cifar10", "permute_pixels": None},
    ),
    "resnet-mini": (
        "Mini ResNet",
        "Three residual blocks: each adds its input back to its output through a skip connection.",
        resnet_mini(),
        {"name": "mnist-sample", "permute_pixels": None},
    ),
    "vgg-mini": (
        "Mini VGG",
        "VGG's recipe at small scale: stacks of 3x3 convolutions doubling in width after each pooling.",
        sequential([32, 32, 3], [
            relu_conv("conv1_1", 32, 3, padding="same"),
            relu_conv("conv1_2", 32, 3, padding="same"),
            ("pool1", "MaxPooling2D", {"pool_size": 2}),
            relu_conv("conv2_1", 64, 3, padding="same"),
            relu_conv("conv2_2", 64, 3, padding="same"),
            ("pool2", "MaxPooling2D", {"pool_size": 2}),
            relu_conv("conv3_1", 128, 3, padding="same"),
            relu_conv("conv3_2", 128, 3, padding="same"),
            ("pool3", "MaxPooling2D", {"pool_size": 2}),
            ("flatten", "Flatten", {}),
            ("dense", "Dense", {"units": 256, "activation": "relu"}),
            ("dropout", "Dropout", {"rate": 0.5}),
            softmax_out(),
        ]),
        {"name": "cifar10", "permute_pixels": None},
    ),
    "unet-mini": (
        "Mini U-Net",
        "Segmentation: down three levels, back up with skip connections, and a class for every pixel of the "
        "shapes pictures (background, circle, square, triangle).",
        unet_mini(),
        {"name": "shapes", "permute_pixels": None},
    ),
}
# Settings that differ from the defaults (measured: unet-mini reaches a test mean IoU above 0.9 in 8 epochs).
TRAINING = {
    "edge-detector": {"learning_rate": 0.01, "epochs": 10},
    "unet-mini": {"learning_rate": 0.003, "batch_size": 16, "epochs": 8, "schedule": "cosine"},
}


def main() -> None:
    try:
        from cnnstudio.core.layout import auto_layout
    except ImportError:  # layout not available: stack the layers vertically
        auto_layout = None
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (title, description, network, dataset) in TEMPLATES.items():
        if auto_layout is not None:
            for node_id, position in auto_layout(network).items():
                network.move_node(node_id, position)
        training = {**DEFAULT_TRAINING, **TRAINING.get(name, {})}
        project = Project(title, network, dataset, training, {"description": description})
        save_project(project, OUT / f"{name}.cnnproj")
        print("wrote", OUT / f"{name}.cnnproj")


if __name__ == "__main__":
    main()
