"""Two networks drawn as one, read-only: the editor's layer boxes and connections, each change marked.

Layers added in run B are outlined green, removed ones red (and faded), changed ones amber;
layers whose figures moved only because of a change before them get a dashed amber outline.
A badge on each marked box says what the change does to the parameter count; its tooltip
says the rest (parameters, output and memory per image, receptive field, before and after).
Connections added are green, removed ones red and dashed. Nothing here can be edited.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from cnnstudio.core.analysis import analyze
from cnnstudio.core.diff import (
    ADDED,
    AFFECTED,
    CHANGED,
    REMOVED,
    LayerChange,
    NetworkDiff,
    bytes_text,
    shape_text,
)
from cnnstudio.core.layout import auto_layout
from cnnstudio.core.network import Network

from ..editor.items import GRID, EdgeItem, NodeItem, draw_arrow, font
from ..editor.layout import NODE_HEIGHT, NODE_WIDTH
from ..theme import canvas_colors

# What each kind of change looks like (also used by the list of changes beside the canvas).
DIFF_COLORS = {ADDED: "#2e9d47", REMOVED: "#d93636", CHANGED: "#e08e00", AFFECTED: "#e08e00"}
KIND_WORDS = {ADDED: "added", REMOVED: "removed", CHANGED: "changed", AFFECTED: "follows"}
REMOVED_OPACITY = 0.6
MIN_ZOOM, MAX_ZOOM = 0.08, 2.0


def badge_text(change: LayerChange) -> str:
    """What a box's badge says: the kind of change and its effect on the parameter count."""
    delta = change.params_delta
    effect = f" · {delta:+,} params" if delta else ""
    if change.kind == CHANGED and not delta and change.before and change.after \
            and change.before.output_shape != change.after.output_shape:
        effect = " · new shape"
    return KIND_WORDS[change.kind] + effect


def change_tooltip(change: LayerChange) -> str:
    """A change in words, then its figures before and after."""
    rows = [f"<b>{_escape(change.describe())}</b>"]
    b, a = change.before, change.after
    for title, old, new in (
            ("parameters", b and f"{b.params:,}", a and f"{a.params:,}"),
            ("output", b and shape_text(b.output_shape), a and shape_text(a.output_shape)),
            ("memory per image", b and b.memory is not None and bytes_text(b.memory),
             a and a.memory is not None and bytes_text(a.memory)),
            ("receptive field", b and shape_text(b.receptive_field), a and shape_text(a.receptive_field))):
        rows.append(f"{title}: {old or '—'} &rarr; {new or '—'}")
    return "<br>".join(rows)


class ChangeMark(QGraphicsItem):
    """The coloured outline and badge on a layer box that changed between the runs."""

    def __init__(self, node: NodeItem, change: LayerChange) -> None:
        super().__init__(node)
        self.change = change
        self.color = QColor(DIFF_COLORS[change.kind])
        self.text = badge_text(change)
        self.setZValue(4)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)  # a faded removed layer, a clear badge

    def _badge_rect(self) -> QRectF:
        metrics = QFontMetricsF(font("badge"))
        width = metrics.horizontalAdvance(self.text) + 14
        height = metrics.height() + 4
        return QRectF(NODE_WIDTH / 2 - width + 6, -NODE_HEIGHT / 2 - height / 2 - 2, width, height)

    def boundingRect(self) -> QRectF:
        body = QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT).adjusted(-6, -6, 6, 6)
        return body.united(self._badge_rect().adjusted(-2, -2, 2, 2))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        style = Qt.PenStyle.DashLine if self.change.kind == AFFECTED else Qt.PenStyle.SolidLine
        painter.setPen(QPen(self.color, 3.0, style))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)
                                .adjusted(-3, -3, 3, 3), 9, 9)
        badge = self._badge_rect()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(self.color))
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(font("badge"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.text)


class DiffEdge(EdgeItem):
    """A connection of either network: green when run B added it, red and dashed when it removed it."""

    def __init__(self, src: NodeItem, dst: NodeItem, kind: str | None) -> None:
        super().__init__(src, dst)
        self.kind = kind
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        where = {ADDED: " (added in run B)", REMOVED: " (removed in run B)"}.get(kind or "", "")
        self.setToolTip(f"{src.node_id} \u2192 {dst.node_id}{where}")

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.kind is None:
            super().paint(painter, option, widget)
            return
        color = QColor(DIFF_COLORS[self.kind])
        style = Qt.PenStyle.DashLine if self.kind == REMOVED else Qt.PenStyle.SolidLine
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 2.4, style, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        draw_arrow(painter, self.path(), color)


class DiffScene(QGraphicsScene):
    """Both networks as one drawing: run B's layers and connections, plus what run A had and B has not."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.colors = canvas_colors()
        self.snap_to_grid = False  # what the editor's items ask of their scene
        self.applying_model = False
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], DiffEdge] = {}
        self.marks: dict[str, ChangeMark] = {}
        self._rect = QRectF()

    def geometry_changed(self) -> None:
        """Called by the layer boxes when they move; nothing here moves them after placing."""

    def show_diff(self, diff: NetworkDiff, before: Network, after: Network) -> None:
        """Draw `after` with `before`'s removed layers and connections, every change marked."""
        self.clear()
        self.nodes, self.edges, self.marks = {}, {}, {}
        removed = [node_id for node_id in before.nodes if node_id not in after.nodes]
        nodes = [*after, *(before.node(node_id) for node_id in removed)]
        edges = [*after.edges, *diff.edges_removed]
        union = Network.from_parts(nodes, edges)
        positions = auto_layout(union)
        figures_after, figures_before = analyze(after).layers, analyze(before).layers
        changes = {change.id: change for change in diff.layers}
        for node in nodes:
            item = NodeItem(node)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
            item.set_info(figures_after.get(node.id) if node.id in after.nodes else figures_before.get(node.id))
            for port in (item.input_port, item.output_port):
                if port is not None:
                    port.setToolTip("")
                    port.setCursor(Qt.CursorShape.ArrowCursor)
            self.applying_model = True
            try:
                item.setPos(*positions.get(node.id, (0.0, 0.0)))
            finally:
                self.applying_model = False
            self.addItem(item)
            self.nodes[node.id] = item
            change = changes.get(node.id)
            if change is not None:
                self.marks[node.id] = ChangeMark(item, change)
                item.setToolTip(change_tooltip(change))
                if change.kind == REMOVED:
                    item.setOpacity(REMOVED_OPACITY)
        kinds = {**{e: ADDED for e in diff.edges_added}, **{e: REMOVED for e in diff.edges_removed}}
        for src, dst in edges:
            if (src, dst) in self.edges or src not in self.nodes or dst not in self.nodes:
                continue
            edge = DiffEdge(self.nodes[src], self.nodes[dst], kinds.get((src, dst)))
            self.nodes[src].edges_out.append(edge)
            self.nodes[dst].edges_in.append(edge)
            self.addItem(edge)
            self.edges[(src, dst)] = edge
        for node_id, item in self.nodes.items():
            item.sort_inputs(union.inputs_of(node_id))
        self._rect = self.itemsBoundingRect()
        self.setSceneRect(self._rect.adjusted(-400, -300, 400, 300))

    def nodes_rect(self) -> QRectF:
        return QRectF(self._rect)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, self.colors.background)
        step = GRID * 5
        if step * painter.worldTransform().m11() < 6:
            return
        painter.setPen(QPen(self.colors.grid, 0))
        x = math.floor(rect.left() / step) * step
        while x < rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += step
        y = math.floor(rect.top() / step) * step
        while y < rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += step


class DiffCanvas(QGraphicsView):
    """The diff scene in a view that zooms (wheel) and pans (drag); clicking a layer emits ``layerClicked``."""

    layerClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.diff_scene = DiffScene()
        super().__init__(self.diff_scene, parent)
        self.diff_scene.setParent(self)
        self.setObjectName("diffCanvas")
        self.setAccessibleName("What changed in the network")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.diff_scene.selectionChanged.connect(self._selected)
        self._fitted = False  # showing the whole drawing (kept so on resizing) until the user zooms

    def show_diff(self, diff: NetworkDiff, before: Network, after: Network) -> None:
        self.diff_scene.colors = canvas_colors()
        self.diff_scene.show_diff(diff, before, after)
        self.zoom_to_fit()

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_to_fit(self) -> None:
        """The whole drawing, never enlarged past 100%."""
        rect = self.diff_scene.nodes_rect()
        if rect.isNull():
            return
        self.resetTransform()
        self.fitInView(rect.adjusted(-30, -30, 30, 30), Qt.AspectRatioMode.KeepAspectRatio)
        zoom = min(1.0, max(MIN_ZOOM, self.zoom()))
        self.resetTransform()
        self.scale(zoom, zoom)
        self.centerOn(rect.center())
        self._fitted = True

    def show_layer(self, node_id: str) -> None:
        """Select a layer and bring it into sight."""
        item = self.diff_scene.nodes.get(node_id)
        if item is None:
            return
        self.diff_scene.clearSelection()
        item.setSelected(True)
        self.ensureVisible(item, 60, 60)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if not delta:
            super().wheelEvent(event)
            return
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * 1.0015 ** delta))
        self.scale(target / self.zoom(), target / self.zoom())
        self._fitted = False
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:
            self.zoom_to_fit()

    def _selected(self) -> None:
        chosen = [i for i in self.diff_scene.selectedItems() if isinstance(i, NodeItem)]
        if chosen:
            self.layerClicked.emit(chosen[0].node_id)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
