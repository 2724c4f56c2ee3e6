"""Help: versions in the About box and a complete shortcuts list."""

import sys

from cnnstudio.ui.help import ShortcutsDialog, about_html, versions


def test_about_lists_versions_licences_and_data_attribution():
    names = dict(versions())
    assert names["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert names["TensorFlow"][0].isdigit() and names["Keras"][0].isdigit()
    html = about_html()
    assert "LeCun" in html and "MIT" in html and "Qt" in html


def test_shortcuts_dialog_lists_the_standard_commands(main_window, qtbot):
    dialog = ShortcutsDialog(main_window)
    qtbot.addWidget(dialog)
    commands = {dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())}
    assert {"Undo", "Redo", "Save", "Open", "Zoom to Fit", "Auto-Layout", "Delete"} <= commands
