"""The first hour with the keyboard alone: new project, add a layer, set it, train, export — key events only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from cnnstudio.ui import keyboard

CTRL, SHIFT, ALT = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                    Qt.KeyboardModifier.AltModifier)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard"
    return widget


def press(qtbot, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifiers)


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def tab_to(qtbot, name: str, limit: int = 60) -> QWidget:
    """Press Tab until the control called ``name`` has the keyboard (as a user would)."""
    for _ in range(limit):
        if focused().objectName() == name:
            return focused()
        press(qtbot, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {name}; it stopped at {focused().objectName()!r}")


def when_modal(qtbot, act: Callable[[QWidget], None]) -> None:
    """Run ``act`` on the modal dialog once it is open (a modal dialog's own event loop blocks the caller)."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isAncestorOf(QApplication.focusWidget()):
            QTimer.singleShot(10, attempt)
            return
        try:
            act(dialog)
        finally:
            if dialog.isVisible():  # the keys did not close it: do not leave the test waiting
                dialog.reject()

    QTimer.singleShot(0, attempt)


def test_a_network_is_changed_and_trained_with_the_keyboard_alone(make_window, qtbot, tmp_path):
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.editor.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)

    def pick_lenet(dialog: QWidget) -> None:
        assert focused().objectName() == "templateList"
        type_text(qtbot, "LeNet")  # type-ahead in the list
        press(qtbot, Qt.Key.Key_Return)

    when_modal(qtbot, pick_lenet)
    press(qtbot, Qt.Key.Key_N, CTRL)  # File > New from Template…
    qtbot.waitUntil(lambda: "LeNet" in window.document.name)
    window.activateWindow()  # as the window manager does when a dialog closes (the offscreen platform does not)
    qtbot.waitUntil(lambda: window.isAncestorOf(QApplication.focusWidget()))
    network = window.document.network

    press(qtbot, Qt.Key.Key_N, CTRL | SHIFT)  # Edit > Go to the Canvas
    assert focused() is window.editor.view
    press(qtbot, Qt.Key.Key_Down, ALT)  # the first layer, then the next one
    press(qtbot, Qt.Key.Key_Down, ALT)
    (anchor,) = window.editor.selected_ids()
    assert network.node(anchor).type == "Conv2D"
    (after,) = network.outputs_of(anchor)

    press(qtbot, Qt.Key.Key_A, CTRL | SHIFT)  # Edit > Add Layer…: the palette's search field
    assert focused() is window.palette_panel.search
    type_text(qtbot, "Conv2D")
    press(qtbot, Qt.Key.Key_Return)
    (added,) = window.editor.selected_ids()
    assert added != anchor and network.node(added).type == "Conv2D"
    assert network.inputs_of(added) == [anchor] and network.outputs_of(added) == [after]

    press(qtbot, Qt.Key.Key_F2)  # Edit > Edit Layer Settings: the Inspector's first setting, the filters
    assert window.inspector.isAncestorOf(focused())
    press(qtbot, Qt.Key.Key_A, CTRL)
    type_text(qtbot, "4")
    press(qtbot, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: network.node(added).params["filters"] == 4)
    assert window.document.analysis().layers[added].output_shape[-1] == 4

    press(qtbot, Qt.Key.Key_F5, CTRL)  # Train > Go to Training Settings
    form = window.features.training_panel.form
    assert form.isAncestorOf(focused())
    for field, value in (("batch_size", "16"), ("epochs", "1"), ("max_steps_per_epoch", "2")):
        tab_to(qtbot, f"trainingField_{field}")
        press(qtbot, Qt.Key.Key_A, CTRL)
        type_text(qtbot, value)
    press(qtbot, Qt.Key.Key_Tab)
    training = window.document.project.training
    assert (training["epochs"], training["batch_size"], training["max_steps_per_epoch"]) == (1, 16, 2)

    controller = window.features.training
    with qtbot.waitSignal(controller.runFinished, timeout=240_000) as finished:
        press(qtbot, Qt.Key.Key_F5)  # Train > Start Training
    assert (finished.args[0] / "model.keras").exists() or list(finished.args[0].glob("*.keras"))



def test_the_network_is_exported_with_the_keyboard_alone(main_window, qtbot, tmp_path):
    window = main_window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.editor.view.setFocus()
    press(qtbot, Qt.Key.Key_E, CTRL)  # File > Export…
    dialog = window.features.exporting.dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.isAncestorOf(QApplication.focusWidget()))
    for key, check in dialog.checks.items():  # only the Keras model
        if not check.isEnabled():  # (what needs a trained run is off for the network as drawn)
            continue
        tab_to(qtbot, check.objectName())
        if check.isChecked() != (key == "keras"):
            press(qtbot, Qt.Key.Key_Space)
    assert dialog.chosen_keys() == ["keras"]
    tab_to(qtbot, "exportFolder")
    press(qtbot, Qt.Key.Key_A, CTRL)
    type_text(qtbot, str(tmp_path))
    tab_to(qtbot, "exportBaseName")
    press(qtbot, Qt.Key.Key_A, CTRL)
    type_text(qtbot, "digits")
    press(qtbot, Qt.Key.Key_Return)  # the default button: Export
    qtbot.waitUntil(lambda: not dialog.running and bool(dialog.results), timeout=120_000)
    assert [p.name for p in tmp_path.rglob("*.keras")] == ["digits.keras"], dialog.summary.text()
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_two_layers_chosen_with_the_keyboard_are_connected_with_one_shortcut(main_window, qtbot):
    window = main_window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    network = window.document.network
    first = window.keyboard.reading_order()[0]
    edge = (first, network.outputs_of(first)[0])
    window.editor.disconnect(*edge)  # the input layer now feeds nothing
    window.editor.view.setFocus()
    press(qtbot, Qt.Key.Key_Down, ALT)
    assert window.editor.selected_ids() == [first]
    press(qtbot, Qt.Key.Key_Down, ALT | SHIFT)
    assert sorted(window.editor.selected_ids()) == sorted(edge)
    press(qtbot, Qt.Key.Key_K, CTRL)  # Edit > Connect Selected Layers
    assert edge[1] in network.outputs_of(first)
    press(qtbot, Qt.Key.Key_Up, ALT)  # back to one layer
    assert window.editor.selected_ids() == [first]


def test_every_keyboard_action_is_in_a_menu_with_its_shortcut(main_window):
    for name in keyboard.SPECS:
        action = main_window.action(name)
        assert not action.shortcut().isEmpty() and action.statusTip()
        assert any(action in menu.actions() for menu in main_window.menuBar().findChildren(QMenu))


def visual_order(form: QWidget, widgets: list[QWidget]) -> list[QWidget]:
    """``widgets`` as a reader sees them: row by row from the top, left to right in a row."""
    def middle(w: QWidget) -> tuple[int, int]:
        point = w.mapTo(form, w.rect().center())
        return point.y(), w.mapTo(form, w.rect().topLeft()).x()

    rows: list[list[QWidget]] = []
    for widget in sorted(widgets, key=middle):
        if rows and middle(widget)[0] - middle(rows[-1][0])[0] < 10:
            rows[-1].append(widget)
        else:
            rows.append([widget])
    return [w for row in rows for w in sorted(row, key=lambda w: middle(w)[1])]


def tab_walk(qtbot, form: QWidget) -> list[QWidget]:
    """The controls of ``form`` that Tab visits, from its first, in order."""
    seen: list[QWidget] = []
    while form.isAncestorOf(focused()) and focused() not in seen and len(seen) < 200:
        seen.append(focused())
        press(qtbot, Qt.Key.Key_Tab)
    return seen


def test_tab_follows_the_visual_order_in_the_inspector_and_the_training_settings(main_window, qtbot):
    window = main_window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    conv = next(n.id for n in window.document.network if n.type == "Conv2D")
    window.editor.select([conv])
    window.editor.view.setFocus()
    press(qtbot, Qt.Key.Key_F2)
    form = window.inspector.form
    focused().setFocus()  # start from the form's first control: the layer's name
    window.inspector.form.name_edit.setFocus()
    walked = tab_walk(qtbot, form)
    assert len(walked) > 3
    names = [w.objectName() or w.accessibleName() for w in walked]
    assert [w.objectName() or w.accessibleName() for w in visual_order(form, walked)] == names

    press(qtbot, Qt.Key.Key_F5, CTRL)
    training_form = window.features.training_panel.form
    walked = tab_walk(qtbot, training_form)
    assert len(walked) > 5
    names = [w.objectName() or w.accessibleName() for w in walked]
    assert [w.objectName() or w.accessibleName() for w in visual_order(training_form, walked)] == names
