"""A pretrained backbone dropped on the canvas takes the project's data as it is: the layers its input
needs go before it (Resizing up to its smallest size, a frozen Conv2D repeating a grey channel), as
ordinary layers, said in the status bar; on an empty canvas it becomes a whole network for the data."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.project import Project, new_project, project_from_dict


def empty_project(dataset: str) -> Project:
    project = new_project("Backbone")
    project.dataset = {"name": dataset}
    return project


def said_by(window) -> list[str]:
    said: list[str] = []
    window.context.messages.shown.connect(lambda _severity, text: said.append(text))
    return said


def test_a_backbone_dropped_on_an_empty_mnist_project_becomes_a_network_for_its_data(make_window):
    window = make_window(empty_project("mnist-sample"))
    said = said_by(window)
    editor, network = window.editor, window.document.network
    backbone = editor.add_layer("MobileNetV2", (0.0, 0.0))
    chain = network.topological_order()
    assert [network.node(n).type for n in chain] == [
        "Input", "Resizing", "Conv2D", "MobileNetV2", "GlobalAveragePooling2D", "Dense"]
    image, resize, grey, _, _, dense = (network.node(n) for n in chain)
    assert image.params["shape"] == [28, 28, 1]
    assert (resize.params["height"], resize.params["width"]) == (32, 32)  # MobileNetV2's smallest input
    assert grey.params["kernel_initializer"] == "ones" and not grey.trainable and grey.params["filters"] == 3
    assert dense.params["units"] == 10 and dense.params["activation"] == "softmax"
    analysis = window.document.analysis()
    assert analysis.ok and not analysis.data_fit_problems
    assert analysis.layers[backbone].output_shape == (1, 1, 1280)
    assert "Resizing layer (28x28 \N{RIGHTWARDS ARROW} 32x32, its smallest)" in said[-1]
    assert "with an Input of 28x28x1, a Resizing layer" in said[-1] and "repeating grey as RGB" in said[-1]
    assert "and a head for 10 classes; all editable" in said[-1]
    assert editor.selected_ids() == [backbone]
    window.document.undo_stack.undo()
    assert len(network) == 0


def test_a_colour_project_of_the_smallest_size_needs_nothing_before_the_backbone(make_window):
    window = make_window(project_from_dict({
        "format": "cnnstudio-project", "version": 1, "name": "cifar",
        "network": {"nodes": [{"id": "image", "type": "Input", "params": {"shape": [32, 32, 3]}}], "edges": []},
        "dataset": {"name": "cifar10"}}))
    network = window.document.network
    backbone = window.editor.add_layer("EfficientNetB0", (0.0, 200.0))
    assert network.inputs_of(backbone) == ["image"]  # the Input it found, nothing in between
    assert [network.node(n).type for n in network.outputs_of(backbone)] == ["GlobalAveragePooling2D"]
    assert window.document.analysis().ok


def test_a_backbone_dropped_on_a_connection_gets_its_input_layers_in_between(main_window):
    network = main_window.document.network  # LeNet-5: a 28x28x1 Input
    said, before = said_by(main_window), len(network)
    backbone = main_window.editor.add_layer("Xception", (0.0, 100.0), edge=("input", "conv1"))
    resize = network.inputs_of(network.inputs_of(backbone)[0])[0]
    assert network.inputs_of(resize) == ["input"] and network.outputs_of(backbone) == ["conv1"]
    assert (network.node(resize).params["height"], network.node(resize).params["width"]) == (71, 71)
    assert not any(e.node == backbone for e in main_window.document.analysis().errors)
    assert "\N{RIGHTWARDS ARROW} 71x71, its smallest" in said[-1] and "a head" not in said[-1]
    main_window.document.undo_stack.undo()
    assert network.inputs_of("conv1") == ["input"] and len(network) == before


def test_an_explicit_size_below_the_minimum_stays_an_error_naming_the_minimum(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["input"])
    backbone = editor.append_layer("MobileNetV2")  # after the Input: what it needs comes first
    resize = network.inputs_of(network.inputs_of(backbone)[0])[0]
    editor.select([resize])
    editor.document.push(_set(network, resize, height=16, width=16))
    (problem,) = [e for e in main_window.document.analysis().errors if e.node == backbone]
    assert "needs an input of at least 32x32, but this one is 16x16" in problem.message
    assert "Resizing layer (height and width 32 or more)" in problem.message


def _set(network, node_id, **changes):
    from cnnstudio.ui.editor.commands import SetParamsCommand

    return SetParamsCommand(network, node_id, {**network.node(node_id).params, **changes})


@pytest.mark.slow  # a MobileNetV2 training step takes a minute to prepare on a busy 2-core machine
def test_the_network_a_dropped_backbone_makes_trains_on_grey_images_as_they_are(make_window, qtbot, tmp_path):
    """28x28 grey pictures, a MobileNetV2 dropped on the empty canvas: it trains (weights set to none:
    no download here; nothing else is edited)."""
    rng = np.random.default_rng(0)
    data = tmp_path / "grey.npz"
    np.savez(data, x_train=rng.random((16, 28, 28, 1), np.float32), y_train=np.arange(16) % 2,
             x_test=rng.random((4, 28, 28, 1), np.float32), y_test=np.arange(4) % 2)
    project = empty_project(f"npz:{data}")
    project.training.update(epochs=1, batch_size=8, validation_split=0.0)
    window = make_window(project)
    backbone = window.editor.add_layer("MobileNetV2", (0.0, 0.0))
    window.document.push(_set(window.document.network, backbone, weights=None, alpha=0.35))
    training = window.features.training
    with qtbot.waitSignal(training.runFinished, timeout=180000) as finished:
        assert training.start()
    assert (finished.args[0] / "model.keras").exists()


def test_connecting_a_layer_to_a_loose_backbone_goes_through_what_it_needs(main_window):
    editor, network = main_window.editor, main_window.document.network
    said = said_by(main_window)
    backbone = editor.add_layer("MobileNetV2", (600.0, 0.0))  # beside LeNet-5: a loose layer, as any other
    assert not network.inputs_of(backbone) and not network.outputs_of(backbone)
    assert editor.scene.connect_layers("input", backbone)
    grey = network.inputs_of(backbone)[0]
    resize = network.inputs_of(grey)[0]
    assert network.inputs_of(resize) == ["input"] and network.node(grey).trainable is False
    assert not any(e.node == backbone for e in main_window.document.analysis().errors)
    assert "fits the data with a Resizing layer" in said[-1]
    main_window.document.undo_stack.undo()
    assert not network.inputs_of(backbone) and resize not in network.nodes
