"""What the canvas draws: layer boxes with ports, and the connections between them.

Items only display; they never edit the network. Colours come from the scene's
``colors`` (light or dark), read at paint time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyle, QStyleOptionGraphicsItem, QWidget

from cnnstudio.core.analysis import LayerInfo
from cnnstudio.core.catalog import CATALOG, dims_text
from cnnstudio.core.network import Node

from ..theme import CanvasColors, canvas_colors, category_color
from .layout import NODE_HEIGHT, NODE_WIDTH

if TYPE_CHECKING:
    from .scene import NetworkScene

PORT_RADIUS = 5.5
INPUT_SPREAD = 16.0  # horizontal distance between the ends of a merge layer's inputs
GRID = 20.0
COMPACT_ZOOM = 0.62  # below this zoom a box shows its type and key parameters only, in larger letters
COMPACT_TITLE_PX, COMPACT_BODY_PX, COMPACT_SMALLEST_PX = 11.0, 10.0, 8.0  # their size on screen

_fonts: dict[str, QFont] = {}
# Qt's enum members, looked up once: a large network makes thousands of items, and each lookup costs
POSITION_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
POSITION_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
NODE_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
              | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
EDGE_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
DEVICE_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
CROSS_CURSOR = Qt.CursorShape.CrossCursor


def font(kind: str) -> QFont:
    """Fonts for node text, derived from the application font."""
    if kind not in _fonts:
        base = QFont(QGuiApplication.font())
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        if kind == "title":
            base.setBold(True)
            base.setPointSizeF(size)
        elif kind == "small":
            base.setPointSizeF(size * 0.88)
        elif kind == "badge":
            base.setBold(True)
            base.setPointSizeF(size * 0.9)
        _fonts[kind] = base
    return _fonts[kind]


def format_count(value: int) -> str:
    return f"{value:,}"


def _colors(item: QGraphicsItem) -> CanvasColors:
    scene = item.scene()
    return getattr(scene, "colors", None) or canvas_colors()


class PortItem(QGraphicsItem):
    """Where a connection starts (output, bottom) or ends (input, top). Drag from it to connect."""

    def __init__(self, node: NodeItem, is_input: bool) -> None:
        super().__init__(node)
        self.node = node
        self.is_input = is_input
        self.highlight: QColor | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(CROSS_CURSOR)
        self.setZValue(2)
        self.setPos(0, (-NODE_HEIGHT if is_input else NODE_HEIGHT) / 2)
        self.setToolTip(
            "Input: drag from here to a layer's output to feed this layer"
            if is_input
            else "Output: drag from here onto another layer to connect them"
        )

    def width(self) -> float:
        if self.is_input and self.node.accepts_many:
            return max(2 * PORT_RADIUS, INPUT_SPREAD * max(1, len(self.node.edges_in)) + 2)
        return 2 * PORT_RADIUS

    def boundingRect(self) -> QRectF:
        w = self.width() + 10
        return QRectF(-w / 2, -PORT_RADIUS - 5, w, 2 * PORT_RADIUS + 10)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.boundingRect(), 6, 6)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        fill = self.highlight or (colors.selection if hovered else colors.node)
        painter.setBrush(QBrush(fill))
        painter.setPen(QPen(self.highlight or colors.edge, 1.5))
        w = self.width()
        painter.drawRoundedRect(QRectF(-w / 2, -PORT_RADIUS, w, 2 * PORT_RADIUS), PORT_RADIUS, PORT_RADIUS)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().hoverLeaveEvent(event)

    def set_highlight(self, color: QColor | None) -> None:
        if color != self.highlight:
            self.highlight = color
            self.update()


class CardOutline:
    """The rounded card a layer or a folded block is drawn as: its clickable shape and its output end."""

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.body_rect(), 7, 7)
        return path

    def output_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(0, NODE_HEIGHT / 2 + PORT_RADIUS))


class NodeItem(CardOutline, QGraphicsItem):
    """One layer: id and type, key parameters, output shape and parameter count, errors."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node_id = node.id
        self.type_name = node.type
        spec = CATALOG.get(node.type)
        self.category = spec.category if spec else ""
        self.accepts_many = spec is None or spec.max_inputs is None or spec.max_inputs > 1
        self.detail = spec.describe(node.params) if spec else ""
        self.doc = spec.doc if spec else "a layer type CNN Studio does not know"
        self.shape_text = ""
        self.params_text = ""
        self.severity: str | None = None
        self.messages: list[str] = []
        self.frozen = False  # drawn as a snowflake badge: the layer keeps its weights while training
        self.edges_in: list[EdgeItem] = []
        self.edges_out: list[EdgeItem] = []
        self.drop_highlight = False
        self.setFlags(NODE_FLAGS)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(DEVICE_CACHE)
        self.setZValue(1)
        self.input_port = None if (spec is not None and spec.max_inputs == 0) else PortItem(self, True)
        self.output_port = PortItem(self, False)
        self._update_tooltip()

    # ------------------------------------------------------------------ content
    def set_node(self, node: Node) -> None:
        """Refresh what depends on the layer's own parameters (id, key parameters)."""
        spec = CATALOG.get(node.type)
        self.node_id = node.id
        detail = spec.describe(node.params) if spec else ""
        if detail != self.detail:
            self.detail = detail
        self._update_tooltip()
        self.update()

    def set_info(self, info: LayerInfo | None) -> None:
        """Refresh what analysis found: shape, parameter count, errors and warnings."""
        if info is None:
            shape_text, params_text, severity, messages = "", "", None, []
        else:
            shape_text = "?" if info.output_shape is None else dims_text(info.output_shape)
            params_text = f"{format_count(info.params)} params" if info.output_shape is not None else ""
            errors = [d.message for d in info.diagnostics if d.severity == "error"]
            warnings = [d.message for d in info.diagnostics if d.severity != "error"]
            severity = "error" if errors else "warning" if warnings else None
            messages = errors + warnings
        frozen = info is not None and not info.trainable
        state = (shape_text, params_text, severity, messages, frozen)
        if state != (self.shape_text, self.params_text, self.severity, self.messages, self.frozen):
            self.shape_text, self.params_text, self.severity, self.messages, self.frozen = state
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        """The tooltip is written when it can be seen (the pointer enters the layer), not at every change:
        a network of thousands of layers opens without composing thousands of tooltips."""
        self._tooltip_due = True

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt's name; a tooltip set from outside is kept
        self._tooltip_due = False
        super().setToolTip(text)

    def toolTip(self) -> str:  # noqa: N802 - Qt's name
        self._write_tooltip()
        return super().toolTip()

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._write_tooltip()
        super().hoverEnterEvent(event)

    def _write_tooltip(self) -> None:
        if not getattr(self, "_tooltip_due", False):
            return
        self._tooltip_due = False
        lines = [f"<b>{self.node_id}</b> &nbsp;({self.type_name})", f"<i>{self.doc}</i>"]
        if self.shape_text == "?" and not self.messages:
            lines.append("output: unknown until the problem above this layer is fixed")
        elif self.shape_text:
            lines.append(f"output: {self.shape_text} &nbsp; {self.params_text}")
        if self.frozen:
            lines.append("\u2744 frozen: its weights stay as they are while training")
        for message in self.messages:
            color = "#d93636" if self.severity == "error" else "#b07d00"
            lines.append(f"<span style='color:{color}'>&#9888; {_escape(message)}</span>")
        super().setToolTip("<br>".join(lines))

    # ------------------------------------------------------------------ geometry
    def body_rect(self) -> QRectF:
        return QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self.body_rect().adjusted(-12, -12, 12, 4)  # room for the badges on both top corners

    def input_anchor(self, edge: EdgeItem | None = None) -> QPointF:
        x = 0.0
        if edge is not None and len(self.edges_in) > 1 and edge in self.edges_in:
            x = (self.edges_in.index(edge) - (len(self.edges_in) - 1) / 2) * INPUT_SPREAD
        return self.mapToScene(QPointF(x, -NODE_HEIGHT / 2 - PORT_RADIUS))

    def sort_inputs(self, order: list[str]) -> None:
        """Keep the input ends in the network's input order (it matters for Concatenate)."""
        rank = {src: i for i, src in enumerate(order)}
        self.edges_in.sort(key=lambda e: rank.get(e.src_id, len(rank)))
        if self.input_port is not None:
            self.input_port.prepareGeometryChange()
            self.input_port.update()
        for edge in self.edges_in:
            edge.update_path()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802
        if change == POSITION_CHANGE:
            scene: NetworkScene | None = self.scene()  # type: ignore[assignment]
            if scene is not None and scene.snap_to_grid and not scene.applying_model:
                return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        elif change == POSITION_CHANGED:
            scene = self.scene()
            if scene is not None:
                scene.geometry_changed()
            for edge in self.edges_in:
                edge.update_path()
            for edge in self.edges_out:
                edge.update_path()
        return super().itemChange(change, value)

    # ------------------------------------------------------------------ drawing
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.body_rect()
        accent = category_color(self.category)
        selected = self.isSelected()
        if selected or self.drop_highlight:
            glow = QColor(colors.selection)
            glow.setAlpha(70)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(glow)
            painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 10, 10)
        border = colors.error if self.severity == "error" else colors.node_border
        if selected:
            border = colors.selection
        painter.setPen(QPen(border, 2.0 if (selected or self.severity == "error") else 1.0))
        painter.setBrush(colors.node)
        painter.drawRoundedRect(rect, 7, 7)
        # category band on the left
        band = QPainterPath()
        band.addRoundedRect(rect.adjusted(1, 1, 0, -1), 6, 6)
        clip = QPainterPath()
        clip.addRect(QRectF(rect.left(), rect.top(), 6, rect.height()))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawPath(band.intersected(clip))

        left, right = rect.left() + 14, rect.right() - 10
        width = right - left
        zoom = option.levelOfDetailFromTransform(painter.worldTransform())
        if zoom < COMPACT_ZOOM:
            self._paint_compact(painter, colors, rect.adjusted(10, 0, -4, 0), zoom)
            if self.severity:
                self._paint_badge(painter, colors)
            if self.frozen:
                self._paint_frozen(painter, colors)
            return
        title_font, body_font, small_font = font("title"), font("body"), font("small")
        fm_title, fm_body, fm_small = (
            QFontMetricsF(title_font),
            QFontMetricsF(body_font),
            QFontMetricsF(small_font),
        )
        line = rect.top() + 7
        # row 1: type (accent colour) on the left, id on the right
        painter.setFont(title_font)
        painter.setPen(colors.text)
        type_width = fm_title.horizontalAdvance(self.type_name)
        painter.drawText(
            QRectF(left, line, width, fm_title.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_title.elidedText(self.type_name, Qt.TextElideMode.ElideRight, width),
        )
        painter.setFont(small_font)
        painter.setPen(colors.muted)
        id_room = width - type_width - 8
        if id_room > 24:
            painter.drawText(
                QRectF(left, line, width, fm_title.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fm_small.elidedText(self.node_id, Qt.TextElideMode.ElideMiddle, id_room),
            )
        line += fm_title.height() + 4
        # row 2: key parameters
        painter.setFont(body_font)
        painter.setPen(colors.text)
        detail = self.detail or " "
        painter.drawText(
            QRectF(left, line, width, fm_body.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_body.elidedText(detail, Qt.TextElideMode.ElideRight, width),
        )
        line = rect.bottom() - 7 - fm_small.height()
        # row 3: output shape and parameter count, or the error
        painter.setFont(small_font)
        if self.severity == "error":
            painter.setPen(colors.error)
            painter.drawText(
                QRectF(left, line, width, fm_small.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm_small.elidedText(self.messages[0], Qt.TextElideMode.ElideRight, width),
            )
        else:
            painter.setPen(colors.muted)
            shape = f"\u2192 {self.shape_text}" if self.shape_text else ""
            painter.drawText(
                QRectF(left, line, width, fm_small.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                shape,
            )
            painter.drawText(
                QRectF(left, line, width, fm_small.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                self.params_text,
            )
        if self.severity:
            self._paint_badge(painter, colors)
        if self.frozen:
            self._paint_frozen(painter, colors)

    def _paint_compact(self, painter: QPainter, colors: CanvasColors, box: QRectF, zoom: float) -> None:
        """Zoomed out: the type and the key parameters only, in letters that stay readable on
        screen (a little smaller for a long name rather than cut, then elided)."""
        lines = []
        used = 0.0
        for face, pixels, color, text in ((font("title"), COMPACT_TITLE_PX, colors.text, self.type_name),
                                          (font("body"), COMPACT_BODY_PX, colors.muted, self.detail)):
            if not text:
                continue
            face = QFont(face)
            face.setPixelSize(max(1, round(pixels / zoom)))
            width = QFontMetricsF(face).horizontalAdvance(text)
            if width > box.width():
                face.setPixelSize(max(1, round(max(COMPACT_SMALLEST_PX / zoom, face.pixelSize() * box.width() / width))))
            metrics = QFontMetricsF(face)
            if used + metrics.height() > box.height():
                break
            used += metrics.height()
            lines.append((face, metrics, color, text))
        top = box.center().y() - used / 2
        for face, metrics, color, text in lines:
            painter.setFont(face)
            painter.setPen(color)
            painter.drawText(
                QRectF(box.left(), top, box.width(), metrics.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(text, Qt.TextElideMode.ElideRight, box.width()),
            )
            top += metrics.height()

    def _paint_badge(self, painter: QPainter, colors: CanvasColors) -> None:
        center = QPointF(NODE_WIDTH / 2 - 1, -NODE_HEIGHT / 2 - 1)
        color = colors.error if self.severity == "error" else colors.warning
        painter.setPen(QPen(colors.node, 1.5))
        painter.setBrush(color)
        painter.drawEllipse(center, 9, 9)
        painter.setPen(QColor("#ffffff") if self.severity == "error" else QColor("#1d1f23"))
        painter.setFont(font("badge"))
        painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18), Qt.AlignmentFlag.AlignCenter, "!")


    def _paint_frozen(self, painter: QPainter, colors: CanvasColors) -> None:
        """A small snowflake badge on the top-left corner: the layer is frozen."""
        center = QPointF(-NODE_WIDTH / 2 + 1, -NODE_HEIGHT / 2 - 1)
        painter.setPen(QPen(colors.node, 1.5))
        painter.setBrush(QColor("#3f8fd2"))
        painter.drawEllipse(center, 9, 9)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(font("badge"))
        painter.drawText(QRectF(center.x() - 9, center.y() - 9, 18, 18), Qt.AlignmentFlag.AlignCenter, "\u2744")


class EdgeLabel(QGraphicsItem):
    """The tensor shape travelling along a connection (View > Show Tensor Shapes)."""

    def __init__(self, edge: EdgeItem) -> None:
        super().__init__(edge)
        self.text = ""
        self.setZValue(3)
        self.setCacheMode(DEVICE_CACHE)

    def set_text(self, text: str) -> None:
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            self.update()

    def boundingRect(self) -> QRectF:
        fm = QFontMetricsF(font("small"))
        w = fm.horizontalAdvance(self.text) + 10
        return QRectF(-w / 2, -fm.height() / 2 - 2, w, fm.height() + 4)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if not self.text:
            return
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect()
        painter.setPen(QPen(colors.node_border, 0.8))
        painter.setBrush(colors.label_background)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(colors.muted)
        painter.setFont(font("small"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text)


class EdgeItem(QGraphicsPathItem):
    """A connection from one layer's output to another's input."""

    def __init__(self, src: NodeItem | None, dst: NodeItem | None, key: tuple[str, str] | None = None) -> None:
        """``src``/``dst`` None: that layer is hidden in a folded block (``key`` names the layers then)."""
        super().__init__()
        self.src, self.dst = src, dst
        self.src_id, self.dst_id = key if key is not None else (src.node_id, dst.node_id)
        self.shown_src, self.shown_dst = src, dst  # a collapsed block stands in for its hidden layers
        self.drop_highlight = False
        self.setFlags(EDGE_FLAGS)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.shape_text = ""  # the tensor shape along it, labelled only when shapes are shown
        self._label: EdgeLabel | None = None
        self._hover = False
        self.setToolTip(
            f"{self.src_id} \u2192 {self.dst_id}\nSelect and press Delete to disconnect; "
            "drop a layer here to insert it"
        )

    @property
    def label(self) -> EdgeLabel:
        """The shape label, made when first needed (a large network has a thousand connections)."""
        if self._label is None:
            self._label = EdgeLabel(self)
            self._label.setVisible(False)
            self._label.set_text(self.shape_text)
            self._label.setPos(self.path().pointAtPercent(0.5))
        return self._label

    def set_shape_text(self, text: str) -> None:
        self.shape_text = text
        if self._label is not None:
            self._label.set_text(text)

    def show_shape(self, show: bool) -> None:
        if show or self._label is not None:
            self.label.setVisible(show)

    @property
    def key(self) -> tuple[str, str]:
        return (self.src_id, self.dst_id)

    def update_path(self) -> None:
        if self.shown_src is None or self.shown_dst is None:
            return  # an end not placed yet: the fold routes it
        start, end = self.shown_src.output_anchor(), self.shown_dst.input_anchor(self)
        self.setPath(connection_path(start, end))
        if self._label is not None:
            self._label.setPos(self.path().pointAtPercent(0.5))

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return self.path().boundingRect().adjusted(-8, -8, 8, 8)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802
        self._hover = False
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        active = self.isSelected() or self.drop_highlight
        color = colors.edge_selected if active else colors.edge
        width = 2.6 if active else (2.2 if self._hover else 1.6)
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        draw_arrow(painter, self.path(), color)


def connection_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S-curve leaving downwards from ``start`` and arriving downwards at ``end``."""
    path = QPainterPath(start)
    dy = end.y() - start.y()
    bend = max(40.0, abs(dy) / 2) if dy > 0 else max(80.0, abs(end.x() - start.x()) / 3 + 60)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


def draw_arrow(painter: QPainter, path: QPainterPath, color: QColor) -> None:
    tip = path.pointAtPercent(1.0)
    back = path.pointAtPercent(max(0.0, 1.0 - 8.0 / max(path.length(), 8.0)))
    direction = tip - back
    length = (direction.x() ** 2 + direction.y() ** 2) ** 0.5 or 1.0
    ux, uy = direction.x() / length, direction.y() / length
    size = 7.0
    base = QPointF(tip.x() - ux * size, tip.y() - uy * size)
    left = QPointF(base.x() - uy * size * 0.55, base.y() + ux * size * 0.55)
    right = QPointF(base.x() + uy * size * 0.55, base.y() - ux * size * 0.55)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QPolygonF([tip, left, right]))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
