"""The main window: what it opens on, its panels, files, unsaved changes, layout memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import default_project
from cnnstudio.ui import dialogs, settings
from cnnstudio.ui.editor.commands import SetParamCommand

ROOT = Path(__file__).resolve().parents[2]


def table_rows(table) -> list[list[str]]:
    model = table.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_window_opens_on_lenet5_with_the_summary_figures(main_window):
    assert "CNN Studio" in main_window.windowTitle()
    assert "LeNet-5" in main_window.windowTitle()
    assert not main_window.isWindowModified()
    expected = analyze(default_project().network).to_json("LeNet-5")
    rows = table_rows(main_window.findChild(QWidget, "summaryTable"))
    assert [r[0] for r in rows] == [layer["id"] for layer in expected["layers"]]
    conv1 = rows[1]
    assert conv1 == ["conv1", "Conv2D", "28x28x6", "150", "6", "156", "5x5"]
    assert rows[-1][:6] == ["output", "Dense", "10", "840", "10", "850"]
    assert expected["total_params"] == 61706
    assert "Total params: 61,706" in main_window.summary.totals.text()
    assert main_window.inspector.overview.figures["total"].text() == "61,706"
    assert main_window.inspector.overview.figures["trainable"].text() == "61,706"
    assert main_window.inspector.overview.figures["non_trainable"].text() == "0"


def test_key_widgets_have_object_names_and_docks_sit_where_expected(main_window):
    for name in ("palette", "canvas", "inspector", "summaryTable", "messages"):
        assert main_window.findChild(QWidget, name) is not None, name
    area = main_window.dockWidgetArea
    docks = main_window.docks
    assert area(docks["palette"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert area(docks["inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert area(docks["summary"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert area(docks["messages"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert main_window.centralWidget().currentWidget() is main_window.editor


def test_menus_offer_the_standard_commands_with_shortcuts(main_window):
    actions = main_window.actions_
    for name in (
        "new",
        "open",
        "save",
        "save_as",
        "undo",
        "redo",
        "cut",
        "copy",
        "paste",
        "duplicate",
        "delete",
        "select_all",
        "zoom_in",
        "zoom_out",
        "zoom_fit",
        "auto_layout",
    ):
        assert not actions[name].shortcut().isEmpty(), name
    menus = [a.text().replace("&", "") for a in main_window.menuBar().actions()]
    assert menus[:3] == ["File", "Edit", "View"]
    assert main_window.findChild(object, "menu_recent") is not None
    assert main_window.findChild(object, "menu_templates") is not None


def test_an_edit_marks_the_window_unsaved_and_save_round_trips(main_window, tmp_path):
    document = main_window.document
    document.push(SetParamCommand(document.network, "conv1", "filters", 8))
    assert main_window.isWindowModified()
    path = tmp_path / "lenet.cnnproj"
    assert main_window.save_as(path)
    assert not main_window.isWindowModified()
    assert "lenet.cnnproj" in main_window.windowTitle()
    saved = load_project(path)
    assert saved.network.to_dict() == document.network.to_dict()
    assert saved.network.node("conv1").params["filters"] == 8
    assert str(path.resolve()) in settings.recent_files()
    main_window.document.undo_stack.undo()
    assert main_window.isWindowModified()  # back to before the save: differs from the file
    main_window.document.undo_stack.redo()
    assert not main_window.isWindowModified()


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(main_window, monkeypatch):
    asked = []
    monkeypatch.setattr(
        dialogs, "ask_save_changes", lambda parent, name: asked.append(name) or dialogs.CANCEL
    )
    document = main_window.document
    document.push(SetParamCommand(document.network, "fc1", "units", 64))
    assert not main_window.close()
    assert asked == ["LeNet-5"]
    assert main_window.isVisible()
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: dialogs.DISCARD)
    assert main_window.close()


def test_closing_an_unmodified_window_does_not_ask(main_window, monkeypatch):
    monkeypatch.setattr(
        dialogs, "ask_save_changes", lambda parent, name: (_ for _ in ()).throw(AssertionError)
    )
    assert main_window.close()


def test_open_project_and_new_from_template_replace_the_document(main_window, tmp_path):
    main_window.new_from_template("mlp")
    assert (
        "mlp" in main_window.windowTitle().lower() or main_window.document.name in main_window.windowTitle()
    )
    assert not main_window.isWindowModified()
    assert main_window.document.undo_stack.count() == 0
    assert set(main_window.editor.scene.nodes) == set(main_window.document.network.nodes)
    path = tmp_path / "mlp.cnnproj"
    main_window.save_as(path)
    main_window.new_from_template("lenet5")
    assert main_window.open_project(path)
    assert main_window.document.path == path
    assert set(main_window.editor.scene.nodes) == set(load_project(path).network.nodes)


def test_opening_a_broken_file_reports_it_and_keeps_the_project(main_window, tmp_path, error_dialogs):
    bad = tmp_path / "broken.cnnproj"
    bad.write_text("{not json", encoding="utf-8")
    assert not main_window.open_project(bad)
    assert main_window.document.name == "LeNet-5"
    assert any("broken.cnnproj" in text for text in main_window.messages.texts())
    assert [title for title, _text in error_dialogs] == ["Cannot open project"] and "not valid JSON" in error_dialogs[0][1]


def test_replace_network_with_template_is_one_undoable_step(main_window):
    before = main_window.document.network.to_dict()
    main_window.replace_network_with_template("resnet-mini")
    assert "block1_add" in main_window.editor.scene.nodes
    assert main_window.document.analysis().ok
    main_window.document.undo_stack.undo()
    assert main_window.document.network.to_dict() == before
    assert set(main_window.editor.scene.nodes) == set(main_window.document.network.nodes)


def test_panel_layout_is_remembered_between_sessions(make_window):
    first = make_window()
    first.docks["messages"].hide()
    first.close()
    second = make_window()
    assert second.docks["messages"].isHidden()
    assert not second.docks["palette"].isHidden()
    second.reset_layout()
    assert not second.docks["messages"].isHidden()


def test_a_recovery_copy_is_kept_while_unsaved_and_removed_on_close(main_window):
    document = main_window.document
    document.push(SetParamCommand(document.network, "conv1", "filters", 12))
    assert main_window.autosaver.save_now()
    copy = main_window.autosaver.file
    assert copy.exists()
    assert json.loads(copy.with_suffix(".json").read_text())["name"] == "LeNet-5"
    assert load_project(copy).network.node("conv1").params["filters"] == 12
    main_window.close()
    assert not copy.exists()


def test_dark_appearance_recolours_the_canvas(main_window, qapp):
    from cnnstudio.ui import theme

    light_background = main_window.editor.scene.colors.background
    try:
        main_window.set_appearance("dark")
        assert theme.is_dark(qapp.palette())
        assert main_window.editor.scene.colors.background != light_background
    finally:
        main_window.set_appearance("light")
    assert not theme.is_dark(qapp.palette())


def test_starting_the_window_does_not_import_tensorflow_and_settles_its_memory(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["CNNSTUDIO_RECOVERY_DIR"] = sys.argv[1]
        from PySide6.QtCore import QSettings, QTimer
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
        from cnnstudio.ui import app
        application = app.create_application()
        def finish():
            for window in application.topLevelWidgets():
                if window.objectName() == "mainWindow":
                    print("TITLE", window.windowTitle())
                    window.close()
            application.quit()
        QTimer.singleShot(300, finish)
        code = app.main(None)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        print("HEAVY", heavy)
        import gc
        print("FROZEN", gc.get_freeze_count())
        sys.exit(code)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "TITLE LeNet-5" in result.stdout and "CNN Studio" in result.stdout
    assert "HEAVY []" in result.stdout, result.stdout
    # what starting made is out of the garbage collector's sight (its full collections took 60 ms on this thread)
    assert int(result.stdout.split("FROZEN ")[1].split()[0]) > 50_000


def test_every_panel_is_a_dock_that_view_panels_shows_and_hides(main_window):
    panels = main_window.findChild(QMenu, "menu_panels")
    toggles = {action.text(): action for action in panels.actions() if not action.isSeparator()}
    assert set(main_window.docks) == {"palette", "inspector", "summary", "messages", "dataset", "training", "runs",
                                      "experiments", "lessons", "code"}
    for name, dock in main_window.docks.items():
        assert isinstance(dock, QDockWidget) and dock.widget() is not None, name
        toggle = toggles[dock.windowTitle()]
        assert toggle is dock.toggleViewAction()
        was_hidden = dock.isHidden()
        toggle.trigger()
        assert dock.isHidden() != was_hidden, name
        toggle.trigger()
        assert dock.isHidden() == was_hidden, name
    area = main_window.dockWidgetArea
    assert {area(main_window.docks[n]) for n in ("dataset", "training", "lessons")} == {area(main_window.docks["inspector"])}
    assert main_window.tabifiedDockWidgets(main_window.docks["summary"]) and \
        {main_window.docks["runs"], main_window.docks["experiments"], main_window.docks["code"]} <= \
        set(main_window.tabifiedDockWidgets(main_window.docks["summary"]))


def test_open_recent_lists_saved_projects_and_opens_them(main_window, tmp_path):
    path = tmp_path / "recent.cnnproj"
    main_window.save_as(path)
    menu = main_window.findChild(object, "menu_recent")
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if a.text() == str(path.resolve())]
    assert entries
    main_window.new_from_template("mlp")
    entries[0].trigger()
    assert main_window.document.path == path.resolve()


def test_a_file_that_fails_in_an_unexpected_way_says_cannot_open_project(main_window, tmp_path, monkeypatch):
    from cnnstudio.ui import dialogs
    from cnnstudio.ui import main_window as main_window_module

    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: shown.append((title, text)))

    def unexpected(path):
        raise KeyError("a key nobody expected")

    path = tmp_path / "odd.cnnproj"
    path.write_text("{}")
    monkeypatch.setattr(main_window_module, "load_project", unexpected)
    assert not main_window.open_project(path)
    assert len(shown) == 1 and shown[0][0] == "Cannot open project"
    assert shown[0][1].startswith("odd.cnnproj cannot be opened: something went wrong (KeyError")
    assert main_window.document.name == "LeNet-5"


def test_temporary_files_left_by_a_killed_save_are_removed_at_the_next_open_and_save(main_window, tmp_path):
    path = tmp_path / "mine.cnnproj"
    assert main_window.save_as(path)
    leftover = tmp_path / ".mine.cnnproj.k1ll3d_x.tmp"
    leftover.write_text("half a project")
    assert main_window.open_project(path)
    assert not leftover.exists()
    leftover.write_text("half a project")
    main_window.document.push(SetParamCommand(main_window.document.network, "conv1", "filters", 7))
    assert main_window.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.cnnproj"]


def test_a_recovery_copy_half_written_by_a_killed_program_is_cleaned_at_start(tmp_path, monkeypatch):
    from cnnstudio.ui import autosave

    monkeypatch.setenv("CNNSTUDIO_RECOVERY_DIR", str(tmp_path))
    dead = 2**22 + 12345  # no such process
    stale = tmp_path / f".recovery-{dead}-42.cnnproj.abcdefgh.tmp"
    stale.write_text("half")
    mine = tmp_path / f".recovery-{os.getpid()}-42.cnnproj.abcdefgh.tmp"
    mine.write_text("being written")
    assert autosave.pending_recoveries() == []
    assert not stale.exists() and mine.exists()
