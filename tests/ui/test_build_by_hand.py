"""The lecture's MNIST CNN built from an empty canvas with gestures alone: drop, wire, set, save, undo."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragMoveEvent, QDropEvent

from cnnstudio.core.catalog import dims_text
from cnnstudio.core.project import load_project
from cnnstudio.ui import dialogs

from .helpers import drag, port_pos

LECTURE_CNN = [  # type, parameters set in the inspector, shape the canvas must show
    ("Input", {}, "28x28x1"),
    ("Conv2D", {"filters": 32, "kernel_size": [5, 5], "padding": "same", "activation": "relu"}, "28x28x32"),
    ("MaxPooling2D", {}, "14x14x32"),
    ("Conv2D", {"filters": 64, "kernel_size": [5, 5], "padding": "same", "activation": "relu"}, "14x14x64"),
    ("MaxPooling2D", {}, "7x7x64"),
    ("Flatten", {}, "3136"),
    ("Dense", {"units": 1024, "activation": "relu"}, "1024"),
    ("Dropout", {"rate": 0.4}, "1024"),
    ("Dense", {"units": 10, "activation": "softmax"}, "10"),
]


def _drop(window, type_name: str, scene_pos: QPointF) -> str:
    view = window.editor.view
    mime = window.palette_panel.tree.mimeData([window.palette_panel.layer_items()[type_name]])
    point = view.mapFromScene(scene_pos)
    view.dragMoveEvent(QDragMoveEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                      Qt.KeyboardModifier.NoModifier))
    view.dropEvent(QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))
    return window.editor.selected_ids()[0]


def _set_in_inspector(window, node_id: str, values: dict) -> None:
    window.editor.select([node_id])
    form = window.inspector.form
    for name, value in values.items():
        editor = form.editor(name)
        if hasattr(editor, "spins"):
            for spin, v in zip(editor.spins, value, strict=True):
                spin.setValue(v)
        elif hasattr(editor, "combo"):
            index = editor.combo.findData(value)
            editor.combo.setCurrentIndex(index)
            editor.combo.activated.emit(index)  # what a click on the entry sends
        else:
            editor.spin.setValue(value)


def test_the_lecture_cnn_is_built_from_an_empty_canvas_saved_reopened_and_undone_to_empty(main_window, tmp_path):
    assert main_window.new_from_template(dialogs.EMPTY)
    document = main_window.document
    assert len(document.network) == 0
    ids = []
    for row, (type_name, _, _) in enumerate(LECTURE_CNN):
        main_window.editor.view.centerOn(QPointF(0, row * 140))
        ids.append(_drop(main_window, type_name, QPointF(0, row * 140)))
    for src, dst in zip(ids, ids[1:]):
        main_window.editor.view.fitInView(
            main_window.editor.scene.nodes[src].sceneBoundingRect().united(
                main_window.editor.scene.nodes[dst].sceneBoundingRect()).adjusted(-60, -60, 60, 60),
            Qt.AspectRatioMode.KeepAspectRatio)
        drag(main_window.editor.view, port_pos(main_window, src), main_window.editor.scene.nodes[dst].pos())
    assert document.network.edges == list(zip(ids, ids[1:]))
    for node_id, (_, values, _) in zip(ids, LECTURE_CNN):
        _set_in_inspector(main_window, node_id, values)

    analysis = document.analysis()
    assert [dims_text(analysis.layers[i].output_shape) for i in ids] == [shape for *_, shape in LECTURE_CNN]
    assert [main_window.editor.scene.nodes[i].shape_text for i in ids] == [shape for *_, shape in LECTURE_CNN]
    assert analysis.total_params == 3_274_634 and not analysis.errors
    assert "3,274,634" in main_window.inspector.overview.findChild(type(main_window.zoom_label),
                                                                   "overview_total").text()

    path = tmp_path / "lecture.cnnproj"
    assert main_window.save_as(path)
    assert main_window.open_project(path)
    reopened = main_window.document
    assert reopened.analysis().total_params == 3_274_634
    assert load_project(path).network.to_dict() == reopened.network.to_dict()

    assert main_window.new_from_template(dialogs.EMPTY)  # build again and undo it all, step by step
    for row, (type_name, _, _) in enumerate(LECTURE_CNN[:3]):
        _drop(main_window, type_name, QPointF(0, row * 140))
    stack = main_window.document.undo_stack
    while stack.canUndo():
        stack.undo()
    assert len(main_window.document.network) == 0


def test_the_template_dialog_previews_each_network_and_offers_an_empty_one(qtbot):
    dialog = dialogs.TemplateDialog()
    qtbot.addWidget(dialog)
    names = [dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.list.count())]
    assert names[0] == dialogs.EMPTY and "lenet5" in names
    dialog.list.setCurrentRow(names.index("mnist-cnn"))
    assert dialog.chosen() == "mnist-cnn"
    assert set(dialog.preview.scene.nodes) == {"input", "conv1", "pool1", "conv2", "pool2", "flatten", "dense",
                                               "dropout", "output"}
    assert "3,274,634 parameters" in dialog.preview.figures.text() and "28x28x1" in dialog.preview.figures.text()
    dialog.list.setCurrentRow(0)
    assert not dialog.preview.scene.nodes and "No layers" in dialog.preview.figures.text()


def test_the_template_selected_when_the_dialog_opens_is_drawn_in_the_preview(qtbot):
    dialog = dialogs.TemplateDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    preview = dialog.preview
    assert dialog.chosen() != dialogs.EMPTY and preview.scene.nodes
    view = preview.view

    def drawn() -> bool:
        shown = view.mapFromScene(preview.scene.itemsBoundingRect()).boundingRect()
        return view.transform().m11() > 0.05 and view.viewport().rect().contains(shown) and shown.height() > 100

    qtbot.waitUntil(drawn)
    dialog.close()
