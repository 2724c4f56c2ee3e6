"""How the canvas draws blocks: a collapsed block as one node, an expanded one as a labelled frame.

Both only display and report clicks on their chevron to the scene, which pushes the undoable
fold; the layers of a collapsed block stay in the network, hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from cnnstudio.core.blocks import BlockInfo
from cnnstudio.core.catalog import dims_text

from .items import (
    COMPACT_BODY_PX,
    COMPACT_TITLE_PX,
    COMPACT_ZOOM,
    DEVICE_CACHE,
    INPUT_SPREAD,
    PORT_RADIUS,
    CardOutline,
    EdgeItem,
    _colors,
    font,
    format_count,
)
from .layout import NODE_HEIGHT, NODE_WIDTH

if TYPE_CHECKING:
    from .scene import NetworkScene

CHEVRON = 18.0  # the square holding the fold chevron
FRAME_MARGIN = 8.0  # room beside and below the layers inside a frame (per level of nesting)
HEADER = 20.0  # the frame's label band (nested frames stack their bands above the layers)


def short_count(value: int) -> str:
    """1234567 -> "1.23M", 45600 -> "45.6k": a block's totals in few letters."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return format_count(value)


def totals_text(info: BlockInfo | None) -> str:
    """Parameters of a block, with the frozen part when some layers are frozen."""
    if info is None:
        return ""
    text = f"{short_count(info.params)} params"
    if info.non_trainable_params:
        text += f" ({short_count(info.non_trainable_params)} non-trainable)"
    return text


def shape_text(info: BlockInfo | None) -> str:
    if info is None or not info.output_shapes:
        return ""
    return ", ".join(dims_text(s) for s in info.output_shapes)


class ChevronPress:
    """A click on the chevron folds (a frame, FOLDS True) or opens (a folded card, FOLDS False) the block."""

    FOLDS = True

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        scene: NetworkScene | None = self.scene()  # type: ignore[assignment]
        if event.button() == Qt.MouseButton.LeftButton and self.chevron_rect().contains(event.pos()) and scene:
            scene.fold_requested(self.block_id, self.FOLDS)
            event.accept()
            return
        super().mousePressEvent(event)


class BlockNodeItem(ChevronPress, CardOutline, QGraphicsItem):
    """A collapsed block: its name, ports, output shape and parameter count. Double-click or the
    chevron opens it; dragging it moves all its layers."""

    FOLDS = False

    def __init__(self, block_id: str, name: str, layer_count: int) -> None:
        super().__init__()
        self.block_id = block_id
        self.name = name
        self.layer_count = layer_count
        self.info: BlockInfo | None = None
        self.edges_in: list[EdgeItem] = []
        self.edges_out: list[EdgeItem] = []
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(DEVICE_CACHE)
        self.setZValue(1)

    def set_info(self, info: BlockInfo | None) -> None:
        self.info = info
        frozen = (f" ({format_count(info.trainable_params)} trainable, {format_count(info.non_trainable_params)} "
                  "non-trainable: frozen layers and statistics such as BatchNormalization's)"
                  if info and info.non_trainable_params else "")
        lines = [f"<b>{self.name}</b> &nbsp;(block of {self.layer_count} layers)"]
        if info is not None:
            lines.append(f"output: {shape_text(info) or '?'} &nbsp; {format_count(info.params)} params{frozen}")
        lines.append("Double-click or click the chevron to open it")
        self.setToolTip("<br>".join(lines))
        self.update()

    # geometry: the size of a layer box, so folded rows line up with the layers around them
    def body_rect(self) -> QRectF:
        return QRectF(-NODE_WIDTH / 2, -NODE_HEIGHT / 2, NODE_WIDTH, NODE_HEIGHT)

    def chevron_rect(self) -> QRectF:
        rect = self.body_rect()
        return QRectF(rect.left() + 8, rect.top() + 6, CHEVRON, CHEVRON)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.body_rect().adjusted(-6, -PORT_RADIUS - 4, 12, PORT_RADIUS + 10)

    def input_anchor(self, edge: EdgeItem | None = None) -> QPointF:
        """One input end per item feeding the block (a layer feeding two layers inside arrives once)."""
        x = 0.0
        sources = list(dict.fromkeys(e.shown_src for e in self.edges_in))
        if edge is not None and len(sources) > 1 and edge.shown_src in sources:
            x = (sources.index(edge.shown_src) - (len(sources) - 1) / 2) * INPUT_SPREAD
        return self.mapToScene(QPointF(x, -NODE_HEIGHT / 2 - PORT_RADIUS))

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges_in + self.edges_out:
                edge.update_path()
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.body_rect()
        selected = self.isSelected()
        painter.setPen(QPen(colors.node_border, 1.0))
        painter.setBrush(colors.node_header)
        for step in (8, 4):  # a stack of cards: several layers inside
            painter.drawRoundedRect(rect.translated(step, step), 7, 7)
        if selected:
            glow = QColor(colors.selection)
            glow.setAlpha(70)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(glow)
            painter.drawRoundedRect(rect.adjusted(-4, -4, 4, 4), 10, 10)
        painter.setPen(QPen(colors.selection if selected else colors.node_border, 2.0))
        painter.setBrush(colors.node)
        painter.drawRoundedRect(rect, 7, 7)
        for y in (rect.top(), rect.bottom()):  # the ports
            painter.setPen(QPen(colors.edge, 1.5))
            painter.setBrush(colors.node)
            painter.drawEllipse(QPointF(0, y), PORT_RADIUS, PORT_RADIUS)
        chevron = self.chevron_rect()
        _draw_chevron(painter, chevron, colors.text, opened=False)
        zoom = option.levelOfDetailFromTransform(painter.worldTransform())
        if zoom < COMPACT_ZOOM:
            self._paint_compact(painter, rect.adjusted(chevron.width() + 10, 0, -6, 0), zoom)
            return
        left, right = chevron.right() + 6, rect.right() - 10
        width = right - left
        title, small = font("title"), font("small")
        fm_title, fm_small = QFontMetricsF(title), QFontMetricsF(small)
        painter.setFont(small)
        painter.setPen(colors.muted)
        count = f"{self.layer_count} layers"
        count_width = fm_small.horizontalAdvance(count)
        painter.drawText(QRectF(left, chevron.top(), width, CHEVRON),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, count)
        painter.setFont(title)
        painter.setPen(colors.text)
        painter.drawText(QRectF(left, chevron.top(), width - count_width - 8, CHEVRON),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_title.elidedText(self.name, Qt.TextElideMode.ElideRight, width - count_width - 8))
        painter.setFont(small)
        line = rect.top() + 6 + CHEVRON + 4
        painter.setPen(colors.text)
        shape = shape_text(self.info)
        painter.drawText(QRectF(rect.left() + 14, line, rect.width() - 24, fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(f"\u2192 {shape}" if shape else "", Qt.TextElideMode.ElideRight,
                                             rect.width() - 24))
        painter.setPen(colors.muted)
        line = rect.bottom() - 7 - fm_small.height()
        painter.drawText(QRectF(rect.left() + 14, line, rect.width() - 24, fm_small.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fm_small.elidedText(totals_text(self.info), Qt.TextElideMode.ElideRight, rect.width() - 24))


    def _paint_compact(self, painter: QPainter, box: QRectF, zoom: float) -> None:
        """Zoomed out: the name and the parameter count, in letters that stay readable on screen."""
        colors = _colors(self)
        used, lines = 0.0, []
        for kind, pixels, color, text in (("title", COMPACT_TITLE_PX, colors.text, self.name),
                                          ("body", COMPACT_BODY_PX, colors.muted, totals_text(self.info))):
            face = QFont(font(kind))
            face.setPixelSize(max(1, round(pixels / zoom)))
            metrics = QFontMetricsF(face)
            if not text or used + metrics.height() > box.height():
                continue
            used += metrics.height()
            lines.append((face, metrics, color, text))
        top = box.center().y() - used / 2
        for face, metrics, color, text in lines:
            painter.setFont(face)
            painter.setPen(color)
            painter.drawText(QRectF(box.left(), top, box.width(), metrics.height()),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(text, Qt.TextElideMode.ElideRight, box.width()))
            top += metrics.height()


class BlockFrameItem(ChevronPress, QGraphicsItem):
    """An expanded block: a labelled frame around its layers. Its label band selects the block;
    the chevron (or a double-click on the band) folds it."""

    def __init__(self, block_id: str, name: str, rect: QRectF) -> None:
        super().__init__()
        self.block_id = block_id
        self.name = name
        self.info: BlockInfo | None = None
        self.rect = QRectF(rect)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        self.setToolTip(f"<b>{name}</b> (block): click the chevron or double-click here to fold it")

    def set_info(self, info: BlockInfo | None) -> None:
        self.info = info
        self.update()

    def header_rect(self) -> QRectF:
        return QRectF(self.rect.left(), self.rect.top(), self.rect.width(), HEADER)

    def chevron_rect(self) -> QRectF:
        return QRectF(self.rect.left() + 4, self.rect.top() + (HEADER - CHEVRON) / 2, CHEVRON, CHEVRON)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self.rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        """Only the label band takes clicks: inside the frame, the canvas and the layers do."""
        path = QPainterPath()
        path.addRect(self.header_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colors = _colors(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(colors.selection)
        fill.setAlpha(38 if self.isSelected() else 16)
        border = QColor(colors.selection if self.isSelected() else colors.muted)
        painter.setPen(QPen(border, 1.4, Qt.PenStyle.DashLine))
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect, 10, 10)
        band = QColor(colors.selection)
        band.setAlpha(60 if self.isSelected() else 30)
        header = QPainterPath()
        header.addRoundedRect(self.header_rect(), 10, 10)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(band)
        painter.drawPath(header)
        chevron = self.chevron_rect()
        _draw_chevron(painter, chevron, colors.text, opened=True)
        title, small = font("title"), font("small")
        text_rect = QRectF(chevron.right() + 4, self.rect.top(), self.rect.width() - CHEVRON - 14, HEADER)
        extra = "  ".join(t for t in (shape_text(self.info) and f"\u2192 {shape_text(self.info)}",
                                      totals_text(self.info)) if t)
        painter.setFont(title)
        painter.setPen(colors.text)
        fm = QFontMetricsF(title)
        name = fm.elidedText(self.name, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        rest = text_rect.adjusted(fm.horizontalAdvance(name) + 12, 0, 0, 0)
        if extra and rest.width() > 40:
            painter.setFont(small)
            painter.setPen(colors.muted)
            painter.drawText(rest, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             QFontMetricsF(small).elidedText(extra, Qt.TextElideMode.ElideRight, rest.width()))


def _draw_chevron(painter: QPainter, box: QRectF, color: QColor, *, opened: bool) -> None:
    """A small triangle: pointing right when folded, down when open."""
    c, r = box.center(), box.width() * 0.28
    if opened:
        points = [QPointF(c.x() - r, c.y() - r * 0.6), QPointF(c.x() + r, c.y() - r * 0.6), QPointF(c.x(), c.y() + r * 0.8)]
    else:
        points = [QPointF(c.x() - r * 0.6, c.y() - r), QPointF(c.x() - r * 0.6, c.y() + r), QPointF(c.x() + r * 0.8, c.y())]
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(points)
