"""A 200-layer network loads, lays out, and re-analyses after a parameter edit.

(Timings are measured by benchmarks/editor_speed.py, not asserted here.)
"""

from __future__ import annotations

from cnnstudio.ui.editor.commands import SetParamCommand

from .helpers import chain_project


def test_a_200_layer_network_loads_with_an_item_per_layer_and_connection(make_window):
    window = make_window(chain_project(200))
    scene = window.editor.scene
    assert len(scene.nodes) == 200
    assert len(scene.edges) == 199
    assert window.summary_model.rowCount() == 200
    assert window.document.analysis().ok
    assert window.editor.minimap.isVisible()  # too big to see at once: the overview appears


def test_a_parameter_edit_reanalyses_every_layer_downstream(make_window):
    window = make_window(chain_project(200))
    network = window.document.network
    window.editor.select(["layer0"])
    window.inspector.form.editor("filters").spin.setValue(24)
    analysis = window.document.analysis()
    assert analysis.layers["layer0"].output_shape == (32, 32, 24)
    assert analysis.layers["layer1"].params == 4 * 24  # the BatchNormalization after it grew
    assert window.editor.scene.nodes["layer1"].params_text == "96 params"
    first_conv_after = next(n for n in network.topological_order()[3:] if network.node(n).type == "Conv2D")
    assert analysis.layers[first_conv_after].weights == 3 * 3 * 24 * 16
    window.document.undo_stack.undo()
    assert window.document.analysis().layers["layer1"].params == 4 * 16


def test_edits_far_down_a_long_network_keep_the_rest_untouched(make_window):
    window = make_window(chain_project(200))
    document = window.document
    before = {k: v.output_shape for k, v in document.analysis().layers.items()}
    document.push(SetParamCommand(document.network, "drop", "rate", 0.5))
    after = {k: v.output_shape for k, v in document.analysis().layers.items()}
    assert before == after
