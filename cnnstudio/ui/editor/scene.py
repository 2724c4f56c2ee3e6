"""The canvas scene: one item per layer and per connection, redrawn from the model's events.

The scene turns mouse gestures (drag a port to connect, drag layers to move
them) into undo commands; it changes its items only when the network says
something changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPen, QUndoCommand
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsSceneMouseEvent, QToolTip

from cnnstudio.core import blocks
from cnnstudio.core.analysis import Analysis
from cnnstudio.core.catalog import dims_text

from ..document import ProjectDocument
from ..theme import canvas_colors
from .block_items import BlockFrameItem, BlockNodeItem
from .block_view import BlockView
from .commands import BlocksCommand, ConnectCommand, MoveCommand
from .items import GRID, EdgeItem, NodeItem, PortItem, connection_path
from .layout import NODE_HEIGHT, V_GAP
from .rules import connection_problem


class _ConnectionDrag:
    """A connection being drawn from a port, with the layer it would join and why not."""

    def __init__(self, port: PortItem, line: QGraphicsPathItem) -> None:
        self.port = port
        self.line = line
        self.target: NodeItem | None = None
        self.problem: str | None = None

    def ends(self) -> tuple[str, str] | None:
        if self.target is None:
            return None
        origin = self.port.node.node_id
        return (self.target.node_id, origin) if self.port.is_input else (origin, self.target.node_id)

    def target_port(self) -> PortItem | None:
        if self.target is None:
            return None
        return self.target.output_port if self.port.is_input else self.target.input_port


class NetworkScene(QGraphicsScene):
    """Draws a ``ProjectDocument``'s network and turns gestures into commands."""

    connectionRefused = Signal(str)
    selectedNodesChanged = Signal(list)
    nodeActivated = Signal(str)  # double-click on a layer
    blocksSelected = Signal(list)  # the blocks selected (collapsed nodes, frames' labels)

    def __init__(self, document: ProjectDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.colors = canvas_colors()
        self.snap_to_grid = True
        self.show_shapes = False
        self.applying_model = False
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self._shown_infos: dict = {}  # layer id -> the analysis result its item shows
        self._press_positions: dict[str, QPointF] = {}
        self._drag: _ConnectionDrag | None = None
        self._rebuilding = False
        self._nodes_rect: QRectF | None = None
        self.layout_version = 0  # counts moves, additions and removals of layers
        self._rect_timer = QTimer(self, singleShot=True, interval=60)
        self._rect_timer.timeout.connect(self.update_scene_rect)
        self.block_view = BlockView(self)
        self._blocks_timer = QTimer(self, singleShot=True, interval=0)  # moves come in bursts
        self._blocks_timer.timeout.connect(self.block_view.apply)
        self._block_presses: dict[str, QPointF] = {}
        self.plan_connection: Callable[[str, str], QUndoCommand | None] | None = None  # the editor's, if any
        document.networkChanged.connect(self._on_network_changed)
        document.analysisChanged.connect(self._apply_analysis)
        document.projectReplaced.connect(self.rebuild)
        self.selectionChanged.connect(self._emit_selection)
        self.rebuild()

    # ------------------------------------------------------------------ queries
    @property
    def network(self):
        return self.document.network

    def selected_node_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [n for n in self.network.nodes if n in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [i.key for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item.node
            if isinstance(item, NodeItem):
                return item
        return None

    def selected_block_ids(self) -> list[str]:
        chosen = {i.block_id for i in self.selectedItems() if isinstance(i, (BlockNodeItem, BlockFrameItem))}
        return [b for b in self.network.blocks if b in chosen]

    def block_at(self, pos: QPointF) -> BlockNodeItem | BlockFrameItem | None:
        """The collapsed block, or the label of the expanded block, under ``pos``."""
        for item in self.items(pos):
            if isinstance(item, (BlockNodeItem, BlockFrameItem)):
                return item
            if isinstance(item, (NodeItem, PortItem)):
                return None
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The connection under ``pos`` (a layer lying on top wins: then None)."""
        for item in self.items(pos):
            if isinstance(item, (NodeItem, PortItem)):
                return None
            if isinstance(item, EdgeItem):
                return item
        return None

    def nodes_rect(self) -> QRectF:
        """The rectangle holding every layer box (cached until a layer is added, removed or moved)."""
        if self._nodes_rect is None:
            shown = [i for i in self.nodes.values() if i.isVisible()] + list(self.block_view.nodes.values())
            if not shown:
                return QRectF()
            xs = [item.pos().x() for item in shown]
            ys = [item.pos().y() for item in shown]
            box = next(iter(self.nodes.values())).boundingRect()
            self._nodes_rect = QRectF(
                min(xs) + box.left(),
                min(ys) + box.top(),
                max(xs) - min(xs) + box.width(),
                max(ys) - min(ys) + box.height(),
            )
        return QRectF(self._nodes_rect)

    def geometry_changed(self) -> None:
        """A layer moved, appeared or went: the cached extent (and the minimap's picture) is stale."""
        self._nodes_rect = None
        self.layout_version += 1

    # ------------------------------------------------------------------ selection
    def select_nodes(self, node_ids: list[str], edges: list[tuple[str, str]] = (), block_ids: list[str] = ()) -> None:
        self._rebuilding = True  # one selection signal at the end, not one per item
        try:
            self.clearSelection()
            for block_id in block_ids:
                item = self.block_view.item_of(block_id)
                if item is not None:
                    item.setSelected(True)
            for node_id in node_ids:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
            for key in edges:
                if key in self.edges:
                    self.edges[key].setSelected(True)
        finally:
            self._rebuilding = False
        self._emit_selection()

    def _emit_selection(self) -> None:
        if not self._rebuilding:
            self.selectedNodesChanged.emit(self.selected_node_ids())
            self.blocksSelected.emit(self.selected_block_ids())

    # ------------------------------------------------------------------ model -> items
    def rebuild(self) -> None:
        """Recreate every item (a new project or a replaced network)."""
        self._rebuilding = True
        try:
            self.clear()
            self.block_view.clear()
            self.block_view.prepare()  # layers are made where the folded blocks put them
            self._shown_infos = {}
            self.geometry_changed()
            self.nodes.clear()
            self.edges.clear()
            for node in self.network:
                self._add_node_item(node.id)
            inputs: dict[str, list[str]] = {}
            for src, dst in self.network.edges:  # one pass: asking each layer for its inputs is quadratic
                self._add_edge_item(src, dst, draw=False)
                inputs.setdefault(dst, []).append(src)
            self.block_view.apply(draw=False)  # the connections are drawn just below
            for node_id, sources in inputs.items():
                self.nodes[node_id].sort_inputs(sources)  # draws its connections, once each
        finally:
            self._rebuilding = False
        self._apply_analysis(self.document.analysis())
        self.update_scene_rect()
        self._emit_selection()

    def _on_network_changed(self, kind: str, ids: list[str]) -> None:
        if kind == "reset":
            self.rebuild()
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(*ids)
        if kind == "blocks":
            self._blocks_timer.stop()
            self.block_view.apply()
            self.block_view.set_analysis(self.document.analysis())
        elif kind != "params" and self.network.blocks:
            self._blocks_timer.start()
        if kind != "params":
            self._rect_timer.start()

    def _on_node_added(self, node_id: str) -> None:
        self._add_node_item(node_id)

    def _on_node_removed(self, node_id: str) -> None:
        item = self.nodes.pop(node_id, None)
        if item is None:
            return
        for key in [k for k in self.edges if node_id in k]:
            self._remove_edge_item(*key)
        self.removeItem(item)
        self.geometry_changed()

    def _on_params(self, node_id: str) -> None:
        if node_id in self.nodes:
            self.nodes[node_id].set_node(self.network.node(node_id))

    def _on_moved(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        position = self.network.node(node_id).position
        if position is not None:
            position = (position[0], self.block_view.shown_y(position[1]))
        if item is not None and position is not None and (item.pos().x(), item.pos().y()) != position:
            self.applying_model = True
            try:
                item.setPos(*position)
            finally:
                self.applying_model = False

    def _on_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old, None)
        if item is None:
            return
        self.nodes[new] = item
        item.set_node(self.network.node(new))
        for key in [k for k in self.edges if old in k]:
            edge = self.edges.pop(key)
            self.edges[edge.key] = edge
            edge.setToolTip(f"{edge.src_id} \u2192 {edge.dst_id}")
        for edge in item.edges_out:
            edge.dst.sort_inputs(self.network.inputs_of(edge.dst_id))

    def _on_edge_added(self, src: str, dst: str) -> None:
        self._add_edge_item(src, dst)
        self.nodes[dst].sort_inputs(self.network.inputs_of(dst))

    def _on_edge_removed(self, src: str, dst: str) -> None:
        self._remove_edge_item(src, dst)
        if dst in self.nodes:
            self.nodes[dst].sort_inputs(self.network.inputs_of(dst))

    def _add_node_item(self, node_id: str) -> NodeItem:
        self._shown_infos.pop(node_id, None)  # a new item shows nothing yet, whatever the last one showed
        node = self.network.node(node_id)
        item = NodeItem(node)
        position = node.position
        if position is None:
            bottom = max((i.pos().y() for i in self.nodes.values()), default=-(NODE_HEIGHT + V_GAP))
            position = (0.0, bottom + NODE_HEIGHT + V_GAP)
        else:
            position = (position[0], self.block_view.shown_y(position[1]))
        self.applying_model = True
        try:
            item.setPos(*position)
        finally:
            self.applying_model = False
        if node_id in self.block_view.hidden:
            item.setVisible(False)
        self.addItem(item)
        self.nodes[node_id] = item
        self.geometry_changed()
        return item

    def _add_edge_item(self, src: str, dst: str, draw: bool = True) -> None:
        if (src, dst) in self.edges:
            return
        edge = EdgeItem(self.nodes[src], self.nodes[dst])
        self.nodes[src].edges_out.append(edge)
        self.nodes[dst].edges_in.append(edge)
        self.addItem(edge)
        self.edges[(src, dst)] = edge
        edge.show_shape(self.show_shapes)
        if draw:
            edge.update_path()

    def _remove_edge_item(self, src: str, dst: str) -> None:
        edge = self.edges.pop((src, dst), None)
        if edge is None:
            return
        if edge in edge.src.edges_out:
            edge.src.edges_out.remove(edge)
        if edge in edge.dst.edges_in:
            edge.dst.edges_in.remove(edge)
        self.removeItem(edge)

    def _apply_analysis(self, analysis: Analysis) -> None:
        """Only the layers the analysis looked at again (it hands back the others' own results)."""
        shown, self._shown_infos = self._shown_infos, dict(analysis.layers)
        for node_id, item in self.nodes.items():
            info = analysis.layers.get(node_id)
            if info is None or info is not shown.get(node_id):
                item.set_info(info)
        self.block_view.set_analysis(analysis)
        for (src, _), edge in self.edges.items():
            info = analysis.layers.get(src)
            if info is None or info is not shown.get(src) or not edge.shape_text:
                edge.set_shape_text(
                    dims_text(info.output_shape) if info and info.output_shape is not None else ""
                )

    def update_scene_rect(self) -> None:
        """Leave generous room around the layers for panning and dropping."""
        rect = self.nodes_rect()
        if rect.isNull():
            rect = QRectF(-400, -300, 800, 600)
        self.setSceneRect(rect.adjusted(-1200, -900, 1200, 900))

    # ------------------------------------------------------------------ display options
    def set_show_shapes(self, show: bool) -> None:
        self.show_shapes = show
        for edge in self.edges.values():
            edge.show_shape(show)

    def refresh_colors(self) -> None:
        self.colors = canvas_colors()
        for item in self.items():
            item.update()
        self.invalidate(self.sceneRect(), QGraphicsScene.SceneLayer.BackgroundLayer)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, self.colors.background)
        scale = painter.worldTransform().m11()
        for step, color, minimum in ((GRID, self.colors.grid, 9.0), (GRID * 5, self.colors.grid_major, 6.0)):
            if step * scale < minimum:
                continue
            painter.setPen(QPen(color, 0))
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            x = left
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = top
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step

    # ------------------------------------------------------------------ gestures
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.items(event.scenePos())
            port = next((i for i in hit if isinstance(i, PortItem)), None)
            if port is not None and (not hit or hit[0] is port or isinstance(hit[0], PortItem)):
                self._start_connection(port, event.scenePos())
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_positions = {i.node_id: i.pos() for i in self.selectedItems() if isinstance(i, NodeItem)}
        self._block_presses = {i.block_id: i.pos() for i in self.selectedItems() if isinstance(i, BlockNodeItem)}

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._update_connection(event.scenePos(), event.screenPos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._drag is not None:
            self._update_connection(event.scenePos(), None)
            self._finish_connection()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        block = self.block_at(event.scenePos())
        if block is not None and event.button() == Qt.MouseButton.LeftButton:
            self.fold_requested(block.block_id, isinstance(block, BlockFrameItem))
            event.accept()
            return
        node = self.node_at(event.scenePos())
        if node is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select_nodes([node.node_id])
            self.nodeActivated.emit(node.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def fold_requested(self, block_id: str, collapsed: bool) -> None:
        """Fold (collapsed) or open a block through the undo stack."""
        block = self.network.blocks.get(block_id)
        if block is None or block.collapsed == collapsed:
            return
        self.document.push(BlocksCommand.fold(self.network, block_id, collapsed))

    def _commit_moves(self) -> None:
        moves: dict[str, Any] = {}
        for node_id, before in self._press_positions.items():
            item = self.nodes.get(node_id)
            if item is not None and item.pos() != before:
                old = self.network.node(node_id).position
                moves[node_id] = (old, (item.pos().x(), self.block_view.saved_y(item.pos().y())))
        for block_id, before in self._block_presses.items():  # a folded block moves all its layers
            item = self.block_view.nodes.get(block_id)
            if item is None or item.pos() == before or block_id not in self.network.blocks:
                continue
            dx, dy = item.pos().x() - before.x(), item.pos().y() - before.y()
            if self.snap_to_grid:  # its layers stay on the grid
                dx, dy = round(dx / GRID) * GRID, round(dy / GRID) * GRID
            for node_id in blocks.layers_in(self.network, block_id):
                old = self.network.node(node_id).position
                if old is not None:
                    moves[node_id] = (old, (old[0] + dx, old[1] + dy))
        self._press_positions, self._block_presses = {}, {}
        if moves:
            text = f"Move {next(iter(moves))}" if len(moves) == 1 else f"Move {len(moves)} Layers"
            self.document.push(MoveCommand(self.network, moves, text))

    def _start_connection(self, port: PortItem, pos: QPointF) -> None:
        line = QGraphicsPathItem()
        line.setZValue(5)
        line.setPen(QPen(self.colors.edge_selected, 2, Qt.PenStyle.DashLine))
        self.addItem(line)
        self._drag = _ConnectionDrag(port, line)
        self._update_connection(pos, None)

    def _update_connection(self, pos: QPointF, screen_pos) -> None:
        drag = self._drag
        assert drag is not None
        previous = drag.target_port()
        target = self.node_at(pos)
        drag.target = target if target is not drag.port.node else None
        ends = drag.ends()
        drag.problem = connection_problem(self.network, *ends) if ends else None
        port = drag.target_port()
        if previous is not None and previous is not port:
            previous.set_highlight(None)
        color = self.colors.edge_selected
        if ends is not None:
            color = self.colors.refuse if drag.problem else self.colors.accept
            if port is not None:
                port.set_highlight(color)
        anchor = drag.port.mapToScene(QPointF(0, 0))
        start, end = (pos, anchor) if drag.port.is_input else (anchor, pos)
        drag.line.setPath(connection_path(start, end))
        drag.line.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
        if screen_pos is not None:
            if drag.problem:
                QToolTip.showText(
                    screen_pos.toPoint() if hasattr(screen_pos, "toPoint") else screen_pos, drag.problem
                )
            else:
                QToolTip.hideText()

    def _finish_connection(self) -> None:
        drag, self._drag = self._drag, None
        assert drag is not None
        QToolTip.hideText()
        self.removeItem(drag.line)
        port = drag.target_port()
        if port is not None:
            port.set_highlight(None)
        ends = drag.ends()
        if ends is not None:
            self.connect_layers(*ends)

    def connect_layers(self, src: str, dst: str) -> bool:
        """Connect two layers through the undo stack, or say why not (connectionRefused)."""
        problem = connection_problem(self.network, src, dst)
        if problem:
            self.connectionRefused.emit(f"Cannot connect {src} to {dst}: {problem}")
            return False
        planned = self.plan_connection(src, dst) if self.plan_connection is not None else None
        self.document.push(planned or ConnectCommand(self.network, src, dst))
        return True
