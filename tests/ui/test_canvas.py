"""The canvas: connecting by dragging, refusals with reasons, moving, selecting, deleting,
clipboard, auto-layout, zoom, tensor shapes, error markers."""

from __future__ import annotations

from itertools import combinations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from cnnstudio.core.templates import load_template
from cnnstudio.ui.editor.commands import MoveCommand, SetParamCommand

from .helpers import click, drag, port_pos


def _show(window, *node_ids):
    """Scroll so the given layers are on screen (gestures need them visible)."""
    scene = window.editor.scene
    rect = scene.nodes[node_ids[0]].sceneBoundingRect()
    for node_id in node_ids[1:]:
        rect = rect.united(scene.nodes[node_id].sceneBoundingRect())
    window.editor.view.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)


def _loose_layer(window, type_name="Dense", offset=(450.0, 0.0), near="fc1"):
    position = window.editor.scene.nodes[near].pos() + QPointF(*offset)
    return window.editor.add_layer(type_name, position)


def test_dragging_from_an_output_port_to_a_layer_connects_them(main_window):
    new_id = _loose_layer(main_window)
    _show(main_window, "fc1", new_id)
    drag(main_window.editor.view, port_pos(main_window, "fc1"), main_window.editor.scene.nodes[new_id].pos())
    network = main_window.document.network
    assert network.inputs_of(new_id) == ["fc1"]
    assert ("fc1", new_id) in main_window.editor.scene.edges
    assert main_window.document.analysis().layers[new_id].output_shape == (128,)
    main_window.document.undo_stack.undo()
    assert network.inputs_of(new_id) == []


def test_dragging_from_an_input_port_backwards_connects_too(main_window):
    new_id = _loose_layer(main_window)
    _show(main_window, "fc2", new_id)
    drag(
        main_window.editor.view,
        port_pos(main_window, new_id, output=False),
        main_window.editor.scene.nodes["fc2"].pos(),
    )
    assert main_window.document.network.inputs_of(new_id) == ["fc2"]


def test_a_connection_that_would_make_a_loop_is_refused_with_the_reason(main_window):
    _show(main_window, "conv1", "pool2")
    refused = []
    main_window.editor.scene.connectionRefused.connect(refused.append)
    edges_before = main_window.document.network.edges
    drag(
        main_window.editor.view, port_pos(main_window, "pool2"), main_window.editor.scene.nodes["conv1"].pos()
    )
    assert main_window.document.network.edges == edges_before
    assert main_window.document.undo_stack.count() == 0
    assert len(refused) == 1 and "loop" in refused[0]
    assert any("loop" in text for text in main_window.messages.texts())


def test_a_second_input_into_a_single_input_layer_is_refused_with_the_reason(main_window):
    new_id = _loose_layer(main_window, "Dense")
    assert not main_window.editor.scene.connect_layers(new_id, "fc2")
    text = main_window.messages.texts()[-1]
    assert "takes one input" in text and "fc1" in text and "Add or Concatenate" in text
    assert not main_window.editor.scene.connect_layers("conv1", "input")
    assert "Input layer" in main_window.messages.texts()[-1]
    assert not main_window.editor.scene.connect_layers("conv1", "conv1")


def test_merges_and_skip_connections_are_supported(main_window):
    editor, network = main_window.editor, main_window.document.network
    add = editor.add_layer("Add", editor.scene.nodes["fc2"].pos() + QPointF(300, 0))
    skip = editor.add_layer("Dense", editor.scene.nodes["fc1"].pos() + QPointF(300, 0))
    assert editor.scene.connect_layers("fc1", skip)
    main_window.document.push(SetParamCommand(network, skip, "units", 84))
    assert editor.scene.connect_layers("fc2", add)
    assert editor.scene.connect_layers(skip, add)
    assert network.inputs_of(add) == ["fc2", skip]
    analysis = main_window.document.analysis()
    assert analysis.layers[add].output_shape == (84,)
    # the only complaint: as a second output it does not match the data's 10 classes
    assert all("classes" in d.message for d in analysis.layers[add].diagnostics)
    item = editor.scene.nodes[add]
    assert [e.src_id for e in item.edges_in] == ["fc2", skip]
    ends = [item.input_anchor(e).x() for e in item.edges_in]
    assert ends[0] < ends[1]  # the merge's inputs arrive side by side, in order


def test_resnet_template_with_skip_connections_opens_without_errors(make_window):
    window = make_window(load_template("resnet-mini"))
    analysis = window.document.analysis()
    assert analysis.ok
    assert len(window.editor.scene.edges) == len(window.document.network.edges)
    assert window.document.network.inputs_of("block2_add") == ["block2_bn2", "block2_shortcut_bn"]


def test_selecting_a_connection_and_deleting_it_disconnects_and_undo_reconnects(main_window):
    scene, network = main_window.editor.scene, main_window.document.network
    scene.select_nodes([], [("pool1", "conv2")])
    main_window.actions_["delete"].trigger()
    assert ("pool1", "conv2") not in network.edges
    assert ("pool1", "conv2") not in scene.edges
    assert "has no input" in str(main_window.document.analysis().layers["conv2"].diagnostics[0])
    main_window.document.undo_stack.undo()
    assert network.edges.index(("pool1", "conv2")) == 2
    assert ("pool1", "conv2") in scene.edges


def test_deleting_layers_and_undo_restores_them_with_their_connections(main_window):
    network = main_window.document.network
    before = network.to_dict()
    main_window.editor.select(["pool1", "fc1"])
    main_window.actions_["delete"].trigger()
    assert "pool1" not in network and "fc1" not in network
    assert "pool1" not in main_window.editor.scene.nodes
    main_window.document.undo_stack.undo()
    assert network.to_dict() == before
    assert set(main_window.editor.scene.nodes) == set(network.nodes)
    assert set(main_window.editor.scene.edges) == set(network.edges)
    main_window.document.undo_stack.redo()
    assert "pool1" not in network


def test_moving_layers_by_dragging_is_one_undo_step_and_snaps_to_the_grid(main_window):
    network, scene = main_window.document.network, main_window.editor.scene
    _show(main_window, "conv2", "pool2")
    start = network.node("conv2").position
    grab = scene.nodes["conv2"].pos() + QPointF(0, -10)
    drag(main_window.editor.view, grab, grab + QPointF(187, 33), steps=10)
    moved = network.node("conv2").position
    assert moved != start
    assert moved[0] % 20 == 0 and moved[1] % 20 == 0
    assert main_window.document.undo_stack.count() == 1
    assert (
        scene.edges[("pool1", "conv2")].path().pointAtPercent(1.0).x()
        == scene.nodes["conv2"].input_anchor().x()
    )
    main_window.document.undo_stack.undo()
    assert network.node("conv2").position == start
    assert (scene.nodes["conv2"].pos().x(), scene.nodes["conv2"].pos().y()) == start


def test_rubber_band_selects_several_layers(main_window):
    scene = main_window.editor.scene
    _show(main_window, "conv1", "pool2")
    top_left = scene.nodes["conv1"].sceneBoundingRect().topLeft() + QPointF(-120, -20)
    bottom_right = scene.nodes["pool1"].sceneBoundingRect().bottomRight() + QPointF(40, 10)
    drag(main_window.editor.view, top_left, bottom_right)
    assert set(main_window.editor.selected_ids()) == {"conv1", "pool1"}
    assert main_window.inspector.showing == "several"
    click(main_window.editor.view, bottom_right + QPointF(300, 300))
    assert main_window.editor.selected_ids() == []
    assert main_window.inspector.showing == "network"


def test_select_all_selects_every_layer(main_window):
    main_window.actions_["select_all"].trigger()
    assert main_window.editor.selected_ids() == list(main_window.document.network.nodes)


def test_copy_paste_gives_fresh_ids_keeps_inner_connections_and_is_undoable(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["conv1", "pool1"])
    main_window.actions_["copy"].trigger()
    assert main_window.actions_["paste"].isEnabled()
    main_window.actions_["paste"].trigger()
    pasted = editor.selected_ids()
    assert pasted == ["conv1_1", "pool1_1"]
    assert network.inputs_of("pool1_1") == ["conv1_1"]
    assert network.node("conv1_1").params == network.node("conv1").params
    offset = QPointF(*network.node("conv1_1").position) - QPointF(*network.node("conv1").position)
    assert offset.x() > 0 and offset.y() > 0
    assert main_window.document.undo_stack.count() == 1
    main_window.document.undo_stack.undo()
    assert "conv1_1" not in network and "conv1_1" not in editor.scene.nodes


def test_cut_removes_and_paste_brings_back(main_window):
    editor, network = main_window.editor, main_window.document.network
    editor.select(["fc2"])
    main_window.actions_["cut"].trigger()
    assert "fc2" not in network
    main_window.actions_["paste"].trigger()
    assert "fc2" in network  # the id was free again, so it is kept


def test_duplicate_copies_the_selection_beside_itself(main_window):
    editor, network = main_window.editor, main_window.document.network
    QApplication.clipboard().clear()
    editor.select(["conv2"])
    main_window.actions_["duplicate"].trigger()
    assert editor.selected_ids() == ["conv2_1"]
    assert network.node("conv2_1").type == "Conv2D"
    assert not editor.can_paste()  # duplicate leaves the clipboard alone


def _overlaps(scene) -> list[tuple[str, str]]:
    rects = {n: item.mapRectToScene(item.body_rect()) for n, item in scene.nodes.items()}
    return [(a, b) for a, b in combinations(rects, 2) if rects[a].intersects(rects[b])]


def test_auto_layout_leaves_no_overlaps_and_is_one_undo_step(main_window):
    network = main_window.document.network
    pile = {n: (network.node(n).position, (0.0, 0.0)) for n in network.nodes}
    main_window.document.push(MoveCommand(network, pile, "pile up"))
    assert _overlaps(main_window.editor.scene)
    main_window.actions_["auto_layout"].trigger()
    assert _overlaps(main_window.editor.scene) == []
    order = [network.node(n).position[1] for n in network.topological_order()]
    assert order == sorted(order)  # top to bottom, inputs first
    assert main_window.document.undo_stack.undoText() == "Auto-Layout"
    main_window.document.undo_stack.undo()
    assert all(network.node(n).position == (0.0, 0.0) for n in network.nodes)


def test_templates_open_laid_out_without_overlaps(make_window):
    for name in ("resnet-mini", "vgg-mini", "cifar10-convnet"):
        window = make_window(load_template(name))
        assert _overlaps(window.editor.scene) == [], name
        window.close()


def test_zoom_in_out_and_fit(main_window):
    view = main_window.editor.view
    zoom = view.zoom()
    main_window.actions_["zoom_in"].trigger()
    assert view.zoom() > zoom
    main_window.actions_["zoom_out"].trigger()
    main_window.actions_["zoom_out"].trigger()
    assert view.zoom() < zoom
    main_window.actions_["zoom_fit"].trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(main_window.editor.scene.nodes_rect())


def test_tensor_shapes_can_be_shown_on_connections(main_window):
    edge = main_window.editor.scene.edges[("conv1", "pool1")]
    assert not edge.label.isVisible()
    main_window.actions_["show_shapes"].trigger()
    assert edge.label.isVisible() and edge.label.text == "28x28x6"
    main_window.document.push(SetParamCommand(main_window.document.network, "conv1", "filters", 10))
    assert edge.label.text == "28x28x10"


def test_an_error_is_marked_on_the_layer_that_causes_it_with_the_message_on_hover(main_window):
    network, scene = main_window.document.network, main_window.editor.scene
    main_window.document.push(SetParamCommand(network, "conv2", "kernel_size", 20))
    item = scene.nodes["conv2"]
    assert item.severity == "error"
    assert "does not fit" in item.toolTip()
    assert scene.nodes["pool1"].severity is None
    assert any("does not fit" in text for text in main_window.messages.texts())
    main_window.document.undo_stack.undo()
    assert item.severity is None


def test_layer_boxes_show_type_key_parameters_shape_and_count(main_window):
    item = main_window.editor.scene.nodes["conv1"]
    assert item.type_name == "Conv2D"
    assert item.detail == "6 @ 5x5, same, relu"
    assert item.shape_text == "28x28x6"
    assert item.params_text == "156 params"


def test_arrow_keys_nudge_the_selection_as_one_step(main_window, qtbot):
    network, view = main_window.document.network, main_window.editor.view
    start = network.node("fc1").position
    main_window.editor.select(["fc1"])
    view.setFocus()
    for _ in range(3):
        qtbot.keyClick(view.viewport(), Qt.Key.Key_Right)
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert network.node("fc1").position == (start[0] + 60, start[1] + 100)
    assert main_window.document.undo_stack.count() == 1
    main_window.document.undo_stack.undo()
    assert network.node("fc1").position == start
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Escape)
    assert main_window.editor.selected_ids() == []


def test_double_clicking_a_layer_puts_the_keyboard_in_its_first_parameter(main_window, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    view = main_window.editor.view
    main_window.docks["dataset"].raise_()  # the Inspector behind another panel: it comes to the front
    main_window.activateWindow()  # keyboard focus needs the active window (a real display has one)
    qtbot.waitUntil(main_window.isActiveWindow, timeout=2000)
    _show(main_window, "fc1")
    local = QPointF(view.mapFromScene(main_window.editor.scene.nodes["fc1"].pos()))
    event = QMouseEvent(
        QEvent.Type.MouseButtonDblClick,
        local,
        QPointF(view.viewport().mapToGlobal(local.toPoint())),
        Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)
    assert main_window.editor.selected_ids() == ["fc1"]
    spin = main_window.inspector.form.editor("units").spin
    qtbot.waitUntil(lambda: spin.hasFocus() or QApplication.focusWidget() is spin.lineEdit(), timeout=1000)


def test_copied_layers_survive_quitting_as_plain_text_that_still_pastes(main_window):
    from cnnstudio.ui.editor.clipboard import LAYERS_MIME, hand_over_clipboard

    main_window.editor.select(["conv1", "pool1"])
    assert main_window.editor.copy_selection()
    hand_over_clipboard()  # what the program does when it quits
    mime = QApplication.clipboard().mimeData()
    assert not mime.hasFormat(LAYERS_MIME) and mime.hasText()
    pasted = main_window.editor.paste()
    assert [main_window.document.network.node(p).type for p in pasted] == ["Conv2D", "MaxPooling2D"]
