"""A 200-layer network loads, lays out, and re-analyses after a parameter edit.

(Timings are measured by benchmarks/editor_speed.py, not asserted here.)
"""

from __future__ import annotations

from PySide6.QtCore import Qt

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


def test_ctrl_f_finds_a_layer_and_the_canvas_jumps_to_it(make_window, qtbot):
    window = make_window(chain_project(200))
    editor, view = window.editor, window.editor.view
    window.actions_["find_layer"].trigger()
    search = editor.search
    assert search.isVisible() and window.tabs.currentWidget() is editor
    assert search.matches("layer15")[:2] == ["layer15", "layer150"]
    assert "pool" in search.matches("GlobalAverage")  # by type too
    qtbot.keyClicks(search, "layer150")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    assert editor.selected_ids() == ["layer150"] and not search.isVisible()
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    assert seen.contains(editor.scene.nodes["layer150"].sceneBoundingRect())
    assert view.zoom() >= 0.75  # large enough to read its settings


def test_escape_closes_the_search_without_changing_the_selection(make_window, qtbot):
    window = make_window(chain_project(50))
    window.editor.select(["layer3"])
    window.editor.find_layer()
    qtbot.keyClicks(window.editor.search, "layer4")
    qtbot.keyClick(window.editor.search, Qt.Key.Key_Escape)
    assert not window.editor.search.isVisible() and window.editor.selected_ids() == ["layer3"]


def test_an_edit_redraws_only_the_layers_it_changed(make_window):
    window = make_window(chain_project(200))
    scene = window.editor.scene
    touched: list[str] = []
    for item in scene.nodes.values():
        original = item.set_info
        item.set_info = lambda info, original=original, item=item: (touched.append(item.node_id), original(info))
    window.document.push(SetParamCommand(window.document.network, "layer150", "filters", 24))
    assert touched and len(touched) < 60  # the edited layer and those its shape reaches, not all 200
    assert "layer150" in touched and "layer0" not in touched
