"""Every control a keyboard or screen-reader user reaches has a name that a screen reader can say."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

from cnnstudio.ui import dialogs

CONTROLS = (QAbstractButton, QLineEdit, QAbstractSpinBox, QComboBox, QAbstractSlider, QAbstractItemView,
            QTextEdit, QPlainTextEdit)


def _inside(widget: QWidget, kinds: tuple[type, ...]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def unnamed_controls(root: QWidget) -> list[str]:
    """Each focusable control under ``root`` whose name a screen reader could not say, described."""
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None}
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, (QScrollBar, QTabBar)):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if widget.objectName().startswith("qt_"):  # Qt's own parts (spin box line edits, dock buttons)
            continue
        if _inside(widget, (QAbstractSpinBox, QComboBox, QMenu)):
            continue  # a box speaks for its editor and popup list; menus are read by their entries
        named = bool(widget.accessibleName().strip()) or id(widget) in buddies
        if isinstance(widget, QAbstractButton):
            named = named or bool(widget.text().replace("&", "").strip())
        if not named:
            chain, parent = [], widget
            while parent is not None and parent is not root:
                chain.append(parent.objectName() or type(parent).__name__)
                parent = parent.parentWidget()
            missing.append(f"{type(widget).__name__} {' < '.join(chain)} (tooltip: {widget.toolTip()[:50]!r})")
    return missing


def test_every_control_of_the_main_window_has_an_accessible_name(main_window):
    assert main_window.features.exporting.dialog is not None  # made on first use
    main_window.editor.select(["conv1"])  # the Inspector's form for a layer
    assert main_window.inspector.findChild(QWidget, "layerName").isVisibleTo(main_window.inspector)
    missing = unnamed_controls(main_window)
    assert not missing, f"{len(missing)} controls without an accessible name:\n" + "\n".join(missing)


def test_every_control_of_the_template_dialog_has_an_accessible_name(qtbot):
    dialog = dialogs.TemplateDialog()
    qtbot.addWidget(dialog)
    missing = unnamed_controls(dialog)
    assert not missing, f"{len(missing)} controls without an accessible name:\n" + "\n".join(missing)
