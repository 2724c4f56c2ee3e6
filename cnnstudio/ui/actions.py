"""The main window's actions, menus and toolbar, with standard shortcuts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from cnnstudio.core.templates import TEMPLATE_NAMES

from . import settings
from .icons import icon
from .theme import APPEARANCES

if TYPE_CHECKING:
    from .main_window import MainWindow

Std = QKeySequence.StandardKey

# action name -> (menu text, icon, shortcuts, status tip)
SPECS: dict[str, tuple[str, str | None, tuple, str]] = {
    "new": ("&New from Template…", "new", (Std.New,), "Start a new project from one of the bundled networks"),
    "open": ("&Open…", "open", (Std.Open,), "Open a project file"),
    "save": ("&Save", "save", (Std.Save,), "Save the project"),
    "save_as": ("Save &As…", None, (Std.SaveAs, "Ctrl+Shift+S"), "Save the project under a new name"),
    "quit": ("&Quit", None, (Std.Quit, "Ctrl+Q"), "Quit CNN Studio"),
    "cut": ("Cu&t", "cut", (Std.Cut,), "Remove the selected layers or blocks and put them on the clipboard"),
    "copy": ("&Copy", "copy", (Std.Copy,), "Copy the selected layers or blocks"),
    "paste": ("&Paste", "paste", (Std.Paste,), "Paste layers or blocks from the clipboard"),
    "duplicate": ("D&uplicate", "duplicate", ("Ctrl+D",), "Duplicate the selected layers or blocks"),
    "delete": ("&Delete", "delete", (Std.Delete, "Backspace"),
               "Delete the selected layers and connections, joining what fed them to what they fed where it fits"),
    "delete_plain": ("Delete &Without Reconnecting", None, ("Shift+Del", "Shift+Backspace"),
                     "Delete the selected layers and leave their neighbours unconnected"),
    "freeze": ("Free&ze or Unfreeze", None, (),
               "Freeze the selected layers (they keep their weights while training), or unfreeze them when all "
               "are frozen"),
    "select_all": ("Select &All", None, (Std.SelectAll,), "Select every layer and connection"),
    "find_layer": ("&Find Layer…", None, (Std.Find,), "Find a layer by name or type and jump to it on the canvas"),
    "group": ("&Group into Block…", None, ("Ctrl+G",), "Group the selected layers into a named block that can be folded"),
    "ungroup": ("Ungroup B&lock", None, ("Ctrl+Shift+G",), "Remove the selected block, keeping its layers"),
    "repeat_block": ("&Repeat Block…", None, (), "Add copies of the selected block after it, each fed by the one before"),
    "zoom_in": ("Zoom &In", "zoom-in", (Std.ZoomIn, "Ctrl+="), "Zoom in"),
    "zoom_out": ("Zoom &Out", "zoom-out", (Std.ZoomOut,), "Zoom out"),
    "zoom_fit": ("Zoom to &Fit", "zoom-fit", ("Ctrl+0",), "Show the whole network"),
    "zoom_reset": ("&Actual Size", None, ("Ctrl+1",), "Zoom to 100%"),
    "auto_layout": (
        "Auto-&Layout",
        "auto-layout",
        ("Ctrl+L",),
        "Arrange the layers top to bottom, without overlaps",
    ),
    "show_shapes": (
        "Show Tensor &Shapes on Connections",
        None,
        ("Ctrl+Shift+T",),
        "Label every connection with its tensor shape",
    ),
    "snap": ("S&nap to Grid", None, (), "Snap layers to the grid when moving them"),
    "minimap": ("Show &Minimap", None, (), "Show an overview of the whole network on the canvas"),
    "reset_layout": ("&Reset Panel Layout", None, (), "Put every panel back where it started"),
    "about": ("&About CNN Studio", None, (), "About CNN Studio"),
    "shortcuts": ("&Keyboard Shortcuts", None, ("F1",), "Every keyboard shortcut"),
    "preferences": ("Pr&eferences…", None, (Std.Preferences, "Ctrl+,"), "Appearance, folders, CPU/GPU use, training defaults"),
}
CHECKABLE = {"show_shapes": False, "snap": True, "minimap": True}


def build_actions(window: MainWindow) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for name, (text, icon_name, keys, tip) in SPECS.items():
        action = QAction(text, window)
        action.setObjectName(f"action_{name}")
        shortcuts = [QKeySequence(k) for k in keys]
        shortcuts = [s for i, s in enumerate(shortcuts) if not s.isEmpty() and s not in shortcuts[:i]]
        if shortcuts:
            action.setShortcuts(shortcuts)
        action.setStatusTip(tip)
        action.setToolTip(
            f"{tip} ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})" if shortcuts else tip
        )
        action.setData(icon_name)
        if name in CHECKABLE:
            action.setCheckable(True)
            action.setChecked(settings.flag(name, CHECKABLE[name]))
        window.addAction(action)
        actions[name] = action
    stack = window.document.undo_stack
    actions["undo"] = stack.createUndoAction(window, "&Undo")
    actions["undo"].setShortcuts(QKeySequence.keyBindings(Std.Undo))
    actions["undo"].setData("undo")
    actions["redo"] = stack.createRedoAction(window, "&Redo")
    redo_keys = QKeySequence.keyBindings(Std.Redo)
    if QKeySequence("Ctrl+Y") not in redo_keys:
        redo_keys.append(QKeySequence("Ctrl+Y"))
    actions["redo"].setShortcuts(redo_keys)
    actions["redo"].setData("redo")
    for name in ("undo", "redo"):
        actions[name].setObjectName(f"action_{name}")
        window.addAction(actions[name])
    refresh_icons(actions)
    for action in actions.values():
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    return actions


def refresh_icons(actions: dict[str, QAction]) -> None:
    """Re-tint the icons for the current palette (after a light/dark switch)."""
    for action in actions.values():
        name = action.data()
        if isinstance(name, str) and name:
            action.setIcon(icon(name))


def build_menus(window: MainWindow, actions: dict[str, QAction]) -> QMenu:
    """The menu bar; returns View > Panels, where each panel's toggle goes."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setObjectName("menu_file")
    file_menu.addAction(actions["new"])
    templates = file_menu.addMenu("New from &Template")
    templates.setObjectName("menu_templates")
    for name in TEMPLATE_NAMES:
        templates.addAction(name, lambda n=name: window.new_from_template(n))
    file_menu.addAction(actions["open"])
    recent = file_menu.addMenu("Open &Recent")
    recent.setObjectName("menu_recent")
    recent.aboutToShow.connect(lambda: _fill_recent(window, recent))
    file_menu.addSeparator()
    file_menu.addAction(actions["save"])
    file_menu.addAction(actions["save_as"])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])

    edit = bar.addMenu("&Edit")
    edit.setObjectName("menu_edit")
    for name in (
        "undo",
        "redo",
        None,
        "cut",
        "copy",
        "paste",
        "duplicate",
        "delete",
        "delete_plain",
        "freeze",
        None,
        "select_all",
        "find_layer",
        None,
        "group",
        "ungroup",
        "repeat_block",
        None,
    ):
        edit.addSeparator() if name is None else edit.addAction(actions[name])
    edit.addAction(actions["preferences"])
    replace = edit.addMenu("Replace Network with Template")
    replace.setObjectName("menu_replace")
    for name in TEMPLATE_NAMES:
        replace.addAction(name, lambda n=name: window.replace_network_with_template(n))

    view = bar.addMenu("&View")
    view.setObjectName("menu_view")
    for name in (
        "zoom_in",
        "zoom_out",
        "zoom_fit",
        "zoom_reset",
        None,
        "auto_layout",
        None,
        "show_shapes",
        "snap",
        "minimap",
        None,
    ):
        view.addSeparator() if name is None else view.addAction(actions[name])
    appearance = view.addMenu("&Appearance")
    group = QActionGroup(window)
    current = settings.appearance()
    for value in APPEARANCES:
        action = appearance.addAction(value.capitalize() if value != "system" else "Follow System")
        action.setCheckable(True)
        action.setChecked(value == current)
        action.setObjectName(f"action_appearance_{value}")
        action.triggered.connect(lambda _checked=False, v=value: window.set_appearance(v))
        group.addAction(action)
    panels = view.addMenu("&Panels")
    panels.setObjectName("menu_panels")
    view.addAction(actions["reset_layout"])

    help_menu = bar.addMenu("&Help")
    help_menu.setObjectName("menu_help")
    help_menu.addAction(actions["shortcuts"])
    help_menu.addAction(actions["about"])
    return panels


def _fill_recent(window: MainWindow, menu: QMenu) -> None:
    menu.clear()
    files = settings.recent_files()
    for path in files:
        menu.addAction(path, lambda p=path: window.open_project(p))
    if not files:
        menu.addAction("No recent projects").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear Recent", settings.clear_recent)


def build_toolbar(window: MainWindow, actions: dict[str, QAction]) -> QToolBar:
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for name in (
        "new",
        "open",
        "save",
        None,
        "undo",
        "redo",
        None,
        "cut",
        "copy",
        "paste",
        "delete",
        None,
        "zoom_in",
        "zoom_out",
        "zoom_fit",
        "auto_layout",
    ):
        toolbar.addSeparator() if name is None else toolbar.addAction(actions[name])
    return toolbar
