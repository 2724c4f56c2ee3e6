"""Blocks on the canvas: folds collapsed blocks into one node each and frames the expanded ones.

The scene owns one ``BlockView``; after any change to the blocks, the layers or their places it
hides the layers of collapsed blocks (they stay in the network, and the canvas makes no item for
them until their block is opened: a folded network of thousands of layers opens as fast as the
few items it shows), moves the rows below up by the height the fold saves, routes the connections
of hidden layers to their block's node, and draws a labelled frame around each expanded block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from cnnstudio.core import blocks
from cnnstudio.core.analysis import Analysis

from .block_items import FRAME_MARGIN, HEADER, BlockFrameItem, BlockNodeItem
from .folding import Fold, block_totals, folded_blocks, hidden_blocks, hidden_layers
from .items import NodeItem

if TYPE_CHECKING:
    from .scene import NetworkScene


class BlockView:
    """The block items of one scene and the fold that places the layers."""

    def __init__(self, scene: NetworkScene) -> None:
        self.scene = scene
        self.fold = Fold()
        self.hidden: dict[str, str] = {}  # layer id -> the collapsed block hiding it (it has no item)
        self.layers: dict[str, list[str]] = {}  # block id -> its layers, as of the last fold
        self.nodes: dict[str, BlockNodeItem] = {}  # collapsed blocks shown
        self.frames: dict[str, BlockFrameItem] = {}  # expanded blocks shown
        self.infos: dict[str, blocks.BlockInfo] = {}
        self._anchors: dict[str, tuple[float, float]] = {}  # folded block -> where its node goes
        self._held: dict[str, str] = {}  # member -> the block holding it
        self._inside: set[str] = set()  # blocks inside a folded one (not drawn)

    def shown_y(self, y: float) -> float:
        return self.fold.shown(y)

    def saved_y(self, y: float) -> float:
        return self.fold.saved(y)

    def fold_of(self, layer_id: str) -> str | None:
        """The outermost folded block holding a layer (None when it is shown); right also for a layer put back
        by undo since the last fold (a deleted layer stays listed in its block)."""
        found, owner, steps = None, self._held.get(layer_id), 0
        while owner is not None and owner in self.scene.network.blocks and steps <= len(self._held):
            if self.scene.network.blocks[owner].collapsed:
                found = owner
            owner, steps = self._held.get(owner), steps + 1
        return found

    def renamed(self, old: str, new: str) -> None:
        """A layer took another id: it stays where it was in the fold (until the fold is worked out again)."""
        for where in (self._held, self.hidden):
            if old in where:
                where[new] = where.pop(old)

    def stand_in(self, layer_id: str) -> BlockNodeItem | None:
        """The folded block's node drawn for a hidden layer (None when the layer is shown)."""
        return self.nodes.get(self.fold_of(layer_id) or "")

    def clear(self) -> None:
        """Forget the items (the scene was cleared)."""
        self.nodes.clear()
        self.frames.clear()
        self.hidden, self.layers, self._held, self._inside = {}, {}, {}, set()
        self.fold = Fold()

    def prepare(self) -> list[str]:
        """Work out the fold from the network (before the layers' items are made, so that they are
        made in place, and only for the layers shown); the folded blocks shown."""
        network = self.scene.network
        if not network.blocks:
            self.clear()
            self._anchors = {}
            return []
        self._held = blocks.parents(network)
        self.layers = blocks.layers_by_block(network)
        folded = folded_blocks(network, self._held)
        self.hidden = hidden_layers(folded, self.layers)
        self._inside = hidden_blocks(network, folded, self._held)
        exits = self._first_exits(folded)
        spans, anchors = [], {}
        for block_id in folded:
            placed = [p for p in (network.nodes[n].position for n in self.layers[block_id]) if p is not None]
            if not placed:
                continue
            top, bottom = min(p[1] for p in placed), max(p[1] for p in placed)
            spans.append((top, bottom))
            exit_position = network.nodes[exits[block_id]].position if block_id in exits else None
            x = exit_position[0] if exit_position is not None else sum(p[0] for p in placed) / len(placed)
            anchors[block_id] = (x, top)
        self.fold = Fold(spans)
        self._anchors = anchors
        return folded

    def _first_exits(self, folded: list[str]) -> dict[str, str]:
        """Folded block -> its first layer whose result leaves it or is an output of the network (one pass)."""
        network, hidden = self.scene.network, self.hidden
        leaving = {n for n in network.output_nodes() if n in hidden}
        for src, dst in network.edges:
            owner = hidden.get(src)
            if owner is not None and hidden.get(dst) != owner:
                leaving.add(src)
        return {b: next(n for n in self.layers[b] if n in leaving) for b in folded
                if any(n in leaving for n in self.layers[b])}

    def apply(self, draw: bool = True) -> None:
        """Fold, make or drop the layers' items, reroute and frame from the network as it is now."""
        scene, network = self.scene, self.scene.network
        chosen = [b for b, item in list(self.nodes.items()) + list(self.frames.items()) if item.isSelected()]
        for item in list(self.nodes.values()) + list(self.frames.values()):
            scene.removeItem(item)
        self.nodes.clear()
        self.frames.clear()
        folded = self.prepare()
        anchors = self._anchors
        rewired = self._sync_items()
        scene.applying_model = True
        try:
            for node_id, item in scene.nodes.items():
                position = network.nodes[node_id].position
                if position is not None:
                    wanted = (position[0], self.fold.shown(position[1]))
                    if (item.pos().x(), item.pos().y()) != wanted:
                        item.setPos(*wanted)
            for block_id in folded:
                if block_id not in anchors:
                    continue
                x, top = anchors[block_id]
                block = network.blocks[block_id]
                node = BlockNodeItem(block_id, block.name, len(self.layers[block_id]))
                node.setPos(x, self.fold.shown(top))
                node.set_info(self.infos.get(block_id))
                scene.addItem(node)
                self.nodes[block_id] = node
        finally:
            scene.applying_model = False
        self._route_edges(draw)
        self._sort_inputs(rewired)  # draws their connections
        self._frame_expanded()
        for block_id in chosen:  # the block stays selected, folded or open
            item = self.item_of(block_id)
            if item is not None:
                item.setSelected(True)
        scene.geometry_changed()

    def _sync_items(self) -> list[NodeItem]:
        """Make the items of the layers and connections the fold shows and drop those it hides (the fold
        was just worked out); the layers whose inputs changed, for ``sort_inputs``."""
        scene, hidden = self.scene, self.hidden
        for node_id in [n for n in scene.nodes if n in hidden]:
            item = scene.nodes.pop(node_id)
            if item.isSelected():  # a layer folded away leaves the selection
                item.setSelected(False)
            scene.removeItem(item)
        made = [node.id for node in scene.network if node.id not in hidden and node.id not in scene.nodes]
        for node_id in made:
            scene._add_node_item(node_id)
        rewired: dict[str, NodeItem] = {}
        for key in [k for k in scene.edges if k[0] in hidden and hidden[k[0]] == hidden.get(k[1])]:
            scene._remove_edge_item(*key)  # now inside a folded block
        for src, dst in scene.network.edges:
            if src in hidden and hidden[src] == hidden.get(dst):
                continue
            edge = scene.edges.get((src, dst))
            if edge is None:
                scene._add_edge_item(src, dst, draw=False)
            elif edge.src is not scene.nodes.get(src) or edge.dst is not scene.nodes.get(dst):
                scene._detach(edge)  # an end was made or dropped
                edge.src, edge.dst = scene.nodes.get(src), scene.nodes.get(dst)
                scene._attach(edge)
            else:
                continue
            if dst in scene.nodes:
                rewired[dst] = scene.nodes[dst]
        if made or rewired:
            scene.geometry_changed()
        return list(rewired.values())

    def _sort_inputs(self, items: list[NodeItem]) -> None:
        """Put the input ends of these layers in the network's order and draw their connections."""
        if not items:
            return
        wanted = {item.node_id for item in items}
        inputs: dict[str, list[str]] = {}
        for src, dst in self.scene.network.edges:  # one pass: asking each layer for its inputs is quadratic
            if dst in wanted:
                inputs.setdefault(dst, []).append(src)
        for item in items:
            item.sort_inputs(inputs.get(item.node_id, []))

    def _route_edges(self, draw: bool) -> None:
        """Connections to and from hidden layers are drawn to their folded block's node."""
        for edge in self.scene.edges.values():
            shown_src = edge.src or self.stand_in(edge.src_id)
            shown_dst = edge.dst or self.stand_in(edge.dst_id)
            edge.shown_src, edge.shown_dst = shown_src, shown_dst
            if shown_src is None or shown_dst is None:
                continue
            if isinstance(shown_src, BlockNodeItem):
                shown_src.edges_out.append(edge)
            if isinstance(shown_dst, BlockNodeItem):
                shown_dst.edges_in.append(edge)
            if draw or isinstance(shown_src, BlockNodeItem) or isinstance(shown_dst, BlockNodeItem):
                edge.update_path()

    def _frame_expanded(self) -> None:
        scene, network = self.scene, self.scene.network
        held = self._held
        for block_id, block in network.blocks.items():
            if block.collapsed or block_id in self.frames or block_id in self._inside:
                continue
            shown = [scene.nodes[n] for n in self.layers.get(block_id, ()) if n in scene.nodes]
            if not shown:
                continue
            rect = QRectF()
            for item in shown:
                rect = rect.united(item.mapRectToScene(item.body_rect()))
            for child in block.members:  # folded blocks inside are inside the frame too
                if child in self.nodes:
                    rect = rect.united(self.nodes[child].mapRectToScene(self.nodes[child].body_rect()))
            levels = 1 + _depth_inside(network, block_id, held)  # frames inside this one, and this one
            margin = FRAME_MARGIN * levels
            frame = BlockFrameItem(block_id, block.name,
                                   rect.adjusted(-margin, -(HEADER + 2) * levels - 4, margin, margin))
            frame.setZValue(-1 - 0.01 * _nesting(network, block_id, held))
            frame.set_info(self.infos.get(block_id))
            scene.addItem(frame)
            self.frames[block_id] = frame

    def set_analysis(self, analysis: Analysis) -> None:
        """Per-block totals for the nodes and frames (parameters, frozen part, output shape)."""
        network = self.scene.network
        self.infos = {}
        if not network.blocks:
            return

        def walk(infos: list[blocks.BlockInfo]) -> None:
            for info in infos:
                self.infos[info.id] = info
                walk(info.children)

        walk(block_totals(network, analysis))
        for block_id, item in list(self.nodes.items()) + list(self.frames.items()):
            item.set_info(self.infos.get(block_id))

    def refresh_frames(self) -> None:
        """Layers moved: the frames follow them."""
        for frame in self.frames.values():
            self.scene.removeItem(frame)
        self.frames.clear()
        self._frame_expanded()

    def item_of(self, block_id: str):
        return self.nodes.get(block_id) or self.frames.get(block_id)


def _nesting(network, block_id: str, held: dict[str, str]) -> int:
    """How deep a block lies inside others (0: at the top)."""
    depth, current = 0, held.get(block_id)
    while current is not None:
        depth, current = depth + 1, held.get(current)
    return depth


def _depth_inside(network, block_id: str, held: dict[str, str]) -> int:
    """How many levels of expanded blocks lie inside this one (outer frames get wider margins)."""
    children = [m for m in network.blocks[block_id].members if m in network.blocks]
    expanded = [c for c in children if not network.blocks[c].collapsed]
    return 1 + max((_depth_inside(network, c, held) for c in expanded), default=-1)
