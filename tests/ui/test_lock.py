"""While the network is locked (training), it cannot change, and the window shows it."""

from __future__ import annotations

from cnnstudio.ui.editor.commands import SetParamCommand


def test_a_locked_network_refuses_edits_and_says_why(main_window, qtbot):
    document = main_window.document
    before = document.project.to_dict()
    document.set_locked(True, "training is running")
    with qtbot.waitSignal(document.editRefused) as refused:
        assert document.push(SetParamCommand(document.network, "conv1", "filters", 3)) is False
    assert refused.args == ["training is running"]
    assert document.project.to_dict() == before
    assert not main_window.actions_["delete"].isEnabled() and not main_window.actions_["paste"].isEnabled()
    assert not main_window.palette_panel.isEnabled() and not main_window.editor.view.isInteractive()
    banner = main_window.editor.findChild(type(main_window.zoom_label), "lockBanner")
    assert banner.isVisible() and "training is running" in banner.text()


def test_unlocking_restores_editing(main_window):
    document = main_window.document
    document.set_locked(True, "training is running")
    document.set_locked(False)
    assert document.push(SetParamCommand(document.network, "conv1", "filters", 3))
    assert document.network.node("conv1").params["filters"] == 3
    assert main_window.palette_panel.isEnabled() and main_window.editor.view.isInteractive()
    assert main_window.actions_["undo"].isEnabled()


def test_features_find_or_add_top_level_menus_before_help(main_window):
    train = main_window.menu("&Train")
    assert main_window.menu("Train") is train and train.objectName() == "menu_train"
    main_window.menu("&Extras")  # a menu no feature has made yet goes just before Help
    titles = [a.text() for a in main_window.menuBar().actions()]
    assert titles.index("&Extras") == titles.index("&Help") - 1
    assert main_window.menu("&File").objectName() == "menu_file"
