"""Find a layer by name or type (Ctrl+F on the canvas): type, pick, and the canvas jumps to it.

In a network of hundreds of layers (an imported NASNet has 771) scrolling to one is no way
to find it; the search box over the canvas offers every layer whose id or type contains
what is typed, and the one picked is selected and brought into view, large enough to read.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from cnnstudio.core import blocks
from cnnstudio.core.network import Network

SEPARATOR = "  ·  "


def entries(network: Network) -> dict[str, str]:
    """What the list shows ("conv2  ·  Conv2D", with "  ·  in conv3" for a layer inside a block) -> the
    layer id, in the network's order. Layers inside folded blocks are found too (picking one opens it)."""
    held = blocks.parents(network) if network.blocks else {}
    found = {}
    for node in network:
        owner = held.get(node.id)
        where = f"{SEPARATOR}in {network.blocks[owner].name}" if owner else ""
        found[f"{node.id}{SEPARATOR}{node.type}{where}"] = node.id
    return found


class LayerSearch(QLineEdit):
    """A search field floating over the canvas; ``chosen(layer id)`` when a layer is picked."""

    chosen = Signal(str)

    def __init__(self, network: Callable[[], Network], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = network
        self.setObjectName("layerSearch")
        self.setPlaceholderText("Find a layer by name or type…")
        self.setAccessibleName("Find a layer")
        self.setToolTip("Type part of a layer's name or type, pick it from the list (Enter takes the first); "
                        "Esc closes")
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(260)
        self._entries: dict[str, str] = {}
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.setCompleter(self.completer)
        self.completer.activated.connect(self._pick)
        self.returnPressed.connect(self._take_first)
        self.hide()

    def open(self) -> None:
        """Show the field with every layer of the network as it is now, ready for typing."""
        self._entries = entries(self.network())
        self.model.setStringList(list(self._entries))
        self.clear()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def matches(self, text: str) -> list[str]:
        """The layer ids whose entry contains ``text`` (any case), in the network's order."""
        words = text.lower().split()
        return [node_id for entry, node_id in self._entries.items() if all(w in entry.lower() for w in words)]

    def _pick(self, entry: str) -> None:
        node_id = self._entries.get(entry)
        if node_id is not None:
            self._finish(node_id)

    def _take_first(self) -> None:
        text = self.text().strip()
        if text in self._entries:
            self._finish(self._entries[text])
            return
        exact = [n for n in self._entries.values() if n.lower() == text.lower()]
        found = exact or self.matches(text)
        if found:
            self._finish(found[0])

    def _finish(self, node_id: str) -> None:
        self.hide()
        self.chosen.emit(node_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            self.parentWidget().setFocus()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        if not self.completer.popup().isVisible():
            self.hide()
