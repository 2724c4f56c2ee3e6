"""The form for one layer, generated from its catalog entry, with the live formulas.

Edits apply at once as undoable commands (a typing burst in one field is one
step); values the catalog refuses are shown in place with the reason and never
reach the network.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from cnnstudio.core.analysis import LayerInfo
from cnnstudio.core.catalog import CATALOG, LayerSpec, Param, ParamError, dims_text, jsonable
from cnnstudio.core.network import ID_PATTERN
from cnnstudio.ui import tab_order

from ..document import ProjectDocument
from ..editor.commands import RenameCommand, SetParamCommand, new_burst
from ..icons import category_icon
from ..theme import ERROR_COLOR, WARNING_COLOR
from .fields import FieldEditor, IntsEditor, Invalid, NullableEditor, make_editor, parse_text
from .freezing import FreezeControl
from .undo_keys import DocumentUndoKeys

_MISSING = object()


def shown_value(param: Param, params: dict[str, Any]) -> Any:
    """What the form shows: the layer's own value, else Keras's default, else the starting value."""
    if param.name in params:
        return params[param.name]
    return param.starting_value if param.required else param.default


def muted_label(text: str = "", parent: QWidget | None = None, small: bool = True) -> QLabel:
    """Secondary text in the palette's placeholder grey (follows light and dark mode)."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    if small:
        font = label.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        label.setFont(font)
    return label


def section_title(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text.upper(), parent)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
    label.setFont(font)
    label.setContentsMargins(0, 8, 0, 2)
    return label


class ParamRow(QWidget):
    """An editor, its explanation, and the reason when a value is refused."""

    def __init__(self, editor: FieldEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.doc = muted_label(editor.param.doc, self)
        self.error = QLabel(self)
        self.error.setObjectName(f"error_{editor.param.name}")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(1)
        layout.addWidget(editor)
        layout.addWidget(self.error)
        layout.addWidget(self.doc)

    def set_error(self, message: str | None) -> None:
        self.error.setText(f"\u26a0 {message}" if message else "")
        self.error.setVisible(bool(message))


class LayerForm(QWidget):
    """Inspector page for one selected layer."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self.spec: LayerSpec | None = None
        self.rows: dict[str, ParamRow] = {}
        self._burst = new_burst()
        self.undo_keys = DocumentUndoKeys(self._end_burst, self)
        self._build()
        document.networkChanged.connect(self._on_network_changed)
        document.analysisChanged.connect(lambda _analysis: self._refresh_computed())

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.icon = QLabel(self)
        self.title = QLabel(self)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.category = muted_label("", self)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.icon)
        title_box = QVBoxLayout()
        title_box.setSpacing(0)
        title_box.addWidget(self.title)
        title_box.addWidget(self.category)
        header.addLayout(title_box, 1)
        self.doc = QLabel(self)
        self.doc.setWordWrap(True)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("layerName")
        self.name_edit.setAccessibleName("Layer name")
        self.name_edit.setToolTip("The layer's id: it becomes the Keras layer name")
        self.name_edit.editingFinished.connect(self._rename)
        self.undo_keys.watch(self.name_edit, lambda: self.name_edit.text().strip() == self.node_id)
        self.name_error = QLabel(self)
        self.name_error.setWordWrap(True)
        self.name_error.setStyleSheet(f"color: {ERROR_COLOR};")
        self.name_error.hide()
        self.problems = QLabel(self)
        self.problems.setObjectName("layerProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setFrameShape(QFrame.Shape.StyledPanel)
        self.problems.setContentsMargins(6, 4, 6, 4)
        self.problems.hide()

        self.params_box = QWidget(self)
        self.params_form = _form(self.params_box)
        self.no_params = muted_label("This layer has no parameters to set.", self, small=False)
        self.more = QCollapsible("More parameters", self)
        self.more.setObjectName("moreParameters")
        self.more_box = QWidget()
        self.more_form = _form(self.more_box)
        self.more.addWidget(self.more_box)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.92))
        self.computed: dict[str, tuple[QLabel, QLabel]] = {}
        computed_box = QWidget(self)
        computed_form = _form(computed_box)
        for key, title in (
            ("inputs", "Input"),
            ("shape", "Output shape"),
            ("params", "Parameters"),
            ("field", "Receptive field"),
        ):
            value = QLabel(computed_box)
            value.setObjectName(f"computed_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            bold = value.font()
            bold.setBold(True)
            value.setFont(bold)
            formula = QLabel(computed_box)
            formula.setObjectName(f"formula_{key}")
            formula.setFont(mono)
            formula.setWordWrap(True)
            formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            cell = QWidget(computed_box)
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 4)
            cell_layout.setSpacing(1)
            cell_layout.addWidget(value)
            cell_layout.addWidget(formula)
            computed_form.addRow(title, cell)
            self.computed[key] = (value, formula)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.doc)
        layout.addWidget(self.problems)
        layout.addWidget(section_title("Layer", self))
        name_form = _form(None)
        name_form.addRow("id", self.name_edit)
        name_form.addRow("", self.name_error)
        layout.addLayout(name_form)
        self.freeze = FreezeControl(self.document, self)
        layout.addWidget(self.freeze)
        layout.addWidget(section_title("Parameters", self))
        layout.addWidget(self.params_box)
        layout.addWidget(self.no_params)
        layout.addWidget(self.more)
        layout.addWidget(section_title("Computed", self))
        layout.addWidget(computed_box)
        layout.addStretch(1)

    # ------------------------------------------------------------------ showing a layer
    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 - Qt's name
        """Tab goes through the form as it is read: row by row, left to right."""
        return tab_order.step(self, forward) or super().focusNextPrevChild(forward)

    def show_node(self, node_id: str) -> None:
        node = self.document.network.node(node_id)
        spec = CATALOG.get(node.type)
        same_type = self.spec is not None and spec is self.spec
        self.node_id = node_id
        self._burst = new_burst()
        if not same_type:
            self.spec = spec
            self._build_rows(spec)
        self.title.setText(node.type)
        self.category.setText(spec.category if spec else "unknown layer type")
        self.icon.setPixmap(category_icon(spec.category if spec else "").pixmap(32, 32))
        self.doc.setText(spec.doc[:1].upper() + spec.doc[1:] + "." if spec else "")
        self.name_edit.setText(node_id)
        self.name_error.hide()
        self.freeze.show_node(node_id)
        self._refresh_values()
        for row in self.rows.values():  # a square kernel in one box; axes that differ apart
            editor = row.editor.inner if isinstance(row.editor, NullableEditor) else row.editor
            if isinstance(editor, IntsEditor):
                editor.set_linked(len({spin.value() for spin in editor.spins}) == 1)
        self._refresh_computed()

    def _build_rows(self, spec: LayerSpec | None) -> None:
        for form in (self.params_form, self.more_form):
            form.clear()
        self.rows = {}
        advanced = 0
        for param in spec.params if spec else ():
            editor = make_editor(param)
            row = ParamRow(editor)
            label = QLabel(param.name)
            label.setToolTip(param.doc)
            label.setBuddy(editor.editor_widgets()[0] if editor.editor_widgets() else editor)
            (self.more_form if param.advanced else self.params_form).addRow(label, row)
            advanced += param.advanced
            editor.edited.connect(lambda value, p=param: self._on_edited(p, value))
            editor.finished.connect(self._end_burst)
            self._watch_undo_keys(editor)
            self.rows[param.name] = row
        self.more.setVisible(advanced > 0)
        self.more.setText(f"More parameters ({advanced})")
        self.no_params.setVisible(not self.rows)

    def _watch_undo_keys(self, editor: FieldEditor) -> None:
        for spin in editor.findChildren(QAbstractSpinBox):  # the box hands the key to its line edit itself
            self.undo_keys.watch(spin, spin.hasAcceptableInput)
            self.undo_keys.watch(spin.lineEdit(), spin.hasAcceptableInput)
        for line in editor.findChildren(QLineEdit):
            if not isinstance(line.parentWidget(), QAbstractSpinBox):
                kind = editor.param.kind
                self.undo_keys.watch(line, lambda line=line, kind=kind: not isinstance(parse_text(kind, line.text()),
                                                                                         Invalid))

    def focus_first(self) -> None:
        for row in self.rows.values():
            widgets = row.editor.editor_widgets()
            if widgets and not row.editor.param.advanced:
                target = getattr(row.editor, "inner", row.editor).editor_widgets()[0]
                target.setFocus(Qt.FocusReason.OtherFocusReason)
                if hasattr(target, "selectAll"):
                    target.selectAll()
                return
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def editor(self, name: str) -> FieldEditor:
        return self.rows[name].editor

    def _refresh_values(self) -> None:
        if self.node_id is None or self.node_id not in self.document.network:
            return
        params = self.document.network.node(self.node_id).params
        for name, row in self.rows.items():
            if isinstance(row.editor, NullableEditor):
                row.editor.fallback = self._fallback(name, params)
            row.editor.set_value(jsonable(shown_value(row.editor.param, params)))

    def _fallback(self, name: str, params: dict[str, Any]) -> Any:
        """What an empty parameter means, shown greyed out (pooling strides = the pool size)."""
        if name == "strides" and self.spec is not None and "pool_size" in self.spec.param_names:
            return jsonable(shown_value(self.spec.param("pool_size"), params))
        param = self.spec.param(name) if self.spec is not None else None
        if param is None or param.minimum is None:
            return None
        return param.minimum if param.kind != "float" else float(param.minimum)

    def _refresh_computed(self) -> None:
        if self.node_id is None or self.node_id not in self.document.network:
            return
        analysis = self.document.analysis()
        info: LayerInfo | None = analysis.layers.get(self.node_id)
        sources = self.document.network.inputs_of(self.node_id)
        inputs = []
        for src in sources:
            src_info = analysis.layers.get(src)
            shape = dims_text(src_info.output_shape) if src_info and src_info.output_shape else "?"
            inputs.append(f"{shape} from {src}")
        is_input = self.spec is not None and self.spec.max_inputs == 0
        nothing = "none: the data enters the network here" if is_input else "not connected yet"
        self._set_computed("inputs", "; ".join(inputs) or nothing, [])
        if info is None or info.output_shape is None:
            self._set_computed("shape", "cannot be computed until the problem above is fixed", [])
            self._set_computed("params", "-", [])
            self._set_computed("field", "-", [])
        else:
            self._set_computed(
                "shape", dims_text(info.output_shape) + "   (batch axis left out)", info.shape_formula
            )
            parts = f"{info.weights:,} weights + {info.biases:,} biases"
            if info.non_trainable:
                parts += f"; {info.non_trainable:,} of them not trained"
            parts += f"; {info.params - info.non_trainable:,} trainable"
            self._set_computed("params", f"{info.params:,}   ({parts})", info.param_formula)
            if info.receptive_field is None:
                field = "none: after this layer the values no longer correspond to image positions"
            else:
                field = f"{dims_text(info.receptive_field)} input pixels"
            self._set_computed("field", field, info.field_formula)
        self._set_problems(info)

    def _set_computed(self, key: str, value: str, formulas: list[str]) -> None:
        value_label, formula_label = self.computed[key]
        value_label.setText(value)
        formula_label.setText("\n".join(formulas))
        formula_label.setVisible(bool(formulas))

    def _set_problems(self, info: LayerInfo | None) -> None:
        diagnostics = info.diagnostics if info else []
        if not diagnostics:
            self.problems.hide()
            return
        lines = []
        for d in diagnostics:
            color = ERROR_COLOR if d.severity == "error" else WARNING_COLOR
            label = "Error" if d.severity == "error" else "Warning"
            lines.append(f"<span style='color:{color}'><b>{label}:</b></span> {_escape(d.message)}")
        self.problems.setText("<br>".join(lines))
        self.problems.show()

    # ------------------------------------------------------------------ edits
    def _on_edited(self, param: Param, value: Any) -> None:
        row = self.rows.get(param.name)
        if row is None or self.node_id is None:
            return
        if isinstance(value, Invalid):
            row.set_error(value.message)
            return
        try:
            param.normalize(value)
        except ParamError as exc:
            row.set_error(str(exc))
            return
        row.set_error(None)
        network = self.document.network
        if network.node(self.node_id).params.get(param.name, _MISSING) == value:
            return
        self.document.push(SetParamCommand(network, self.node_id, param.name, value, burst=self._burst))

    def _end_burst(self) -> None:
        self._burst = new_burst()

    def _rename(self) -> None:
        if self.node_id is None:
            return
        new = self.name_edit.text().strip()
        if new == self.node_id:
            self.name_error.hide()
            return
        network = self.document.network
        problem = None
        if not ID_PATTERN.match(new):
            problem = f"'{new}' is not a valid id: use letters, digits and _, not starting with a digit"
        elif new in network:
            problem = f"there is already a layer '{new}'"
        if problem:
            self.name_error.setText(f"\u26a0 {problem}")
            self.name_error.show()
            return
        self.name_error.hide()
        self.document.push(RenameCommand(network, self.node_id, new))

    # ------------------------------------------------------------------ model events
    def _on_network_changed(self, kind: str, ids: list[str]) -> None:
        if self.node_id is None:
            return
        if kind == "renamed" and ids[0] == self.node_id:
            self.node_id = ids[1]
            self.name_edit.setText(ids[1])
            self.freeze.show_node(ids[1])
        else:
            self.freeze.refresh()  # a layer or a block holding it was frozen or unfrozen
        if kind == "params" and self.node_id in ids:
            self._refresh_values()


class FormRows(QGridLayout):
    """Label-and-field rows like QFormLayout, on a grid: QFormLayout shares the height of rows with
    wrapped text out evenly, squeezing long explanations and formulas; a grid gives each row its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setContentsMargins(0, 0, 0, 0)
        self.setHorizontalSpacing(10)
        self.setVerticalSpacing(6)
        self.setColumnStretch(1, 1)
        self._rows = 0

    def addRow(self, label: QWidget | str, field: QWidget) -> None:  # noqa: N802 (as QFormLayout)
        if label:
            label = QLabel(label) if isinstance(label, str) else label
            inner = field.layout()  # the label level with the field's first line (its editor)
            first = inner.itemAt(0).widget() if inner is not None and inner.count() else field
            top = max(0, (first.sizeHint().height() - label.sizeHint().height()) // 2)
            label.setContentsMargins(0, top, 0, 0)
            self.addWidget(label, self._rows, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.addWidget(field, self._rows, 1)
        self._rows += 1

    def rowCount(self) -> int:  # noqa: N802 (as QFormLayout)
        return self._rows

    def clear(self) -> None:
        """Remove every row and delete its widgets."""
        while self.count():
            widget = self.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._rows = 0


def _form(parent: QWidget | None) -> FormRows:
    return FormRows(parent)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
