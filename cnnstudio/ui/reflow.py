"""Layouts that fit a laptop screen: rows of controls that wrap, pages that scroll.

On a 1280x720 screen the window cannot be as large as its pages would like; rather
than growing past the screen or squeezing text, a row of controls wraps onto a second
line (``FlowLayout``, after Qt's flow layout example) and a page taller than the room
left scrolls vertically (``ScrollingTabs``).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QWidget,
)

PAGE_MINIMUM = QSize(320, 200)  # a scrolling page never asks for more than this


class FlowLayout(QLayout):
    """Widgets left to right, wrapping onto the next line when the row is full."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6, margins: int = 0) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._lines_height = 0
        self.setSpacing(spacing)
        self.setContentsMargins(margins, margins, margins, margins)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def addStretch(self) -> None:  # noqa: N802 - rows keep their natural widths; nothing to stretch
        pass

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        height = self._arrange(rect, move=True)
        if height != self._lines_height:  # wrapped onto more (or fewer) lines: the parent must make room
            self._lines_height = height
            self.invalidate()
            parent = self.parentWidget()
            if parent is not None:
                parent.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802
        """All on one line."""
        width = sum(i.sizeHint().width() for i in self._visible()) + self.spacing() * max(0, len(self._visible()) - 1)
        height = max((i.sizeHint().height() for i in self._visible()), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:  # noqa: N802
        """As narrow as the widest item; as tall as the lines it wraps onto at its present width
        (so that a splitter or a dock, which cannot ask for a height at a width, still makes room)."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        size = size.grownBy(self.contentsMargins())
        return QSize(size.width(), max(size.height(), self._lines_height))

    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not (i.widget() is not None and i.widget().isHidden())]

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Fill lines left to right; a control that expands (a slider) takes what its line leaves."""
        area = rect.marginsRemoved(self.contentsMargins())
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = 0
        for item in self._visible():
            size = item.sizeHint().expandedTo(item.minimumSize())
            if area.width() > 0:
                size.setWidth(min(size.width(), area.width()))
            if lines[-1] and x + size.width() > area.width():
                lines.append([])
                x = 0
            lines[-1].append((item, size))
            x += size.width() + self.spacing()
        y = area.y()
        for line in lines:
            if not line:
                continue
            height = max(size.height() for _, size in line)
            if move:
                used = sum(size.width() for _, size in line) + self.spacing() * (len(line) - 1)
                growing = [item for item, _ in line if item.expandingDirections() & Qt.Orientation.Horizontal]
                extra = max(0, area.width() - used) // len(growing) if growing else 0
                x = area.x()
                for item, size in line:
                    width = min(size.width() + (extra if item in growing else 0), item.maximumSize().width())
                    item.setGeometry(QRect(QPoint(x, y + (height - size.height()) // 2), QSize(width, size.height())))
                    x += width + self.spacing()
            y += height + self.spacing()
        return y - self.spacing() - rect.y() + self.contentsMargins().bottom()


class WrappedLabel(QLabel):
    """A word-wrapped label that asks its layout for the height of all its lines at its width,
    also where the layout cannot ask (inside a splitter, a dock, a grid of plots)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._lines_height = 0

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        if self.wordWrap() and self.text() and self.width() > 0:
            hint.setHeight(max(hint.height(), self.heightForWidth(self.width())))
        return hint

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        height = self.heightForWidth(self.width()) if self.wordWrap() and self.text() else 0
        if height != self._lines_height:
            self._lines_height = height
            self.updateGeometry()


class SteadyLabel(QLabel):
    """A word-wrapped label that a new text makes taller but never shorter at the same width: a caption
    that changes while training goes on then does not resize (and redraw) the plots around it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._tallest: dict[int, int] = {}  # width -> the most lines' height seen at it

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        height = max(super().heightForWidth(width), self._tallest.get(width, 0))
        if len(self._tallest) > 16:
            self._tallest.clear()
        self._tallest[width] = height
        return height


class ElidedLabel(QLabel):
    """One line (a folder, a file) that gives up its middle rather than its room: the whole
    text stays in the tooltip. ``fitting.cut_controls`` knows it is shortened on purpose."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance("…") * 8, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: N802
        from PySide6.QtGui import QPainter

        painter = QPainter(self)
        room = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, room.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(room, int(self.alignment()), text)


class Labelled(QWidget):
    """A label and its control kept together on one line of a ``FlowLayout``."""

    def __init__(self, text: str, control: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{control.objectName() or 'control'}Pair")
        self.control = control
        self.label = QLabel(text, self)
        self.label.setBuddy(control)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.label)
        row.addWidget(control)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # a pair never takes a row's room


def flow_row(*widgets: QWidget, spacing: int = 8) -> FlowLayout:
    """Controls on one line where there is room, on more where there is not."""
    row = FlowLayout(spacing=spacing)
    for widget in widgets:
        row.addWidget(widget)
    return row


class ScrollingPage(QScrollArea):
    """``page`` in a frameless area that scrolls when the room is smaller than the page needs."""

    def __init__(self, page: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self.setObjectName(f"{page.objectName() or 'page'}Scroll")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setWidget(page)
        self.setMinimumSize(PAGE_MINIMUM)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)


class ScrollingTabs(QTabWidget):
    """Tabs whose pages scroll when the window is smaller than they need, so a page never
    makes the window larger than the screen. Callers see their own pages (``widget``,
    ``currentWidget``, ``indexOf``, ``setCurrentWidget``), not the scrolling frames."""

    def addTab(self, page: QWidget, title: str) -> int:  # noqa: N802
        return self.add_page(page, title)

    def add_page(self, page: QWidget, title: str, scroll: bool = True) -> int:
        """Add ``page``; ``scroll=False`` for a page that scrolls by itself (the canvas)."""
        return super().addTab(ScrollingPage(page) if scroll else page, title)

    def widget(self, index: int) -> QWidget | None:
        frame = super().widget(index)
        return frame.page if isinstance(frame, ScrollingPage) else frame

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self.widget(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # noqa: N802
        for index in range(self.count()):
            if self.widget(index) is page:
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)
