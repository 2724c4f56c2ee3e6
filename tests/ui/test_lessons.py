"""Each guided lesson sets up what it promises, with numbers from core and from the runs it trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu

from cnnstudio.core.analysis import analyze
from cnnstudio.core.experiments import Experiment
from cnnstudio.core.playground import KERNEL_PRESETS
from cnnstudio.core.templates import load_template
from cnnstudio.ui import dialogs
from cnnstudio.ui.lessons import LESSONS, facts
from cnnstudio.ui.lessons.results import FieldResult, KernelPair, ParameterResult, ShuffledResult

TINY = {"epochs": 1, "max_steps_per_epoch": 2}
TRAINING_TIMEOUT_MS = 180_000


@pytest.fixture
def window(main_window):
    """The main window, its lessons training tiny runs."""
    main_window.features.lessons.runner.training_overrides = dict(TINY)
    main_window.features.training.evaluate_test = False
    main_window.features.experiments.controller.evaluate_test = False
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


def test_the_shuffled_pixels_lesson_trains_three_seeds_per_arm_and_reports_the_verdicts(window, qtbot):
    experiments = window.features.experiments
    started = []
    experiments.controller.runStarted.connect(lambda folder, s: started.append((folder.name, s.run.values)))
    panel = run_lesson(window, qtbot, "shuffled-pixels", 3 * TRAINING_TIMEOUT_MS)
    assert len(started) == 12  # 2 networks x original and shuffled pixels x 3 seeds
    result = panel.results["shuffled-pixels"]
    assert isinstance(result, ShuffledResult)
    folders = sorted({name for name, _values in started})
    assert len(folders) == 2
    trained = {}
    for folder in folders:
        experiment = Experiment.open(experiments.controller.context.runs.folder / folder)
        assert [r.status for r in experiment.runs] == ["finished"] * 6
        assert sorted((r.values["dataset.permute_pixels"] is not None, r.seed) for r in experiment.runs) == \
            [(False, 0), (False, 1), (False, 2), (True, 0), (True, 1), (True, 2)]
        trained[len(experiment.base.network)] = experiment
    assert sorted(trained) == [5, 9]  # the MLP and LeNet-5
    arms = result.findings.arms
    assert [(a.network, a.pixels, a.figures.count) for a in arms] == [
        ("the MLP", "original", 3), ("the MLP", "shuffled", 3), ("LeNet-5", "original", 3),
        ("LeNet-5", "shuffled", 3)]
    assert result.table.rowCount() == 4
    mlp, cnn = result.sentences
    assert mlp.startswith("The MLP ") and cnn.startswith("LeNet-5 ") and "when pixels are shuffled" in cnn
    for sentence, finding in zip(result.sentences, result.findings.findings):
        assert sentence.endswith("a real difference" if finding.verdict.real else "inside seed noise")
        assert "Welch's t-test over 3 and 3 seeds" in finding.verdict.details
    assert "Welch's t-test" in result.findChild(QLabel, "lessonTest").text()
    view = experiments.view
    assert window.tabs.currentWidget() is view and len(view.results.settings) == 2
    assert view.verdicts.chosen is not None  # LeNet-5's two arms selected: their verdict in the view too
    result.buttons["the MLP"].click()
    assert len(Experiment.open(view.folder).base.network) == 5


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


def arm_results(network: str, original: list[float], shuffled: list[float]):
    """Experiment results of one network on original and shuffled pixels, with these test accuracies."""
    from cnnstudio.core.experiment_results import ExperimentResults, RunResult, SettingResult
    from cnnstudio.core.experiments import PlannedRun
    from cnnstudio.core.stats import summarize

    settings = []
    for permute, figures in ((None, original), (1234, shuffled)):
        values = {"dataset.permute_pixels": permute}
        runs = [RunResult(PlannedRun(i, values, i, f"run-{i}", "finished", test_accuracy=a), Path("."))
                for i, a in enumerate(figures)]
        settings.append(SettingResult(values, str(permute), runs, None,
                                      {"test_accuracy": summarize(figures), "val_accuracy": summarize([])}, {}))
    return network, ExperimentResults(network, Path("."), ["dataset.permute_pixels"], [], settings, None, [], 0)


def test_the_verdict_names_a_real_loss_for_the_cnn_and_seed_noise_for_the_mlp():
    findings = facts.shuffled_findings([arm_results("the MLP", [0.948, 0.950, 0.947], [0.946, 0.952, 0.940]),
                                        arm_results("LeNet-5", [0.976, 0.975, 0.979], [0.909, 0.906, 0.912])])
    mlp, cnn = findings.findings
    assert cnn.sentence() == ("LeNet-5 loses 6.8 points of test accuracy when pixels are shuffled; seeds differ by "
                              "at most 0.6: a real difference")
    assert mlp.sentence().startswith("The MLP loses 0.2 points of test accuracy when pixels are shuffled, but seeds "
                                     "differ by up to 1.2: inside seed noise")
    assert "nearby pixels belong together" in findings.conclusion()
    assert [a.figures.mean for a in findings.arms][2] == pytest.approx(0.9766666)


def test_the_verdict_says_when_the_runs_are_too_short_to_tell():
    findings = facts.shuffled_findings([arm_results("the MLP", [0.90, 0.91, 0.92], [0.90, 0.92, 0.91]),
                                        arm_results("LeNet-5", [0.90, 0.93, 0.91], [0.92, 0.89, 0.90])])
    assert all(f.verdict.real is False for f in findings.findings)
    assert "too short to tell" in findings.conclusion() and "Add Runs" in findings.conclusion()
    gained = facts.shuffled_findings([arm_results("the MLP", [0.90, 0.91], [0.95, 0.96]),
                                      arm_results("LeNet-5", [0.9], [0.8])])
    assert "gains 5.0 points" in gained.findings[0].sentence()
    assert "one seed per arm" in gained.findings[1].sentence()


def test_a_runs_outcome_is_its_last_validation_accuracy(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,loss,accuracy,val_loss,val_accuracy\n"
                                          "1,0.5,0.8,0.6,0.75\n2,0.3,0.9,0.4,0.875\n")
    read = facts.run_outcome("run", tmp_path)
    assert read.accuracy == 0.875 and read.epochs == 2
