"""A new layer is one catalog entry: registered here and nowhere else, it shows in the palette, the
Inspector form, the shapes, the Keras builder, the generated code, and its roles reach the checks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import CATALOG, LayerSpec, Param
from cnnstudio.core.catalog.spec import FLOAT, Inference
from cnnstudio.core.network import Network
from cnnstudio.core.receptive import field_box
from cnnstudio.ml.builder import build_model
from cnnstudio.ml.codegen import generate_model_code
from cnnstudio.ui.datasets.fit import units_layer

# GaussianNoise is a real Keras layer the catalog does not offer (yet).
NOISE = LayerSpec(
    type="GaussianNoise",
    category="Normalization & regularization",
    doc="while training, adds random noise to every value (a regularizer)",
    params=(Param("stddev", FLOAT, "spread of the noise added", initial=0.1, minimum=0.0),),
    rule=lambda p, inputs: Inference(output_shape=tuple(inputs[0])),
    summary=lambda p: f"σ {p['stddev']:g}",
    passes_values=True,  # the data-fit check looks through it to the Dense layer before
)


@pytest.fixture
def noise_layer(monkeypatch):
    monkeypatch.setitem(CATALOG, NOISE.type, NOISE)
    return NOISE


def network_with_noise() -> Network:
    network = Network()
    previous = None
    for node_id, type_name, params in (("image", "Input", {"shape": [8, 8, 1]}),
                                       ("conv", "Conv2D", {"filters": 2, "kernel_size": 3}),
                                       ("noisy", "GaussianNoise", {"stddev": 0.2}),
                                       ("flat", "Flatten", {}),
                                       ("scores", "Dense", {"units": 3, "activation": "softmax"}),
                                       ("noisy_scores", "GaussianNoise", {"stddev": 0.05})):
        network.add_node(type_name, params, node_id=node_id)
        if previous is not None:
            network.connect(previous, node_id)
        previous = node_id
    return network


def test_a_registered_layer_is_in_the_palette_and_the_inspector(noise_layer, make_window):
    window = make_window()
    palette = window.palette_panel
    found = palette.tree.findItems("GaussianNoise", Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
    assert found and found[0].parent().text(0) == "Normalization & regularization"
    node_id = window.editor.append_layer("GaussianNoise")
    window.editor.select([node_id])
    assert window.inspector.showing == "layer" and set(window.inspector.form.rows) == {"stddev"}
    assert window.document.network.node(node_id).params == {"stddev": 0.1}  # its starting value


def test_a_registered_layer_has_shapes_is_built_is_written_as_code_and_its_roles_count(noise_layer):
    network = network_with_noise()
    analysis = analyze(network)
    assert analysis.ok and analysis.layers["noisy"].output_shape == (6, 6, 2)
    assert field_box(network, "noisy", 0, 0) == (0, 0, 3, 3)  # positions pass through it
    model = build_model(network, "noisy")
    assert type(model.get_layer("noisy")).__name__ == "GaussianNoise" and model.get_layer("noisy").stddev == 0.2
    code = generate_model_code(network, "noisy", analysis=analysis)
    assert "layers.GaussianNoise(stddev=0.2" in code
    assert units_layer(network, "noisy_scores") == "scores"
