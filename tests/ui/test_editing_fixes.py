"""Editing as in a good diagramming tool: a layer dropped on a connection makes room, Ctrl+Z works in
an Inspector field, deleting a layer joins its neighbours where the shapes allow, a square kernel is
one box, and the whole network is in view when it opens."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from cnnstudio.core.network import Network
from cnnstudio.core.project import Project
from cnnstudio.ui.editor.layout import NODE_HEIGHT, NODE_WIDTH


def _drop_on(window, type_name: str, scene_pos: QPointF) -> str:
    view = window.editor.view
    mime = window.palette_panel.tree.mimeData([window.palette_panel.layer_items()[type_name]])
    point = view.mapFromScene(scene_pos)
    view.dragMoveEvent(QDragMoveEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                      Qt.KeyboardModifier.NoModifier))
    view.dropEvent(QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))
    return window.editor.selected_ids()[0]


def _overlaps(network: Network) -> list[tuple[str, str]]:
    boxes = {n.id: QRectF(n.position[0] - NODE_WIDTH / 2, n.position[1] - NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)
             for n in network}
    ids = sorted(boxes)
    return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if boxes[a].intersects(boxes[b])]


def test_a_layer_dropped_on_a_connection_is_spliced_in_and_its_neighbours_make_room(main_window):
    network, document = main_window.document.network, main_window.document
    assert _overlaps(network) == []
    below = {n: network.node(n).position for n in ("conv2", "pool2", "output")}
    edge = main_window.editor.scene.edges[("pool1", "conv2")]
    new_id = _drop_on(main_window, "Dropout", edge.path().pointAtPercent(0.5))
    assert network.inputs_of(new_id) == ["pool1"] and network.inputs_of("conv2") == [new_id]
    assert _overlaps(network) == []
    assert all(network.node(n).position[1] > below[n][1] for n in below)  # pushed down
    pool1 = network.node("pool1").position
    assert network.node(new_id).position == (pool1[0], network.node(new_id).position[1])  # in line
    document.undo_stack.undo()  # one step: the layer, the connections and the moves
    assert new_id not in network and {n: network.node(n).position for n in below} == below


def _focus_field(window, qtbot, node_id: str, name: str):
    window.editor.select([node_id])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    editor = window.inspector.form.editor(name)
    spin = getattr(editor, "inner", editor)
    spin = spin.spin if hasattr(spin, "spin") else spin.spins[0]
    line = spin.lineEdit()
    line.setFocus()
    qtbot.waitUntil(line.hasFocus)
    return spin, line


def test_ctrl_z_in_an_inspector_field_undoes_the_whole_field_edit(main_window, qtbot):
    network, stack = main_window.document.network, main_window.document.undo_stack
    before = stack.index()
    spin, line = _focus_field(main_window, qtbot, "conv1", "filters")
    line.selectAll()
    qtbot.keyClicks(line, "12")
    assert network.node("conv1").params["filters"] == 12
    assert stack.index() == before + 1  # the typing burst is one step
    qtbot.keyClick(line, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert network.node("conv1").params["filters"] == 6 and spin.value() == 6
    assert stack.index() == before
    qtbot.keyClick(line, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert network.node("conv1").params["filters"] == 12


def test_ctrl_z_on_half_typed_text_undoes_the_typing_first(main_window, qtbot):
    network = main_window.document.network
    dropout = main_window.editor.add_layer("Dropout", QPointF(600, 0))
    spin, line = _focus_field(main_window, qtbot, dropout, "rate")
    line.selectAll()
    qtbot.keyClicks(line, "0.2e")  # "0.2" reached the network; "0.2e" is not a number yet
    assert network.node(dropout).params["rate"] == 0.2
    qtbot.keyClick(line, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dropout in network  # the field undid its own typing, not the layer added before
    assert line.text() == "0.5" and network.node(dropout).params["rate"] == 0.5  # and the two agree


def test_deleting_a_middle_layer_joins_its_neighbours_and_one_undo_restores_it(main_window):
    network = main_window.document.network
    edges = list(network.edges)
    main_window.editor.select(["conv2"])
    main_window.actions_["delete"].trigger()
    assert "conv2" not in network and ("pool1", "pool2") in network.edges
    assert main_window.document.analysis().errors == []
    main_window.document.undo_stack.undo()
    assert list(network.edges) == edges


def test_shift_delete_leaves_the_gap(main_window):
    network = main_window.document.network
    main_window.editor.select(["conv2"])
    main_window.actions_["delete_plain"].trigger()
    assert "conv2" not in network and network.outputs_of("pool1") == [] and network.inputs_of("pool2") == []


def test_neighbours_whose_shapes_do_not_fit_are_left_apart_with_the_reason(make_window):
    network = Network()
    network.add_node("Input", {"shape": [784]}, node_id="pixels", position=(0, 0))
    network.add_node("Reshape", {"target_shape": [28, 28, 1]}, node_id="image", position=(0, 136))
    network.add_node("Conv2D", {"filters": 4, "kernel_size": 3}, node_id="conv", position=(0, 272))
    network.connect("pixels", "image")
    network.connect("image", "conv")
    window = make_window(Project("reshape", network))
    said: list[str] = []
    window.editor.message.connect(lambda _severity, text: said.append(text))
    window.editor.select(["image"])
    window.actions_["delete"].trigger()
    assert "image" not in window.document.network and window.document.network.inputs_of("conv") == []
    assert said and "left unconnected" in said[-1] and "'pixels' does not fit there" in said[-1]


def test_a_square_kernel_is_one_box_and_one_undo_step(main_window):
    main_window.editor.select(["conv1"])
    kernel = main_window.inspector.form.editor("kernel_size")
    stack = main_window.document.undo_stack
    assert kernel.linked and kernel.spins[0].isVisibleTo(kernel) and not kernel.spins[1].isVisibleTo(kernel)
    before = stack.index()
    kernel.spins[0].setValue(3)
    assert main_window.document.network.node("conv1").params["kernel_size"] == 3
    assert [s.value() for s in kernel.spins] == [3, 3] and stack.index() == before + 1
    kernel.link.click()  # unlinked: one box per axis
    assert kernel.spins[1].isVisibleTo(kernel)
    kernel.spins[1].setValue(5)
    assert main_window.document.network.node("conv1").params["kernel_size"] == [3, 5]
    main_window.editor.select(["conv2"])
    assert kernel.linked  # conv2's 5x5 is square
    main_window.editor.select(["conv1"])
    assert not kernel.linked  # conv1's 3x5 is not


def test_linking_unequal_axes_makes_them_equal_in_one_step(main_window):
    main_window.editor.select(["conv1"])
    kernel = main_window.inspector.form.editor("kernel_size")
    kernel.link.click()
    kernel.spins[1].setValue(3)
    stack = main_window.document.undo_stack
    before = stack.index()
    kernel.link.click()
    assert main_window.document.network.node("conv1").params["kernel_size"] == 5
    assert stack.index() == before + 1


def test_the_whole_network_is_in_view_when_the_window_opens(main_window, qtbot):
    view = main_window.editor.view

    def all_in_view() -> bool:
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        return all(seen.contains(item.sceneBoundingRect()) for item in main_window.editor.scene.nodes.values())

    qtbot.waitUntil(all_in_view)
    assert len(main_window.editor.scene.nodes) == 9
