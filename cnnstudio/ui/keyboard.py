"""Editing with the keyboard alone: go to the palette, canvas or Inspector, move the selection
between layers and connect two of them (Edit menu entries, each with its shortcut)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:
    from .main_window import MainWindow

WINDOW, CANVAS = Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.WidgetWithChildrenShortcut

# action name -> (menu text, shortcut, where the shortcut works, status tip)
SPECS: dict[str, tuple[str, str, Qt.ShortcutContext, str]] = {
    "add_layer": ("&Add Layer…", "Ctrl+Shift+A", WINDOW,
                  "Type a layer's name in the Layers palette and press Enter: it goes after the selected layer, "
                  "connected"),
    "go_to_canvas": ("Go to the &Canvas", "Ctrl+Shift+N", WINDOW,
                     "Put the keyboard on the network canvas (Alt+arrows then move between layers)"),
    "edit_layer": ("Edit Layer &Settings", "F2", WINDOW,
                   "Put the keyboard in the Inspector's first setting of the selected layer (Tab moves on)"),
    "training_settings": ("Go to Training Se&ttings", "Ctrl+F5", WINDOW,
                          "Put the keyboard in the Training panel's settings (Tab moves on; F5 starts training)"),
    "select_next": ("Select &Next Layer", "Alt+Down", CANVAS, "Select the next layer, from top to bottom"),
    "select_previous": ("Select P&revious Layer", "Alt+Up", CANVAS, "Select the previous layer, from top to bottom"),
    "extend_next": ("Add Next Layer to Selection", "Alt+Shift+Down", CANVAS,
                    "Also select the next layer (two selected layers can then be connected)"),
    "extend_previous": ("Add Previous Layer to Selection", "Alt+Shift+Up", CANVAS,
                        "Also select the previous layer (two selected layers can then be connected)"),
    "connect_selected": ("C&onnect Selected Layers", "Ctrl+K", CANVAS,
                         "Connect the two selected layers: the upper one feeds the lower one"),
}


class CanvasKeyboard(QObject):
    """The keyboard-only editing actions of a main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.editor = window.editor
        self.actions: dict[str, QAction] = {}
        self._current: str | None = None  # the layer the last move went to
        for name, (text, keys, context, tip) in SPECS.items():
            action = QAction(text, window)
            action.setObjectName(f"action_{name}")
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(context)
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
            (self.editor if context == CANVAS else window).addAction(action)
            window.add_action(name, action)
            self.actions[name] = action
        a = self.actions
        a["add_layer"].triggered.connect(self.go_to_palette)
        a["go_to_canvas"].triggered.connect(self.go_to_canvas)
        a["edit_layer"].triggered.connect(self.edit_layer)
        a["training_settings"].triggered.connect(self.go_to_training_settings)
        a["select_next"].triggered.connect(lambda: self.step(1))
        a["select_previous"].triggered.connect(lambda: self.step(-1))
        a["extend_next"].triggered.connect(lambda: self.step(1, extend=True))
        a["extend_previous"].triggered.connect(lambda: self.step(-1, extend=True))
        a["connect_selected"].triggered.connect(self.connect_selected)
        window.document.lockedChanged.connect(self._apply_lock)
        self._add_to_menu()

    def _add_to_menu(self) -> None:
        menu = self.window.menu("&Edit")
        before = self.window.action("preferences")
        menu.insertActions(before, [a for name, a in self.actions.items() if name != "training_settings"])
        menu.insertSeparator(before)
        train = self.window.menu("&Train")
        train.insertAction(train.actions()[0] if train.actions() else None, self.actions["training_settings"])
        train.insertSeparator(self.window.action("train_start"))

    def _apply_lock(self, locked: bool) -> None:
        for name in ("add_layer", "connect_selected"):
            self.actions[name].setEnabled(not locked)

    # ------------------------------------------------------------------ where the keyboard goes
    def go_to_palette(self) -> None:
        """Show the Layers palette and put the keyboard in its search field."""
        self.window.tabs.setCurrentWidget(self.editor)
        dock = self.window.dock("palette")
        dock.show()
        dock.raise_()
        search = self.window.palette_panel.search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    def go_to_canvas(self) -> None:
        self.window.tabs.setCurrentWidget(self.editor)
        self.editor.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def go_to_training_settings(self) -> None:
        panel = self.window.features.training_panel
        dock = panel.parentWidget()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        if dock is not None:
            dock.show()
            dock.raise_()
        first = next((w for w in _focus_chain(panel.form) if w.isVisibleTo(panel.form)), None)
        if first is not None:
            first.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def edit_layer(self) -> None:
        if len(self.editor.selected_ids()) != 1:
            self.window.statusBar().showMessage("Select one layer first (Alt+Down on the canvas)", 5000)
            return
        self.window.inspector.focus_form()

    # ------------------------------------------------------------------ moving between layers
    def reading_order(self) -> list[str]:
        """The layers from top to bottom, left to right, as they are drawn."""
        nodes = list(self.editor.network)
        far = float("inf")
        return [n.id for n in sorted(nodes, key=lambda n: (n.position or (far, far))[1::-1])]

    def step(self, direction: int, extend: bool = False) -> str | None:
        """Select the next (1) or previous (-1) layer; with ``extend``, keep the selection and add it."""
        order = self.reading_order()
        if not order:
            return None
        selected = self.editor.selected_ids()
        current = self._current if self._current in selected else (
            max(selected, key=order.index) if direction > 0 and selected else
            min(selected, key=order.index) if selected else None)
        if current is None:
            target = order[0] if direction > 0 else order[-1]
        else:
            target = order[max(0, min(len(order) - 1, order.index(current) + direction))]
        self._current = target
        chosen = [n for n in selected if n != target] + [target] if extend else [target]
        self.editor.select(chosen, center=True)
        self.editor.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return target

    def connect_selected(self) -> bool:
        """Connect the two selected layers, the upper one feeding the lower one."""
        selected = self.editor.selected_ids()
        if len(selected) != 2:
            self.window.show_message("info", "Connect: select exactly two layers first (Alt+Shift+Down adds "
                                     "the next layer to the selection)")
            return False
        order = self.reading_order()
        src, dst = sorted(selected, key=order.index)
        if dst in self.editor.network.outputs_of(src):
            self.window.show_message("info", f"{src} already feeds {dst}")
            return False
        connected = self.editor.scene.connect_layers(src, dst)
        if connected:
            self.window.show_message("info", f"Connected {src} to {dst}")
        return connected


def _focus_chain(root: QWidget) -> list[QWidget]:
    """The widgets inside ``root`` that Tab reaches, in Tab order."""
    chain, widget = [], root.nextInFocusChain()
    while widget is not root and widget is not None and len(chain) < 1000:
        if root.isAncestorOf(widget) and widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isEnabled():
            chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def install(window: MainWindow) -> CanvasKeyboard:
    """Add the keyboard-only editing actions to the window's Edit menu."""
    return CanvasKeyboard(window)
