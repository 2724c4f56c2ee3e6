"""One editor widget per catalog parameter kind: spin boxes, combo boxes, check boxes, text.

An editor shows a value and emits ``edited`` with what the user entered (or an
``Invalid`` explaining why the text cannot be read); the form checks it against
the catalog and refuses it in place with the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)
from superqt.utils import signals_blocked

from cnnstudio.core.catalog import Param
from cnnstudio.core.catalog.spec import (
    AXIS,
    BOOL,
    CHOICE,
    FACTOR,
    FLOAT,
    INT,
    INTS,
    PADDING,
    REGULARIZER,
    SHAPE,
)

from ..icons import icon

INT_LIMIT = 2_000_000_000
FLOAT_LIMIT = 1e12


class Invalid:
    """Text that cannot be turned into a value; ``message`` says what would be right."""

    def __init__(self, message: str) -> None:
        self.message = message


class FieldEditor(QWidget):
    edited = Signal(object)  # the entered value (JSON-ready) or an Invalid
    finished = Signal()  # the end of one editing burst (focus left, Enter, a click)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setObjectName(f"field_{param.name}")
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited``."""
        with signals_blocked(self):
            self._show(value)

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def emit_current(self) -> None:
        """Emit what the editor shows now (when a 'none' box is unticked)."""

    def _finish(self) -> None:
        """Editing ended: the spin box is back on a valid value, so any refusal is over."""
        self.emit_current()
        self.finished.emit()

    def _check_typed(self, text: str, spin: QSpinBox | QDoubleSpinBox) -> None:
        """A spin box silently refuses out-of-range numbers; say why instead."""
        value = parse_number(text)
        if value is not None and not spin.minimum() <= value <= spin.maximum():
            try:
                self.param.normalize(
                    int(value) if isinstance(spin, QSpinBox) and value.is_integer() else value
                )
                message = f"'{self.param.name}' must be between {spin.minimum():g} and {spin.maximum():g}"
            except (ValueError, TypeError) as exc:
                message = str(exc)
            self.edited.emit(Invalid(message))
        elif value is not None and isinstance(spin, QSpinBox) and not value.is_integer():
            self.edited.emit(Invalid(f"'{self.param.name}' must be a whole number, not {text.strip()}"))

    def editor_widgets(self) -> list[QWidget]:
        return [
            self.layout_.itemAt(i).widget()
            for i in range(self.layout_.count())
            if self.layout_.itemAt(i).widget() is not None
        ]


# ---------------------------------------------------------------------- numbers
class _SpinBox(QSpinBox):
    def wheelEvent(self, event) -> None:  # noqa: N802 (scrolling the form must not change values)
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class FloatSpinBox(QDoubleSpinBox):
    """A spin box that shows 0.001 as 0.001 (not 0.00), and accepts 1e-3 or 1/255."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        value = parse_number(text)
        return self.value() if value is None else value

    def validate(self, text: str, pos: int):  # noqa: N802
        stripped = text.strip()
        if parse_number(stripped) is not None:
            value = parse_number(stripped)
            if self.minimum() <= value <= self.maximum():
                return QValidator.State.Acceptable, text, pos
            return QValidator.State.Intermediate, text, pos
        if re.fullmatch(r"[-+0-9.eE/ ]*", stripped):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


def parse_number(text: str) -> float | None:
    """'0.5', '1e-3', '1/255' -> a float; anything else -> None."""
    text = text.strip()
    try:
        if "/" in text:
            top, bottom = text.split("/", 1)
            return float(top) / float(bottom)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


class IntEditor(FieldEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = _SpinBox(self)
        self.spin.setRange(
            int(param.minimum) if param.minimum is not None else -INT_LIMIT,
            int(param.maximum) if param.maximum is not None else INT_LIMIT,
        )
        self.spin.setKeyboardTracking(True)
        self.spin.setAccelerated(True)
        self.spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.spin.setToolTip(f"{param.doc}\nallowed: {param.describe_range()}")
        self.spin.valueChanged.connect(lambda v: self.edited.emit(int(v)))
        self.spin.lineEdit().textEdited.connect(lambda text: self._check_typed(text, self.spin))
        self.spin.editingFinished.connect(self._finish)
        self.layout_.addWidget(self.spin, 1)

    def _show(self, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.spin.setValue(int(value))

    def emit_current(self) -> None:
        self.edited.emit(int(self.spin.value()))


class FloatEditor(FieldEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = FloatSpinBox(self)
        low = param.minimum if param.minimum is not None else -FLOAT_LIMIT
        high = param.maximum if param.maximum is not None else FLOAT_LIMIT
        self.spin.setRange(low, high)
        self.spin.setSingleStep(0.05 if high <= 1 and low >= -1 else 0.1)
        self.spin.setKeyboardTracking(True)
        self.spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.spin.setToolTip(f"{param.doc}\nallowed: {param.describe_range()}")
        self.spin.valueChanged.connect(lambda v: self.edited.emit(float(v)))
        self.spin.lineEdit().textEdited.connect(lambda text: self._check_typed(text, self.spin))
        self.spin.editingFinished.connect(self._finish)
        self.layout_.addWidget(self.spin, 1)

    def _show(self, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.spin.setValue(float(value))

    def emit_current(self) -> None:
        self.edited.emit(float(self.spin.value()))


class IntsEditor(FieldEditor):
    """kernel_size, strides, pool_size, ...: one box while every axis has the same value (a square
    kernel), one box per axis once unlinked; equal values are stored as one number."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spins: list[QSpinBox] = []
        self.times: list[QLabel] = []
        for axis in range(max(1, param.rank)):
            if axis:
                times = QLabel("\u00d7", self)
                self.layout_.addWidget(times)
                self.times.append(times)
            spin = _SpinBox(self)
            spin.setRange(
                int(param.minimum) if param.minimum is not None else 0,
                int(param.maximum) if param.maximum is not None else INT_LIMIT,
            )
            spin.setKeyboardTracking(True)
            spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            spin.setToolTip(f"{param.doc}\nallowed: {param.describe_range()}")
            spin.setAccessibleName(f"{param.name}, axis {axis + 1}" if param.rank > 1 else param.name)
            spin.valueChanged.connect(lambda _v, axis=axis: self._changed(axis))
            spin.lineEdit().textEdited.connect(lambda text, spin=spin: self._check_typed(text, spin))
            spin.editingFinished.connect(self._finish)
            self.layout_.addWidget(spin, 1)
            self.spins.append(spin)
        self.link = QToolButton(self)
        self.link.setObjectName(f"link_{param.name}")
        self.link.setCheckable(True)
        self.link.setAutoRaise(True)
        self.link.setVisible(len(self.spins) > 1)
        self.link.toggled.connect(self._linked)
        self.layout_.addWidget(self.link)
        self.set_linked(True)

    @property
    def linked(self) -> bool:
        return len(self.spins) > 1 and self.link.isChecked()

    def set_linked(self, linked: bool) -> None:
        """Show one box for every axis (linked) or one per axis, without changing the value."""
        with signals_blocked(self.link):
            self.link.setChecked(linked)
        self._show_linked()

    def _show_linked(self) -> None:
        linked = self.linked
        for widget in self.spins[1:] + self.times:
            widget.setVisible(not linked)
        self.link.setIcon(icon("link" if linked else "unlink"))
        what = "every axis" if self.param.rank > 2 else "both axes"
        self.link.setToolTip(f"Linked: one value for {what} (a square {self.param.name}). Click to set each "
                             "axis on its own" if linked else f"Each axis on its own. Click to use one value for {what}")
        self.link.setAccessibleName(f"link the axes of {self.param.name}")

    def _linked(self, linked: bool) -> None:
        self._show_linked()
        if linked and len({s.value() for s in self.spins}) > 1:
            self.finished.emit()  # linking makes every axis take the first one's value: one edit of its own
            self._changed(0)
            self.finished.emit()

    def _changed(self, axis: int) -> None:
        if self.linked:
            value = self.spins[axis].value()
            for spin in self.spins:
                if spin.value() != value:
                    with signals_blocked(spin):
                        spin.setValue(value)
        self._emit()

    def emit_current(self) -> None:
        self._emit()

    def _emit(self, *_: Any) -> None:
        values = [s.value() for s in self.spins]
        self.edited.emit(values[0] if len(set(values)) == 1 else values)

    def editor_widgets(self) -> list[QWidget]:
        return list(self.spins)

    def _show(self, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [int(value)] * len(self.spins)
        if isinstance(value, (list, tuple)) and len(value) == len(self.spins):
            for spin, v in zip(self.spins, value, strict=True):
                if isinstance(v, (int, float)):
                    with signals_blocked(spin):  # shown as it is, not linked to the other axes
                        spin.setValue(int(v))
            if len({int(v) for v in value if isinstance(v, (int, float))}) > 1:
                self.set_linked(False)  # axes that differ are shown apart


# ---------------------------------------------------------------------- choices
class BoolEditor(FieldEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.setToolTip(param.doc)
        self.check.toggled.connect(self._toggled)
        self.layout_.addWidget(self.check, 1)

    def _toggled(self, checked: bool) -> None:
        self.edited.emit(bool(checked))
        self.finished.emit()

    def _show(self, value: Any) -> None:
        self.check.setChecked(bool(value))


class ChoiceEditor(FieldEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for choice in param.choices:
            self.combo.addItem("none" if choice is None else str(choice), choice)
        self.combo.setToolTip(param.doc)
        self.combo.activated.connect(self._activated)
        self.layout_.addWidget(self.combo, 1)

    def _activated(self, index: int) -> None:
        self.edited.emit(self.combo.itemData(index))
        self.finished.emit()

    def _show(self, value: Any) -> None:
        index = self.combo.findData(value)
        if index < 0 and value is not None:
            self.combo.addItem(str(value), value)  # a value from a file the catalog does not list
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(max(index, 0))


# ---------------------------------------------------------------------- text forms
class TextEditor(FieldEditor):
    """Shapes, paddings, factors, axes and regularizers, typed as short text."""

    PLACEHOLDERS = {
        SHAPE: "e.g. 28, 28, 1",
        PADDING: "e.g. 1  or  1, 2  or  [1, 1], [2, 2]",
        FACTOR: "e.g. 0.1  or  -0.1, 0.2",
        AXIS: "e.g. -1",
        REGULARIZER: "none, l1, l2 or l2=0.001",
    }

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("none" if param.nullable else self.PLACEHOLDERS.get(param.kind, ""))
        self.line.setToolTip(f"{param.doc}\n{self.PLACEHOLDERS.get(param.kind, '')}")
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._done)
        self.layout_.addWidget(self.line, 1)

    def emit_current(self) -> None:
        self.edited.emit(parse_text(self.param.kind, self.line.text()))

    def _typed(self, text: str) -> None:
        """Apply what reads as a value at once; text that does not read yet (half-typed)
        is only complained about when the user is done."""
        value = parse_text(self.param.kind, text)
        if not isinstance(value, Invalid):
            self.edited.emit(value)

    def _done(self) -> None:
        value = parse_text(self.param.kind, self.line.text())
        if isinstance(value, Invalid):
            self.edited.emit(value)
        self.finished.emit()

    def _show(self, value: Any) -> None:
        text = format_text(self.param.kind, value)
        if text != self.line.text() and parse_text(self.param.kind, self.line.text()) != value:
            self.line.setText(text)


def parse_text(kind: str, text: str) -> Any:
    """What the user typed -> a project-file value (lists, numbers, dicts) or Invalid."""
    t = text.strip()
    if t.lower() in ("", "none", "null"):
        return None
    if kind == REGULARIZER:
        if t in ("l1", "l2", "l1_l2"):
            return t
        out = {}
        for part in re.split(r"[,;]\s*|\s+(?=l[12])", t.strip("{} ")):
            match = re.fullmatch(r"['\"]?(l[12])['\"]?\s*[=:]\s*([-+0-9.eE/]+)", part.strip())
            value = parse_number(match.group(2)) if match else None
            if value is None:
                return Invalid(f"'{text}' is not a regularizer; write none, l1, l2 or l2=0.001")
            out[match.group(1)] = value
        return out
    if kind == SHAPE and re.fullmatch(r"[0-9?]+(\s*x\s*[0-9?]+)+", t):
        return [None if p.strip() == "?" else int(p) for p in t.split("x")]
    s = t.replace("(", "[").replace(")", "]").replace("None", "null").replace("?", "null")
    if not s.startswith("[") and "," in s:
        s = f"[{s}]"
    try:
        return json.loads(s)
    except ValueError:
        pass
    number = parse_number(t)
    if number is not None:
        return number
    examples = TextEditor.PLACEHOLDERS.get(kind, "")
    return Invalid(f"'{text}' is not understood; {examples or 'write numbers separated by commas'}")


def format_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == REGULARIZER and isinstance(value, dict):
        return ", ".join(f"{k}={v:g}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_item(v) for v in value)
    return _format_item(value)


def _format_item(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_item(v) for v in value) + "]"
    return str(value)


# ---------------------------------------------------------------------- none-able wrapper
class NullableEditor(FieldEditor):
    """A check box 'none' beside the editor for parameters that may be left empty."""

    def __init__(self, inner: FieldEditor, parent: QWidget | None = None) -> None:
        super().__init__(inner.param, parent)
        self.inner = inner
        self.fallback: Any = None  # what the inner editor shows while 'none' is ticked
        self.none = QCheckBox("none", self)
        self.none.setToolTip(f"Leave '{inner.param.name}' empty: {inner.param.doc}")
        self.layout_.addWidget(inner, 1)
        self.layout_.addWidget(self.none)
        inner.edited.connect(self.edited)
        inner.finished.connect(self.finished)
        self.none.toggled.connect(self._toggled)

    def _toggled(self, empty: bool) -> None:
        self.inner.setEnabled(not empty)
        if empty:
            self.edited.emit(None)
        else:
            self.inner.emit_current()
        self.finished.emit()

    def _show(self, value: Any) -> None:
        self.none.setChecked(value is None)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self.inner.set_value(value)
        elif self.fallback is not None:
            self.inner.set_value(self.fallback)


_EDITORS = {INT: IntEditor, FLOAT: FloatEditor, INTS: IntsEditor, BOOL: BoolEditor, CHOICE: ChoiceEditor}


def make_editor(param: Param, parent: QWidget | None = None) -> FieldEditor:
    """The editor for a parameter, with a 'none' box where the value may be empty."""
    cls = _EDITORS.get(param.kind, TextEditor)
    if param.kind == CHOICE and not param.choices:
        cls = TextEditor
    editor = cls(param, parent)
    if param.nullable and cls in (IntEditor, FloatEditor, IntsEditor):
        return NullableEditor(editor, parent)
    return editor
