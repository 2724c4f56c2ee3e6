"""The window fits a student's laptop: it opens sized to its screen, shrinks to 1024x640, and at
1280x720 and 1366x768 no label, button or value of any tab or panel is cut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QTabWidget

from cnnstudio.ui.fitting import cut_controls
from cnnstudio.ui.main_window import STATE_VERSION

# A maximized window on a 1280x720 (1920x1080 at 150%, 2560x1440 at 200%) or 1366x768 screen,
# below a window manager's title bar.
LAPTOP_WINDOWS = [(1280, 690), (1366, 740)]


def _settled(qtbot, window) -> None:
    """Let wrapped text and reflowed rows ask for their room (layouts settle over a few passes)."""
    for _ in range(12):
        QApplication.processEvents()


def _everything_cut(qtbot, window) -> list[str]:
    """Every tab, every page of the Inspect tab and every panel in front in turn."""
    found: list[str] = []
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        pages = window.tabs.currentWidget().findChildren(QTabWidget)
        for inner in [None, *pages]:
            for index in range(inner.count() if inner else 1):
                if inner:
                    inner.setCurrentIndex(index)
                for name, dock in window.docks.items():
                    if name == "palette" and window.tabs.currentWidget() is not window.editor:
                        continue  # it shows with the canvas only
                    dock.show()  # the Lessons panel too, which opens from Help > Lessons
                    dock.raise_()
                    _settled(qtbot, window)
                    found += [p for p in cut_controls(window) if p not in found]
    return found


def _as_on_a_laptop(window, width: int, height: int) -> None:
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(width, height)
    window.apply_default_sizes()


def test_the_window_can_shrink_to_a_small_laptop_screen(main_window):
    hint = main_window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    for name, dock in main_window.docks.items():
        assert dock.minimumSizeHint().width() <= 450, name  # no panel forces the window wide


@pytest.mark.parametrize(("width", "height"), LAPTOP_WINDOWS)
def test_nothing_is_cut_on_a_laptop_screen(main_window, qtbot, width, height):
    _as_on_a_laptop(main_window, width, height)
    assert main_window.size().toTuple() == (width, height)
    assert _everything_cut(qtbot, main_window) == []


def test_the_palette_keeps_every_name_at_1280_wide(main_window, qtbot):
    _as_on_a_laptop(main_window, 1280, 690)
    _settled(qtbot, main_window)
    tree = main_window.palette_panel.tree
    metrics = QFontMetrics(tree.font())
    for type_name, item in main_window.palette_panel.layer_items().items():
        text = tree.visualItemRect(item)
        shown = text.width() - tree.iconSize().width() - 8
        assert metrics.horizontalAdvance(type_name) <= shown, type_name
        assert text.right() <= tree.viewport().width(), type_name


def test_the_palette_shows_with_the_canvas_and_leaves_its_room_to_the_other_tabs(main_window):
    palette = main_window.docks["palette"]
    assert palette.isVisible()
    main_window.tabs.setCurrentWidget(main_window.features.training_view)
    assert not palette.isVisible()
    main_window.tabs.setCurrentWidget(main_window.editor)
    assert palette.isVisible()


def test_the_window_opens_inside_its_screen(main_window):
    available = main_window.screen().availableGeometry()
    assert available.contains(main_window.geometry())


def test_a_remembered_layout_that_no_longer_fits_the_screen_is_not_restored(make_window):
    first = make_window()
    first_run = first.geometry()
    available = first.screen().availableGeometry()
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.setGeometry(available.adjusted(0, 0, 700, 500))  # remembered from a larger screen
    first.save_layout()
    first.close()
    second = make_window()
    assert second.geometry().size() == first_run.size()
    assert second.geometry().size() != available.adjusted(0, 0, 700, 500).size()


def test_a_layout_of_an_earlier_version_is_not_restored(make_window):
    window = make_window()
    window.docks["palette"].setFloating(True)
    QSettings().setValue("window/state", window.saveState(STATE_VERSION - 1))
    QSettings().setValue("window/geometry", window.saveGeometry())
    window.docks["palette"].setFloating(False)
    window.close()
    again = make_window()
    assert not again.docks["palette"].isFloating()


def test_captions_rewritten_while_training_do_not_resize_the_plots(main_window, qtbot):
    """A caption that takes a line more or less as a run goes on would resize and redraw every plot."""
    _as_on_a_laptop(main_window, 1366, 740)
    view = main_window.features.training_view
    main_window.tabs.setCurrentWidget(view)
    _settled(qtbot, main_window)
    plots = (view.curves.loss_plot, view.live.filters_widget, view.live.maps_widget)
    long_text = "LeNet-5 on mnist-sample — run lenet5-20261204-223344, saved in " + "/a/long/folder" * 12
    for label, texts in ((view.caption, ["preparing…", long_text, "LeNet-5: preparing…"]),
                         (view.live.caption, ["conv1 during epoch 1, after batch 3 (refreshed every 2 seconds)",
                                              "conv1 as training left it (4 finished epochs) " * 3, "conv1"])):
        label.setText(texts[0])
        label.setText(texts[1])
        _settled(qtbot, main_window)
        sizes = [p.size() for p in plots]
        label.setText(texts[2])  # shorter: the room stays
        _settled(qtbot, main_window)
        assert [p.size() for p in plots] == sizes
