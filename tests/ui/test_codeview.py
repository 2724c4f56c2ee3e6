"""The Code panel: live Keras code of the network, copy, the full script, and errors shown calmly."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from cnnstudio.ui.editor.commands import SetParamCommand


def shown_panel(window):
    """The Code panel, brought to the front of its dock tabs."""
    window.docks["code"].show()
    window.docks["code"].raise_()
    QApplication.processEvents()
    return window.features.code


def test_code_panel_shows_the_networks_keras_code_read_only(main_window):
    view = main_window.findChild(QPlainTextEdit, "codeView")
    panel = shown_panel(main_window)
    assert view is panel.editor and view.isReadOnly()
    assert "def build_model():" in view.toPlainText()
    assert 'conv1 = layers.Conv2D(' in view.toPlainText() and 'name="conv1"' in view.toPlainText()
    assert view.font().fixedPitch()


def test_code_dock_sits_as_a_tab_beside_the_summary(main_window):
    code_dock, summary = main_window.docks["code"], main_window.docks["summary"]
    assert code_dock in main_window.tabifiedDockWidgets(summary)
    assert not summary.visibleRegion().isEmpty() and code_dock.visibleRegion().isEmpty()  # Summary in front


def test_code_follows_an_edit_shortly_after(main_window, qtbot):
    panel = shown_panel(main_window)
    main_window.document.push(SetParamCommand(main_window.document.network, "fc1", "units", 77))
    assert "units=120" in panel.code  # not yet: edits are gathered for a moment
    qtbot.waitUntil(lambda: "units=77" in panel.code, timeout=2000)
    assert "units=120" not in panel.code


def test_copy_puts_all_the_code_on_the_clipboard_and_says_so(main_window, qtbot):
    panel = shown_panel(main_window)
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == panel.code
    assert main_window.statusBar().currentMessage().startswith("Copied the model code (")


def test_an_error_keeps_the_last_good_code_greyed_with_a_note(main_window, qtbot):
    panel = shown_panel(main_window)
    before = panel.code
    network = main_window.document.network
    main_window.document.push(SetParamCommand(network, "conv2", "kernel_size", 50))
    qtbot.waitUntil(lambda: panel.note.isVisible(), timeout=2000)
    assert panel.code == before and panel.stale and panel.highlighter.dimmed
    assert "conv2" in panel.note.text() and "kernel 50x50" in panel.note.text()
    assert "Traceback" not in panel.note.text()
    main_window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not panel.note.isVisible(), timeout=2000)
    assert not panel.stale and not panel.highlighter.dimmed and panel.code == before


def test_full_training_script_follows_the_training_settings(main_window, qtbot):
    panel = shown_panel(main_window)
    panel.script_toggle.setChecked(True)
    assert panel.code.startswith("#!/usr/bin/env python3")
    assert "LEARNING_RATE = 0.004" in panel.code and "def load_data():" in panel.code
    main_window.document.settings.training.update(learning_rate=0.02)
    assert main_window.document.is_modified
    qtbot.waitUntil(lambda: "LEARNING_RATE = 0.02" in panel.code, timeout=3000)
    panel.script_toggle.setChecked(False)
    assert panel.code.startswith('"""LeNet-5: the Keras model')


def test_opening_another_project_shows_its_code(main_window, qtbot):
    panel = shown_panel(main_window)
    main_window.new_from_template("resnet-mini")
    qtbot.waitUntil(lambda: "layers.Add(" in panel.code, timeout=2000)


def test_save_as_writes_the_code_to_a_python_file(main_window, tmp_path):
    panel = shown_panel(main_window)
    out = panel.save_as(tmp_path / "lenet_model.py")
    assert out == tmp_path / "lenet_model.py"
    compile(out.read_text(), str(out), "exec")
    assert out.read_text() == panel.code
    assert main_window.statusBar().currentMessage() == f"Saved the code to {out}"


def test_highlighting_colours_keywords_and_strings_differently(main_window):
    panel = shown_panel(main_window)
    formats = panel.highlighter.formats
    assert formats["keyword"].foreground().color() != formats["string"].foreground().color()
    block = panel.editor.document().findBlockByNumber(0)
    assert any(r.format.foreground().color() == formats["docstring"].foreground().color()
               for r in block.layout().formats())


def test_a_hidden_code_tab_catches_up_when_brought_to_the_front(main_window, qtbot):
    panel = shown_panel(main_window)
    main_window.docks["summary"].raise_()
    qtbot.waitUntil(lambda: not panel._shown, timeout=2000)
    main_window.document.push(SetParamCommand(main_window.document.network, "fc2", "units", 55))
    assert not panel._timer.isActive() and "units=84" in panel.code  # nobody is looking: no work planned
    shown_panel(main_window)
    qtbot.waitUntil(lambda: "units=55" in panel.code, timeout=2000)
