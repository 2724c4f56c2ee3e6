"""Does every visible control show whole at the window's present size?

A label, button or value is *cut* when it is squeezed below the room its text needs,
when a wrapped label is shorter than its lines, or when it lies partly outside a
parent that cannot scroll to it. A panel that scrolls sideways to show its controls
counts too: panels reflow or scroll vertically. The tests check every main tab and
panel at laptop sizes with this, and ``scripts/take_screenshots.py`` prints it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QLabel,
    QScrollArea,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionSpinBox,
    QTabBar,
    QWidget,
)

from .reflow import ElidedLabel

TOLERANCE = 2  # pixels: rounding of fractional scaling, and styles that measure a combo box a little wider


def cut_controls(root: QWidget) -> list[str]:
    """One line per visible control under ``root`` that does not show whole (empty: all fine)."""
    problems = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisible() or QWidget.window(widget) is not QWidget.window(root) or _internal(widget):
            continue
        if isinstance(widget, QScrollArea) and widget.horizontalScrollBar().isVisible():
            problems.append(f"{_name(widget)} scrolls sideways ({widget.widget().width()} px wide in {widget.viewport().width()})")
            continue
        why = _squeezed(widget)
        if why is None:
            why = _outside_parent(widget)
        if why is not None:
            problems.append(f"{_name(widget)} {why}")
    return problems


def _internal(widget: QWidget) -> bool:
    """Parts Qt draws for itself (tab bar scroll buttons, item view editors), and panels
    tabbed behind another (Qt keeps those "visible", out of sight)."""
    parent = widget if isinstance(widget, QDockWidget) else widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QTabBar, QAbstractItemView)):
            return True
        if isinstance(parent, QDockWidget) and parent.visibleRegion().isEmpty():
            return True
        parent = parent.parentWidget()
    return type(widget).__name__ in ("QDockWidgetTitleButton", "QToolBarExtension")


def _squeezed(widget: QWidget) -> str | None:
    size = widget.size()
    if isinstance(widget, ElidedLabel):
        return None  # shortened on purpose, whole in its tooltip
    if isinstance(widget, QLabel):
        if not widget.text() or widget.pixmap() is not None and not widget.pixmap().isNull():
            return None
        if widget.wordWrap():
            needed = QSize(widget.minimumSizeHint().width(), widget.heightForWidth(size.width()))
        else:
            needed = widget.sizeHint()
        return _less(size, needed, f"label '{_short(widget.text())}'")
    if isinstance(widget, QAbstractButton):
        if not widget.text():
            return None
        return _less(size, widget.minimumSizeHint(), f"button '{_short(widget.text())}'")
    if isinstance(widget, QComboBox):
        option = QStyleOptionComboBox()
        widget.initStyleOption(option)
        text = widget.fontMetrics().horizontalAdvance(widget.currentText())
        icon = widget.iconSize().width() + 4 if not widget.itemIcon(widget.currentIndex()).isNull() else 0
        needed = widget.style().sizeFromContents(
            QStyle.ContentsType.CT_ComboBox, option, QSize(text + icon, widget.fontMetrics().height()), widget
        )
        return _less(size, needed, f"choice '{_short(widget.currentText())}'")
    if isinstance(widget, QAbstractSpinBox):
        option = QStyleOptionSpinBox()
        widget.initStyleOption(option)
        text = widget.fontMetrics().horizontalAdvance(widget.text() + " ")
        needed = widget.style().sizeFromContents(
            QStyle.ContentsType.CT_SpinBox, option, QSize(text, widget.fontMetrics().height()), widget
        )
        return _less(size, needed, f"value '{widget.text()}'")
    return None


def _less(size: QSize, needed: QSize, what: str) -> str | None:
    if size.width() + TOLERANCE < needed.width() or size.height() + TOLERANCE < needed.height():
        return f"{what} is cut: {size.width()}x{size.height()} px shown, {needed.width()}x{needed.height()} needed"
    return None


def _outside_parent(widget: QWidget) -> str | None:
    """Part of ``widget`` lies outside an ancestor that shows it (up to the first that scrolls)."""
    if not isinstance(widget, (QLabel, QAbstractButton, QComboBox, QAbstractSpinBox)):
        return None
    rect = QRect(widget.rect())
    child = widget
    parent = widget.parentWidget()
    while parent is not None and child is not QWidget.window(widget):
        rect.translate(child.pos())
        scroll_area = parent.parentWidget()
        if isinstance(scroll_area, QAbstractScrollArea) and parent is scroll_area.viewport():
            return None  # the user can scroll to it
        inside = parent.rect().adjusted(-TOLERANCE, -TOLERANCE, TOLERANCE, TOLERANCE)
        if not inside.contains(rect):
            return f"is cut by {_name(parent)}: at {rect.x()},{rect.y()} {rect.width()}x{rect.height()} in {parent.width()}x{parent.height()}"
        child, parent = parent, parent.parentWidget()
    return None


def _name(widget: QWidget) -> str:
    names = []
    while widget is not None and len(names) < 3:
        names.append(widget.objectName() or type(widget).__name__)
        widget = widget.parentWidget()
    return "/".join(reversed(names))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"
