"""The inspector dock: the selected layer's form, or the whole network when nothing is selected."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..document import ProjectDocument
from .block_page import BlockPage
from .freezing import FreezeCommand, is_frozen
from .layer_form import LayerForm
from .overview import NetworkOverview


class Inspector(QWidget):
    summaryWanted = Signal()  # the overview's "Per-layer Table"

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.document = document
        self.overview = NetworkOverview(document)
        overview_scroll = QScrollArea()
        overview_scroll.setWidgetResizable(True)
        overview_scroll.setFrameShape(QFrame.Shape.NoFrame)
        overview_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        overview_scroll.setWidget(self.overview)
        self.form = LayerForm(document)
        self.multi = QLabel()
        self.multi.setObjectName("inspectorMulti")
        self.multi.setWordWrap(True)
        self.multi.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.multi.setContentsMargins(10, 10, 10, 10)
        self.freeze_all = QPushButton("Freeze")
        self.freeze_all.setObjectName("freezeSelection")
        self.freeze_all.setToolTip("Keep the weights of the selected layers while training")
        self.unfreeze_all = QPushButton("Unfreeze")
        self.unfreeze_all.setObjectName("unfreezeSelection")
        self.unfreeze_all.setToolTip("Train the selected layers again")
        self.freeze_all.clicked.connect(lambda: self._freeze_selection(False))
        self.unfreeze_all.clicked.connect(lambda: self._freeze_selection(True))
        multi_page = QWidget()
        buttons = QHBoxLayout()
        buttons.setContentsMargins(10, 0, 10, 0)
        buttons.addWidget(self.freeze_all)
        buttons.addWidget(self.unfreeze_all)
        buttons.addStretch(1)
        multi_layout = QVBoxLayout(multi_page)
        multi_layout.setContentsMargins(0, 0, 0, 0)
        multi_layout.addWidget(self.multi)
        multi_layout.addLayout(buttons)
        multi_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.form)
        self.block_page = BlockPage(document)
        self.stack = QStackedWidget(self)
        for page in (overview_scroll, scroll, multi_page, self.block_page):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.overview.summaryWanted.connect(self.summaryWanted)
        self._selection: list[str] = []
        document.analysisChanged.connect(lambda _a: self._refresh_multi())
        document.networkChanged.connect(lambda _kind, _ids: self._refresh_multi())

    @property
    def showing(self) -> str:
        """'network', 'layer', 'several' or 'block' (for tests and automation)."""
        return ("network", "layer", "several", "block")[self.stack.currentIndex()]

    def show_block(self, block_id: str) -> None:
        """A selected block: its totals and what it holds, as a tree."""
        self.block_page.show_block(block_id)
        self.stack.setCurrentIndex(3)

    def show_selection(self, node_ids: list[str]) -> None:
        self._selection = [n for n in node_ids if n in self.document.network]
        if len(self._selection) == 1:
            self.form.show_node(self._selection[0])
            self.stack.setCurrentIndex(1)
        elif self._selection:
            self._refresh_multi()
            self.stack.setCurrentIndex(2)
        else:
            self.stack.setCurrentIndex(0)

    def focus_form(self) -> None:
        """Put the keyboard in the first parameter of the shown layer (double-click on a layer)."""
        dock = self.parentWidget()
        if dock is not None and not dock.isVisible():
            dock.show()
            dock.raise_()  # in front of the panels it shares a tab bar with
        if self.showing == "layer":
            self.form.focus_first()

    def _refresh_multi(self) -> None:
        if len(self._selection) < 2:
            return
        layers = self.document.analysis().layers
        chosen = [layers[n] for n in self._selection if n in layers]
        total = sum(i.params for i in chosen)
        frozen = sum(i.non_trainable for i in chosen)
        names = ", ".join(self._selection[:12]) + (" …" if len(self._selection) > 12 else "")
        self.multi.setText(
            f"<b>{len(self._selection)} layers selected</b><br>{names}<br><br>"
            f"Parameters in the selection: <b>{total:,}</b> ({total - frozen:,} trainable, {frozen:,} "
            "non-trainable)<br><br>"
            "Select a single layer to edit its parameters."
        )
        network = self.document.network
        states = [is_frozen(network, n) for n in self._selection if n in network]
        self.freeze_all.setEnabled(not all(states))
        self.unfreeze_all.setEnabled(any(states))

    def _freeze_selection(self, trainable: bool) -> None:
        """Freeze (or unfreeze) every selected layer, as one undoable step."""
        network = self.document.network
        items = [n for n in self._selection if n in network and is_frozen(network, n) == trainable]
        if items:
            self.document.push(FreezeCommand(network, items, trainable))
