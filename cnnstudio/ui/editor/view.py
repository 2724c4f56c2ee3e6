"""The canvas view: zoom, pan, rubber-band selection, palette drops, and a minimap."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from ..palette import LAYER_MIME
from ..theme import category_color
from .items import GRID, EdgeItem, NodeItem
from .layout import NODE_HEIGHT, NODE_WIDTH
from .scene import NetworkScene

MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
READABLE_ZOOM = 0.3  # below this even the zoomed-out boxes (type and key parameters) get hard to read


class CanvasView(QGraphicsView):
    """Wheel zooms around the cursor; middle button, Space+drag or Alt+drag pan;
    dragging on empty canvas selects with a rubber band."""

    zoomChanged = Signal(float)
    layerDropped = Signal(str, QPointF, object)  # layer type, scene position, edge key or None
    contextMenuAt = Signal(QPointF, object)  # scene position, global QPoint
    nudged = Signal(float, float)  # arrow keys: move the selection by (dx, dy)

    def __init__(self, scene: NetworkScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setAccessibleName("Network canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space_down = False
        self._drop_edge: EdgeItem | None = None
        self._fitting: bool | None = None  # set by a fit on open: refit while the canvas settles in size

    @property
    def network_scene(self) -> NetworkScene:
        return self.scene()  # type: ignore[return-value]

    # ------------------------------------------------------------------ zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor_under_mouse: bool = False) -> None:
        self._fitting = None  # the user took over
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) < 1e-6:
            return
        previous = self.transformationAnchor()
        if not anchor_under_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(previous)
        self.zoomChanged.emit(self.zoom())

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def reset_zoom(self) -> None:
        self.zoom_by(1.0 / self.zoom())

    def zoom_to_fit(self, readable: bool = False, keep_fitting: bool = False) -> None:
        """Show the whole network (never enlarged past 100%). ``readable`` stops at a zoom
        where the text can still be read and shows the top (the inputs) instead.
        ``keep_fitting`` (on open): fit again when the canvas changes size, until the user zooms or pans."""
        self._fitting = readable if keep_fitting else None
        rect = self.network_scene.nodes_rect()
        if rect.isNull():
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        floor = READABLE_ZOOM if readable else MIN_ZOOM
        zoom = min(1.0, max(floor, self.zoom()))
        self.resetTransform()
        self.scale(zoom, zoom)
        if self.fits(rect):
            self.centerOn(rect.center())
        else:
            visible = self.mapToScene(self.viewport().rect()).boundingRect()
            self.centerOn(rect.center().x(), rect.top() + visible.height() / 2)
        self.zoomChanged.emit(self.zoom())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitting is not None:
            self.zoom_to_fit(self._fitting, keep_fitting=True)

    def fits(self, rect: QRectF) -> bool:
        visible = self.viewport().rect()
        return (
            rect.width() * self.zoom() <= visible.width() + 1
            and rect.height() * self.zoom() <= visible.height() + 1
        )

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if delta == 0 or (
            not event.pixelDelta().isNull() and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            super().wheelEvent(event)  # a trackpad scrolls; pinch or Ctrl zooms
            return
        self.zoom_by(1.0015**delta, anchor_under_mouse=True)
        event.accept()

    # ------------------------------------------------------------------ pan
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        wants_pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton
            and (self._space_down or event.modifiers() & Qt.KeyboardModifier.AltModifier)
        )
        if wants_pan:
            self._fitting = None
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if key == Qt.Key.Key_Escape:
            self.network_scene.clearSelection()
            return
        arrows = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in arrows and self.network_scene.selected_node_ids():
            step = GRID * (5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
            self.nudged.emit(arrows[key][0] * step, arrows[key][1] * step)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        self.contextMenuAt.emit(self.mapToScene(event.pos()), event.globalPos())

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dragMoveEvent(event)
            return
        self._set_drop_edge(self.network_scene.edge_at(self.mapToScene(event.position().toPoint())))
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._set_drop_edge(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        pos = self.mapToScene(event.position().toPoint())
        edge = self.network_scene.edge_at(pos)
        self._set_drop_edge(None)
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        event.acceptProposedAction()
        self.layerDropped.emit(type_name, pos, edge.key if edge is not None else None)

    def _set_drop_edge(self, edge: EdgeItem | None) -> None:
        if edge is self._drop_edge:
            return
        if self._drop_edge is not None and self._drop_edge.scene() is not None:
            self._drop_edge.drop_highlight = False
            self._drop_edge.update()
        self._drop_edge = edge
        if edge is not None:
            edge.drop_highlight = True
            edge.update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if not len(self.network_scene.network):
            painter.save()
            painter.resetTransform()
            painter.setPen(self.network_scene.colors.muted)
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Drag layers here from the palette, or double-click one to add it.",
            )
            painter.restore()


class Minimap(QWidget):
    """The whole network in miniature, drawn as coloured blocks; the frame shows what the
    canvas shows. Click or drag to move the canvas there."""

    def __init__(self, canvas: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.setObjectName("minimap")
        self.setFixedSize(190, 140)
        self._picture: QPixmap | None = None
        self._picture_key: tuple = ()
        self.setToolTip("Overview: click or drag to move the canvas")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._timer = QTimer(self, singleShot=True, interval=50)
        self._timer.timeout.connect(self.update)
        canvas.horizontalScrollBar().valueChanged.connect(self._schedule)
        canvas.verticalScrollBar().valueChanged.connect(self._schedule)
        canvas.zoomChanged.connect(self._schedule)
        canvas.scene().changed.connect(self._schedule)

    def _schedule(self, *_: object) -> None:
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def needed(self) -> bool:
        """Only worth showing when part of the network is out of sight."""
        rect = self.canvas.network_scene.nodes_rect()
        visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
        return not rect.isNull() and not visible.contains(rect)

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        """Scene rectangle shown, scale and offset from scene to minimap coordinates."""
        rect = self.canvas.network_scene.nodes_rect().adjusted(-60, -60, 60, 60)
        scale = min((self.width() - 8) / max(rect.width(), 1), (self.height() - 8) / max(rect.height(), 1))
        offset = QPointF(
            (self.width() - rect.width() * scale) / 2, (self.height() - rect.height() * scale) / 2
        )
        return rect, scale, offset

    def _to_scene(self, point: QPointF) -> QPointF:
        rect, scale, offset = self._mapping()
        return QPointF(
            (point.x() - offset.x()) / scale + rect.left(), (point.y() - offset.y()) / scale + rect.top()
        )

    def paintEvent(self, event) -> None:  # noqa: N802
        """The network from a picture kept until it changes (a large one takes a while to draw);
        the frame of what the canvas shows on top, every time."""
        scene = self.canvas.network_scene
        colors = scene.colors
        rect, scale, offset = self._mapping()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._network_picture(rect, scale, offset))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        left, top, dx, dy = rect.left(), rect.top(), offset.x(), offset.y()

        def to_widget(point: QPointF) -> QPointF:
            return QPointF((point.x() - left) * scale + dx, (point.y() - top) * scale + dy)

        visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
        frame = QRectF(to_widget(visible.topLeft()), to_widget(visible.bottomRight()))
        color = QColor(colors.selection)
        painter.setPen(QPen(color, 1.5))
        color.setAlpha(35)
        painter.setBrush(color)
        painter.drawRect(frame.intersected(QRectF(self.rect())))

    def _network_picture(self, rect: QRectF, scale: float, offset: QPointF) -> QPixmap:
        scene = self.canvas.network_scene
        colors = scene.colors
        key = (self.size().toTuple(), self.devicePixelRatioF(), scene.layout_version, id(colors),
               frozenset(n for n, item in scene.nodes.items() if item.severity == "error"),
               frozenset(item.node_id for item in scene.selectedItems() if isinstance(item, NodeItem)))
        if key == self._picture_key and self._picture is not None:
            return self._picture
        ratio = self.devicePixelRatioF()
        picture = QPixmap(QSize(round(self.width() * ratio), round(self.height() * ratio)))
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        left, top, dx, dy = rect.left(), rect.top(), offset.x(), offset.y()

        def to_widget(point: QPointF) -> QPointF:
            return QPointF((point.x() - left) * scale + dx, (point.y() - top) * scale + dy)

        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colors.node_border, 1))
        painter.setBrush(colors.background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.setPen(QPen(colors.edge, 1))
        for edge in scene.edges.values():  # layers inside folded blocks are hidden: their block stands in
            if edge.isVisible() and edge.shown_src is not None and edge.shown_dst is not None:
                painter.drawLine(to_widget(edge.shown_src.pos()), to_widget(edge.shown_dst.pos()))
        painter.setPen(Qt.PenStyle.NoPen)
        w, h = max(3.0, NODE_WIDTH * scale), max(2.0, NODE_HEIGHT * scale)
        for item in scene.nodes.values():
            if not item.isVisible():
                continue
            center = to_widget(item.pos())
            color = colors.error if item.severity == "error" else category_color(item.category)
            painter.setBrush(colors.selection if item.isSelected() else color)
            painter.drawRect(QRectF(center.x() - w / 2, center.y() - h / 2, w, h))
        for block in scene.block_view.nodes.values():
            center = to_widget(block.pos())
            painter.setBrush(colors.selection if block.isSelected() else colors.muted)
            painter.drawRect(QRectF(center.x() - w / 2, center.y() - h / 2, w, h))
        painter.end()
        self._picture, self._picture_key = picture, key
        return picture

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.canvas.centerOn(self._to_scene(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self._to_scene(event.position()))
