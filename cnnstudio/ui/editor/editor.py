"""The network editor: the canvas plus the editing operations the menus and palette call.

Every operation builds one undo command and pushes it on the document; the
scene then redraws from the network's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from cnnstudio.core import blocks, fragments
from cnnstudio.core.backbone_input import is_backbone
from cnnstudio.core.catalog import CATALOG, get_spec

from ..document import ProjectDocument
from . import clipboard
from .backbone_drop import BackbonePlacing
from .block_edits import BlockEditing
from .commands import (
    AddNodesCommand,
    BlocksCommand,
    ConnectCommand,
    InsertCommand,
    MacroCommand,
    MoveCommand,
    NudgeCommand,
    RemoveCommand,
)
from .items import GRID
from .layout import H_GAP, NODE_HEIGHT, NODE_WIDTH, V_GAP, layout_positions
from .rules import reconnection
from .scene import NetworkScene
from .search import LayerSearch
from .view import CanvasView, Minimap

STEP = NODE_HEIGHT + V_GAP
JUMP_ZOOM = 0.75  # a layer found is shown at least this large: its settings readable
PASTE_OFFSET = (40.0, 40.0)


class NetworkEditor(BlockEditing, BackbonePlacing, QWidget):
    """Canvas + operations: add, insert, append, delete, copy/paste, auto-layout, zoom."""

    selectionChanged = Signal(list)  # selected layer ids
    message = Signal(str, str)  # severity ("info", "warning", "error"), text

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene = NetworkScene(document, self)
        self.view = CanvasView(self.scene, self)
        self.minimap = Minimap(self.view, self)
        self.search = LayerSearch(lambda: self.network, self)
        self.search.chosen.connect(self.go_to_layer)
        self.context_actions: dict[str, Sequence[QAction | None]] = {}
        self.context_position: QPointF | None = None
        self._paste_count = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.scene.selectedNodesChanged.connect(self.selectionChanged)
        self.scene.connectionRefused.connect(lambda text: self.message.emit("warning", text))
        self.scene.plan_connection = self.backbone_connection  # a backbone is fed through what it needs
        self.view.layerDropped.connect(self._on_drop)
        self.view.nudged.connect(self.nudge)
        self.view.contextMenuAt.connect(self._context_menu)
        document.projectReplaced.connect(self.fit_on_open)
        self.view.zoomChanged.connect(self._update_minimap)
        self.view.horizontalScrollBar().valueChanged.connect(self._update_minimap)
        self.view.verticalScrollBar().valueChanged.connect(self._update_minimap)
        self._minimap_timer = QTimer(self, singleShot=True, interval=80)  # the scene changes in bursts
        self._minimap_timer.timeout.connect(self._update_minimap)
        self.scene.changed.connect(lambda _rects: self._minimap_timer.start())

    @property
    def network(self):
        return self.document.network

    # ------------------------------------------------------------------ selection
    def selected_ids(self) -> list[str]:
        return self.scene.selected_node_ids()

    def select(self, node_ids: list[str], center: bool = False) -> None:
        self.scene.select_nodes(node_ids)
        if center and node_ids and node_ids[0] in self.scene.nodes:
            self.view.ensureVisible(self.scene.nodes[node_ids[0]], 60, 60)

    def find_layer(self) -> None:
        """Open the search field over the canvas (Ctrl+F)."""
        self.search.open()
        self._place_search()

    def go_to_layer(self, node_id: str) -> None:
        """Select ``node_id`` and bring it into the middle of the canvas, large enough to read (opening
        the folded blocks around it)."""
        if node_id not in self.scene.nodes:
            return
        self.reveal(node_id)
        self.select([node_id])
        if self.view.zoom() < JUMP_ZOOM:
            self.view.zoom_by(JUMP_ZOOM / self.view.zoom())
        self.view.centerOn(self.scene.nodes[node_id])
        self.view.setFocus()
        self.message.emit("info", f"Found {node_id} ({self.network.node(node_id).type})")

    def select_all(self) -> None:
        self.scene.select_nodes(list(self.network.nodes), list(self.scene.edges))

    # ------------------------------------------------------------------ adding layers
    def new_node(self, type_name: str, position: tuple[float, float]) -> dict[str, Any]:
        spec = get_spec(type_name)
        return {
            "id": self.network.unique_id(type_name),
            "type": type_name,
            "params": spec.initial_params(),
            "position": [position[0], position[1]],
        }

    def add_layer(
        self,
        type_name: str,
        position: QPointF | tuple[float, float] | None = None,
        edge: tuple[str, str] | None = None,
    ) -> str:
        """Add a layer where it was dropped; dropped on a connection, it is inserted there."""
        if position is None:
            position = self._free_spot(self._below_everything())
        elif isinstance(position, QPointF):
            position = (position.x(), position.y())
        position = self._snap(position)
        if is_backbone(type_name):  # it gets what its input needs before it (and a head, on its own)
            on_edge = edge is not None and edge in self.network.edges
            placed = self.place_backbone(type_name, position, source=edge[0] if on_edge else None,
                                         targets=[edge[1]] if on_edge else None, loose=not on_edge)
            if placed is not None:
                return placed
        if edge is not None and CATALOG[type_name].max_inputs != 0 and edge in self.network.edges:
            above, below = self.network.node(edge[0]).position, self.network.node(edge[1]).position
            moves = {}
            if above is not None and below is not None and below[1] - above[1] < 2 * STEP:
                # between neighbouring rows: in line under the layer that feeds it, the rest pushed down
                position = self._snap((above[0], above[1] + STEP))
                moves = self._make_room([edge[1]], position[1])
            else:  # a long connection has room along it: where it was dropped, clear of other layers
                position = self._snap(self._free_spot(position))
            node = self.new_node(type_name, position)
            command = InsertCommand(
                self.network,
                node,
                edge[0],
                [edge[1]],
                moves,
                text=f"Insert {type_name} between {edge[0]} and {edge[1]}",
            )
        else:
            node = self.new_node(type_name, position)
            command = AddNodesCommand(self.network, [node], text=f"Add {type_name}")
        self.document.push(command)
        self.select([node["id"]])
        return node["id"]

    def append_layer(self, type_name: str) -> str:
        """Add a layer after the selected one (or after the network's only output),
        splicing it in when that layer already feeds exactly one other."""
        anchor = self._append_anchor()
        takes_input = CATALOG[type_name].max_inputs != 0
        if anchor is None or not takes_input:
            return self.add_layer(type_name)
        ax, ay = self.network.node(anchor).position or (0.0, 0.0)
        position = (ax, ay + STEP)
        outputs = self.network.outputs_of(anchor)
        targets = outputs if len(outputs) == 1 else []
        if is_backbone(type_name):
            return self.place_backbone(type_name, position, source=anchor, targets=targets)
        moves = self._make_room(targets, position[1]) if targets else {}
        if not targets:
            position = self._free_spot(position)
        node = self.new_node(type_name, self._snap(position))
        text = f"Insert {type_name} after {anchor}" if targets else f"Append {type_name} after {anchor}"
        self.document.push(InsertCommand(self.network, node, anchor, targets, moves, text=text))
        self.select([node["id"]], center=True)
        return node["id"]

    def _append_anchor(self) -> str | None:
        selected = self.selected_ids()
        if selected:
            return selected[-1]
        outputs = self.network.output_nodes()
        return outputs[0] if len(outputs) == 1 else None

    def _make_room(self, starts: list[str], top: float) -> dict[str, Any]:
        """Moves that push everything downstream of ``starts`` one row down, if it is in the way."""
        seen, stack = set(), list(starts)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.network.outputs_of(current))
        moves = {}
        for node_id in seen:
            position = self.network.node(node_id).position
            if position is not None and position[1] >= top - NODE_HEIGHT / 2:
                moves[node_id] = (position, (position[0], position[1] + STEP))
        return moves

    def _below_everything(self) -> tuple[float, float]:
        positions = [n.position for n in self.network if n.position is not None]
        if not positions:
            return (0.0, 0.0)
        return (min(p[0] for p in positions), max(p[1] for p in positions) + STEP)

    def _free_spot(self, position: tuple[float, float]) -> tuple[float, float]:
        x, y = position
        occupied = [n.position for n in self.network if n.position is not None]
        while any(
            abs(px - x) < NODE_WIDTH + H_GAP / 2 and abs(py - y) < NODE_HEIGHT + V_GAP / 2
            for px, py in occupied
        ):
            x += NODE_WIDTH + H_GAP
        return (x, y)

    def _snap(self, position: tuple[float, float]) -> tuple[float, float]:
        if not self.scene.snap_to_grid:
            return (float(position[0]), float(position[1]))
        return (round(position[0] / GRID) * GRID, round(position[1] / GRID) * GRID)

    def _on_drop(self, type_name: str, position: QPointF, edge: tuple[str, str] | None) -> None:
        if type_name in CATALOG:
            self.add_layer(type_name, position, edge)

    # ------------------------------------------------------------------ removing
    def delete_selection(self, reconnect: bool = True) -> bool:
        """Delete the selected layers and connections. ``reconnect``: join what fed the layers
        to what they fed, where the shapes allow it (else say why not and leave the gap). A selected
        block goes with all its layers."""
        nodes, edges = self.selected_ids(), self.scene.selected_edges()
        chosen_blocks = self.scene.selected_block_ids()
        for block_id in chosen_blocks:
            nodes += [n for n in blocks.layers_in(self.network, block_id) if n not in nodes]
        if not nodes and not edges:
            return False
        count = len(nodes) + len([e for e in edges if e[0] not in nodes and e[1] not in nodes])
        text = (
            f"Delete {self.network.blocks[chosen_blocks[0]].name}"
            if len(chosen_blocks) == 1 and set(nodes) == set(blocks.layers_in(self.network, chosen_blocks[0]))
            else f"Delete {nodes[0]}"
            if nodes and count == 1
            else "Delete Connection"
            if count == 1
            else f"Delete {count} Items"
        )
        plan, why = reconnection(self.network, nodes) if reconnect and nodes else ([], None)
        steps = [*self._blocks_going(nodes, chosen_blocks), RemoveCommand(self.network, nodes, edges, text)]
        steps += [ConnectCommand(self.network, src, dst, index) for src, dst, index in plan]
        self.document.push(steps[0] if len(steps) == 1 else MacroCommand(text, steps))
        if why and not plan:
            self.message.emit("info", f"{text}: its neighbours were left unconnected because {why}")
        return True

    def _blocks_going(self, nodes: list[str], block_ids: list[str]) -> list[BlocksCommand]:
        """The undo step taking away the blocks deleted with these layers (none when no block goes)."""
        before = blocks.blocks_state(self.network)
        after = fragments.blocks_without(self.network, nodes, block_ids)
        return [BlocksCommand(self.network, before, after, "Delete Blocks")] if after != before else []

    def disconnect(self, src: str, dst: str) -> None:
        self.document.push(RemoveCommand(self.network, (), [(src, dst)], f"Disconnect {src} from {dst}"))

    # ------------------------------------------------------------------ clipboard
    def _selected_fragment(self) -> dict[str, Any] | None:
        """The selected layers and blocks (each with its layers, connections and nested blocks)."""
        nodes, chosen_blocks = self.selected_ids(), self.scene.selected_block_ids()
        if not nodes and not chosen_blocks:
            return None
        data = fragments.fragment(self.network, nodes, chosen_blocks)
        return data if data["nodes"] else None

    def copy_selection(self) -> bool:
        data = self._selected_fragment()
        if data is None:
            return False
        QGuiApplication.clipboard().setMimeData(clipboard.to_mime(data))
        self._paste_count = 0
        return True

    def cut_selection(self) -> bool:
        data = self._selected_fragment()
        if data is None or not self.copy_selection():
            return False
        nodes = [n["id"] for n in data["nodes"]]
        steps = [*self._blocks_going(nodes, self.scene.selected_block_ids()),
                 RemoveCommand(self.network, nodes, (), "Cut")]
        self.document.push(steps[0] if len(steps) == 1 else MacroCommand("Cut", steps))
        return True

    def can_paste(self) -> bool:
        return clipboard.from_mime(QGuiApplication.clipboard().mimeData()) is not None

    def paste(self, at: QPointF | None = None) -> list[str]:
        data = clipboard.from_mime(QGuiApplication.clipboard().mimeData())
        if data is None:
            self.message.emit("info", "Nothing to paste: copy some layers first")
            return []
        if at is not None:
            center = _fragment_center(data)
            offset = (at.x() - center[0], at.y() - center[1])
        else:
            self._paste_count += 1
            offset = (PASTE_OFFSET[0] * self._paste_count, PASTE_OFFSET[1] * self._paste_count)
        return self._add_fragment(data, offset, "Paste")

    def duplicate_selection(self) -> list[str]:
        data = self._selected_fragment()
        if data is None:
            return []
        offset = PASTE_OFFSET
        if data.get("blocks"):  # a block's copy goes beside it, as a repeat's does, not over it
            xs = [float((n.get("position") or (0.0, 0.0))[0]) for n in data["nodes"]]
            offset = (max(xs) - min(xs) + NODE_WIDTH + H_GAP, 0.0)
        return self._add_fragment(data, offset, "Duplicate")

    def _add_fragment(self, data: dict[str, Any], offset: tuple[float, float], text: str) -> list[str]:
        """Add copied layers (and their blocks, at the top level) as one undo step; select what was added."""
        nodes, edges, groups = fragments.paste_plan(self.network, data, offset)
        for node in nodes:
            node["position"] = list(self._snap(node["position"]))
        top_layers, top_blocks = fragments.top_items(nodes, groups)
        if len(top_blocks) == 1 and not top_layers:
            count = " " + next(g["name"] for g in groups if g["id"] == top_blocks[0])
        else:
            count = f" {len(nodes)} Layers" if len(nodes) > 1 else f" {nodes[0]['id']}"
        add = AddNodesCommand(self.network, nodes, edges, text + count)
        if groups:
            before = blocks.blocks_state(self.network)
            self.document.push(MacroCommand(text + count, [
                add, BlocksCommand(self.network, before, before + groups, text + count)]))
        else:
            self.document.push(add)
        self.scene.select_nodes(top_layers, block_ids=top_blocks)
        return add.node_ids

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the selected layers by (dx, dy); repeated presses are one undo step."""
        moves = {}
        for node_id in self.selected_ids():
            old = self.network.node(node_id).position or (0.0, 0.0)
            moves[node_id] = (old, (old[0] + dx, old[1] + dy))
        if not moves:
            return False
        self.document.push(NudgeCommand(self.network, moves, "Move"))
        return True

    # ------------------------------------------------------------------ layout and zoom
    def auto_layout(self) -> None:
        positions = layout_positions(self.network)
        moves = {}
        for node_id, new in positions.items():
            old = self.network.node(node_id).position
            if old is None or abs(old[0] - new[0]) > 0.01 or abs(old[1] - new[1]) > 0.01:
                moves[node_id] = (old, new)
        if moves:
            self.document.push(MoveCommand(self.network, moves, "Auto-Layout"))
        self.zoom_to_fit()

    def zoom_in(self) -> None:
        self.view.zoom_in()

    def zoom_out(self) -> None:
        self.view.zoom_out()

    def zoom_to_fit(self, readable: bool = False) -> None:
        self.view.zoom_to_fit(readable)

    def fit_on_open(self) -> None:
        """The whole network in view (readable), also once the window has settled in size."""
        self.view.zoom_to_fit(readable=True, keep_fitting=True)

    def reset_zoom(self) -> None:
        self.view.reset_zoom()

    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Show the network read-only: no moving, wiring or dropping, and a banner saying why."""
        if not hasattr(self, "_lock_banner"):
            self._lock_banner = QLabel(self)
            self._lock_banner.setObjectName("lockBanner")
            self._lock_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._lock_banner.setStyleSheet(
                "QLabel#lockBanner { background: rgba(200, 120, 0, 215); color: white; font-weight: bold;"
                " padding: 6px 14px; border-radius: 6px; }")
        self.view.setInteractive(not locked)
        self.view.setAcceptDrops(not locked)
        self._lock_banner.setText(f"\N{LOCK}  Read-only: {reason}" if reason else "\N{LOCK}  Read-only")
        self._lock_banner.adjustSize()
        self._lock_banner.setVisible(locked)
        self._place_lock_banner()

    def _place_lock_banner(self) -> None:
        banner = getattr(self, "_lock_banner", None)
        if banner is not None:
            banner.move(max(8, (self.width() - banner.width()) // 2), 10)
            banner.raise_()

    def set_minimap_visible(self, visible: bool) -> None:
        self._minimap_wanted = visible
        self._update_minimap()

    def _update_minimap(self, *_: object) -> None:
        show = getattr(self, "_minimap_wanted", True) and self.minimap.needed()
        if show != self.minimap.isVisible():
            self.minimap.setVisible(show)
        if show:
            self._place_minimap()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_search()
        self._place_minimap()
        self._place_lock_banner()
        self._update_minimap()

    def _place_search(self) -> None:
        margin = 12
        bar = self.view.verticalScrollBar()
        width = min(self.search.sizeHint().width() + 80, self.width() - 2 * margin)
        self.search.setFixedWidth(max(120, width))
        self.search.move(self.width() - margin - self.search.width() - (bar.width() if bar.isVisible() else 0), margin)

    def _place_minimap(self) -> None:
        margin = 12
        bar = self.view.verticalScrollBar()
        right = self.width() - margin - (bar.width() if bar.isVisible() else 0)
        hbar = self.view.horizontalScrollBar()
        bottom = self.height() - margin - (hbar.height() if hbar.isVisible() else 0)
        place = QPoint(right - self.minimap.width(), bottom - self.minimap.height())
        if place != self.minimap.pos():
            self.minimap.move(place)
            self.minimap.raise_()

    # ------------------------------------------------------------------ context menu
    def _context_menu(self, scene_pos: QPointF, global_pos) -> None:
        node = self.scene.node_at(scene_pos)
        edge = self.scene.edge_at(scene_pos)
        block = self.scene.block_at(scene_pos)
        if block is not None:
            if not block.isSelected():
                self.scene.select_nodes([], block_ids=[block.block_id])
            kind = "block"
        elif node is not None:
            if not node.isSelected():
                self.select([node.node_id])
            kind = "node"
        elif edge is not None:
            self.scene.select_nodes([], [edge.key])
            kind = "edge"
        else:
            kind = "canvas"
        actions = self.context_actions.get(kind, ())
        if not actions:
            return
        menu = QMenu(self)
        for action in actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        self.context_position = scene_pos
        try:
            menu.exec(global_pos)
        finally:
            self.context_position = None
            menu.deleteLater()


def _fragment_center(data: dict[str, Any]) -> tuple[float, float]:
    points = [n.get("position") or (0.0, 0.0) for n in data["nodes"]]
    rect = QRectF()
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    rect = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return (rect.center().x(), rect.center().y())
