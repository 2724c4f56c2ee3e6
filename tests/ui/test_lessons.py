"""Each guided lesson sets up what it promises, with numbers from core and from the runs it trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from cnnstudio.core.analysis import analyze
from cnnstudio.core.playground import KERNEL_PRESETS
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import load_template
from cnnstudio.ui import dialogs
from cnnstudio.ui.lessons import LESSONS, facts
from cnnstudio.ui.lessons.results import FieldResult, KernelPair, ParameterResult, RunsResult

TINY = {"epochs": 1, "max_steps_per_epoch": 2}
TRAINING_TIMEOUT_MS = 180_000


@pytest.fixture
def window(main_window):
    """The main window, its lessons training tiny runs."""
    main_window.features.lessons.runner.training_overrides = dict(TINY)
    main_window.features.training.evaluate_test = False
    return main_window


def run_lesson(window, qtbot, key: str, timeout: int = 5_000):
    panel = window.features.lessons.present(key)
    with qtbot.waitSignal(panel.runner.finished, timeout=timeout) as finished:
        assert panel.start()
    assert finished.args == [key, True], panel.status.text()
    return panel


def test_help_lessons_lists_the_five_lessons_and_opens_the_chosen_one(window):
    menu = window.findChild(QMenu, "menu_lessons")
    keys = [a.objectName().removeprefix("action_lesson_") for a in menu.actions() if a.objectName().startswith(
        "action_lesson_")]
    assert keys == [info.key for info in LESSONS]
    window.findChild(QAction, "action_lesson_stripes-edge").trigger()
    assert window.docks["lessons"].isVisible()
    assert window.features.lessons.current == "stripes-edge"
    assert "One filter learns to find edges" in window.features.lessons.title.text()


def test_starting_a_lesson_asks_to_save_unsaved_changes_and_keeps_the_project_on_cancel(window, monkeypatch):
    window.document.set_name("My own network")
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: asked.append(name) or dialogs.CANCEL)
    window.features.lessons.present("parameters")
    assert not window.features.lessons.start()
    assert asked == ["My own network"]
    assert window.document.name == "My own network"
    assert "kept" in window.features.lessons.status.text()
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: dialogs.DISCARD)  # lets the test close


def test_the_parameter_lesson_shows_core_numbers_side_by_side(window, qtbot):
    panel = run_lesson(window, qtbot, "parameters")
    result = panel.results["parameters"]
    assert isinstance(result, ParameterResult)
    mlp, cnn = analyze(load_template("mlp").network), analyze(load_template("lenet5").network)
    for grid, analysis in zip(result.tables, (mlp, cnn)):
        shown = {grid.item(r, 0).text(): grid.item(r, 1).text() for r in range(grid.rowCount())}
        assert shown == {info.id: f"{info.params:,}" for info in analysis.layers.values()}
    assert f"{mlp.total_params / cnn.total_params:.1f} : 1" in result.ratio.text()
    assert "669,706" in result.sentence.text() and "61,706" in result.sentence.text()
    assert window.document.name == "LeNet-5"
    assert window.tabs.currentWidget() is window.editor


def test_the_shuffled_pixels_lesson_trains_four_runs_and_compares_them(window, qtbot):
    started = []
    window.features.training.started.connect(started.append)
    panel = run_lesson(window, qtbot, "shuffled-pixels", TRAINING_TIMEOUT_MS)
    comparison = window.features.runs.comparison
    assert len(started) == 4 and window.tabs.currentWidget() is comparison and len(comparison.summaries) == 4
    trained = [load_project(summary.path / "project.cnnproj") for summary in comparison.summaries]
    assert [p.name for p in trained] == ["MLP, plain pixels", "MLP, shuffled pixels", "LeNet-5, plain pixels",
                                         "LeNet-5, shuffled pixels"]
    assert [p.dataset["permute_pixels"] is not None for p in trained] == [False, True, False, True]
    assert [len(p.network) for p in trained] == [5, 5, 9, 9]
    result = panel.results["shuffled-pixels"]
    assert isinstance(result, RunsResult) and result.table.rowCount() == 4
    assert "The MLP reached" in result.verdict.text() and "LeNet-5 reached" in result.verdict.text()


def test_the_x_vs_o_lesson_trains_then_shows_the_filters_and_an_x(window, qtbot):
    run_lesson(window, qtbot, "x-vs-o", TRAINING_TIMEOUT_MS)
    assert window.document.project.dataset["name"] == "x-vs-o"
    assert analyze(window.document.network).layers["output"].output_shape == (2,)
    assert window.model_source.run_dir is not None
    assert window.features.inspect.area.currentWidget() is window.features.inspect.filters
    shown = window.context.current_input.value
    assert shown.title == "a drawn X" and shown.image.shape == (28, 28, 1) and shown.label == 1


def test_the_stripes_lesson_shows_the_learned_filter_beside_sobel(window, qtbot):
    import keras
    panel = run_lesson(window, qtbot, "stripes-edge", TRAINING_TIMEOUT_MS)
    pair = panel.results["stripes-edge"]
    assert isinstance(pair, KernelPair)
    model = keras.saving.load_model(window.model_source.run_dir / "model.keras", compile=False)
    learned = model.get_layer("edge_filter").get_weights()[0][:, :, 0, 0]
    np.testing.assert_allclose(pair.learned.array, learned, rtol=1e-6)
    reference_name = pair.reference.header.text().split(" (")[0].lower()
    np.testing.assert_array_equal(pair.reference.array, KERNEL_PRESETS[reference_name])
    pair.button.click()
    assert window.tabs.currentWidget() is window.features.playground
    np.testing.assert_allclose(window.features.playground.kernel_editor.kernel(), learned, rtol=1e-6)
    assert window.features.playground.image_source.kind.currentData() == "stripes"


def test_the_receptive_field_lesson_lists_core_figures_and_walks_the_canvas(window, qtbot):
    panel = run_lesson(window, qtbot, "receptive-field")
    result = panel.results["receptive-field"]
    assert isinstance(result, FieldResult)
    analysis = analyze(window.document.network)
    for r in range(result.table.rowCount()):
        info = analysis.layers[result.table.item(r, 0).text()]
        side = info.receptive_field[0] if info.receptive_field else None
        assert result.table.item(r, 2).text() == ("-" if side is None else f"{side}×{side}")
    assert analysis.layers["conv6"].receptive_field == (32, 32)
    panel.runner._walk.setInterval(10)
    qtbot.waitUntil(lambda: not panel.runner._walk.isActive(), timeout=3000)
    assert window.editor.selected_ids() == ["output"]
    result.table.selectRow(4)
    assert window.editor.selected_ids() == [result.table.item(4, 0).text()]


def test_no_lesson_starts_while_training_runs(window):
    window.document.set_locked(True, "training is running")
    window.features.lessons.present("parameters")
    assert not window.features.lessons.start()
    assert "stop it" in window.features.lessons.status.text()
    window.document.set_locked(False)


def test_a_sobel_kernel_reads_as_the_orientation_it_is_named_after():
    vertical = facts.orientation(KERNEL_PRESETS["sobel vertical"])
    horizontal = facts.orientation(KERNEL_PRESETS["sobel horizontal"])
    assert vertical.vertical == pytest.approx(32 / 36) and vertical.horizontal == 0
    assert horizontal.horizontal == pytest.approx(32 / 36) and horizontal.vertical == 0
    assert "vertical line/edge detector" in vertical.sentence()
    assert "not clearly" in facts.orientation(np.eye(5)).sentence()


def outcome(label: str, accuracy: float) -> facts.RunOutcome:
    return facts.RunOutcome(label, Path(label), accuracy, 3)


def test_the_verdict_explains_a_cnn_that_suffers_from_shuffling():
    text = facts.shuffled_verdict(outcome("a", 0.95), outcome("b", 0.94), outcome("c", 0.98), outcome("d", 0.85))
    assert "95.0%" in text and "85.0%" in text
    assert "cost the MLP 1.0 points and LeNet-5 13.0 points" in text and "nearby pixels" in text


def test_the_verdict_says_when_the_runs_are_too_close_to_tell():
    text = facts.shuffled_verdict(outcome("a", 0.90), outcome("b", 0.90), outcome("c", 0.91), outcome("d", 0.905))
    assert "too close to tell" in text and "a few epochs longer" in text


def test_a_runs_outcome_is_its_last_validation_accuracy(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy\n"
                                          "1,0.5,0.8,0.6,0.75\n2,0.3,0.9,0.4,0.875\n")
    read = facts.run_outcome("run", tmp_path)
    assert read.accuracy == 0.875 and read.epochs == 2
