"""The inspector: a catalog-generated form, live formulas, undoable edits, refusals in place,
and the whole-network overview."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from cnnstudio.core.analysis import analyze
from cnnstudio.core.catalog import CATALOG
from cnnstudio.ui.inspector.fields import TextEditor


def _select(window, node_id):
    window.editor.select([node_id])
    assert window.inspector.showing == "layer"
    return window.inspector.form


def test_nothing_selected_shows_the_network_figures(main_window):
    overview = main_window.inspector.overview
    assert main_window.inspector.showing == "network"
    analysis = analyze(main_window.document.network)
    assert overview.figures["layers"].text() == "9"
    assert overview.figures["total"].text() == f"{analysis.total_params:,}"
    assert "for a batch of 64" in overview.figures["memory"].text()


def test_the_per_layer_table_is_the_summary_panels_alone(main_window):
    """One table: the Inspector's overview brings the Summary panel forward instead of repeating it."""
    from PySide6.QtWidgets import QTableView

    assert not main_window.inspector.findChildren(QTableView)
    summary = main_window.docks["summary"]
    main_window.docks["runs"].raise_()
    main_window.inspector.overview.summary_button.click()
    assert summary.isVisible() and not summary.visibleRegion().isEmpty()
    table = main_window.summary.table.model()
    assert table.rowCount() == 9
    assert [table.index(3, c).data() for c in range(7)] == [
        "conv2", "Conv2D", "10x10x16", "2,400", "16", "2,416", "14x14",
    ]


def test_the_form_is_generated_from_the_catalog(main_window):
    form = _select(main_window, "conv1")
    spec = CATALOG["Conv2D"]
    assert set(form.rows) == set(spec.param_names)
    filters = form.editor("filters").spin
    assert isinstance(filters, QSpinBox) and filters.minimum() == 1 and filters.value() == 6
    padding = form.editor("padding").combo
    assert isinstance(padding, QComboBox)
    assert [padding.itemText(i) for i in range(padding.count())] == ["valid", "same"]
    assert padding.currentText() == "same"
    assert isinstance(form.editor("use_bias").check, QCheckBox)
    assert [s.value() for s in form.editor("kernel_size").spins] == [5, 5]
    assert spec.param("filters").doc in form.rows["filters"].doc.text()
    advanced = [p.name for p in spec.params if p.advanced]
    assert all(form.rows[name].isHidden() or not form.more.isExpanded() for name in advanced)


def test_the_formulas_show_the_numbers_filled_in(main_window):
    form = _select(main_window, "conv1")
    values = {k: v.text() for k, (v, _) in form.computed.items()}
    formulas = {k: f.text() for k, (_, f) in form.computed.items()}
    assert values["shape"].startswith("28x28x6")
    assert "(5*5*1 + 1) * 6 = 156" in formulas["params"]
    assert values["params"].startswith("156")
    assert values["field"].startswith("5x5")
    assert "rf = 1 + (5 - 1) * 1 = 5" in formulas["field"]
    assert "28x28x1 from input" in values["inputs"]


def test_typing_a_parameter_updates_the_shape_at_once_and_undoes_in_one_step(main_window, qtbot):
    form = _select(main_window, "conv1")
    spin = form.editor("filters").spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "32")
    network, stack = main_window.document.network, main_window.document.undo_stack
    assert network.node("conv1").params["filters"] == 32
    assert form.computed["shape"][0].text().startswith("28x28x32")
    assert main_window.editor.scene.nodes["conv1"].shape_text == "28x28x32"
    assert main_window.summary_model.index(1, 2).data() == "28x28x32"
    assert stack.count() == 1  # "3" then "32": one typing burst, one step
    stack.undo()
    assert network.node("conv1").params["filters"] == 6
    assert spin.value() == 6  # the form follows the model
    assert form.computed["shape"][0].text().startswith("28x28x6")


def test_separate_edits_are_separate_steps(main_window):
    form = _select(main_window, "conv2")
    stack = main_window.document.undo_stack
    form.editor("filters").spin.setValue(20)
    form.editor("filters").finished.emit()
    form.editor("filters").spin.setValue(24)
    combo = form.editor("padding").combo
    combo.setCurrentIndex(combo.findData("same"))
    combo.activated.emit(combo.currentIndex())
    assert stack.count() == 3
    assert main_window.document.analysis().layers["conv2"].output_shape == (14, 14, 24)
    stack.undo()
    assert main_window.document.network.node("conv2").params.get("padding", "valid") == "valid"


def test_an_out_of_range_number_is_refused_in_place_with_the_reason(main_window, qtbot):
    form = _select(main_window, "conv1")
    spin = form.editor("filters").spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "0")
    row = form.rows["filters"]
    assert not row.error.isHidden()
    assert ">= 1" in row.error.text()
    assert main_window.document.network.node("conv1").params["filters"] == 6
    assert main_window.document.undo_stack.count() == 0
    qtbot.keyClicks(spin, "8")  # "08" -> 8, fine again
    assert row.error.isHidden()


def test_an_invalid_shape_is_refused_in_place_with_the_reason(main_window):
    form = _select(main_window, "input")
    editor = form.editor("shape")
    assert isinstance(editor, TextEditor)
    assert editor.line.text() == "28, 28, 1"
    editor.line.setText("28, -3, 1")
    editor.line.textEdited.emit("28, -3, 1")
    assert "positive whole numbers" in form.rows["shape"].error.text()
    assert main_window.document.network.node("input").params["shape"] == [28, 28, 1]
    editor.line.textEdited.emit("32, 32, 1")
    assert form.rows["shape"].error.isHidden()
    assert main_window.document.analysis().layers["conv1"].output_shape == (32, 32, 6)


def test_a_valid_value_that_breaks_the_network_is_shown_on_the_layer(main_window):
    form = _select(main_window, "conv2")
    form.editor("kernel_size").spins[0].setValue(20)
    assert form.problems.isVisible() or not form.problems.isHidden()
    assert "does not fit" in form.problems.text()
    assert "cannot be computed" in form.computed["shape"][0].text()


def test_renaming_a_layer_is_undoable_and_bad_names_are_refused(main_window):
    form = _select(main_window, "conv1")
    form.name_edit.setText("first conv")
    form.name_edit.editingFinished.emit()
    assert not form.name_error.isHidden() and "not a valid id" in form.name_error.text()
    form.name_edit.setText("pool1")
    form.name_edit.editingFinished.emit()
    assert "already a layer" in form.name_error.text()
    form.name_edit.setText("features")
    form.name_edit.editingFinished.emit()
    network = main_window.document.network
    assert "features" in network and "conv1" not in network
    assert network.inputs_of("pool1") == ["features"]
    assert "features" in main_window.editor.scene.nodes
    main_window.document.undo_stack.undo()
    assert "conv1" in network and form.name_edit.text() == "conv1"


def test_every_catalog_layer_gets_a_working_form(main_window):
    editor = main_window.editor
    for type_name in CATALOG:
        new_id = editor.add_layer(type_name, (2000.0, 0.0))
        form = main_window.inspector.form
        assert main_window.inspector.showing == "layer"
        assert form.title.text() == type_name
        assert set(form.rows) == set(CATALOG[type_name].param_names)
        main_window.document.undo_stack.undo()
        assert new_id not in main_window.document.network


def test_a_nullable_parameter_can_be_emptied(main_window):
    editor = main_window.editor
    editor.select(["pool1"])
    form = main_window.inspector.form
    strides = form.editor("strides")
    assert strides.none.isChecked()  # None: the pool size
    strides.none.setChecked(False)
    assert main_window.document.network.node("pool1").params["strides"] == 2
    strides.inner.link.click()  # each axis on its own
    strides.inner.spins[0].setValue(1)
    assert main_window.document.network.node("pool1").params["strides"] == [1, 2]
    strides.none.setChecked(True)
    assert main_window.document.network.node("pool1").params["strides"] is None


def test_double_clicking_a_layer_puts_the_keyboard_in_its_first_parameter(main_window, qtbot):
    from PySide6.QtWidgets import QApplication

    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow, timeout=2000)
    form = _select(main_window, "fc1")
    main_window.editor.scene.nodeActivated.emit("fc1")  # what a double-click on the layer sends
    units = form.editor("units").spin
    qtbot.waitUntil(lambda: QApplication.focusWidget() is units, timeout=2000)
    units.selectAll()
    qtbot.keyClicks(units, "64")
    qtbot.keyClick(units, Qt.Key.Key_Return)
    assert main_window.document.network.node("fc1").params["units"] == 64
