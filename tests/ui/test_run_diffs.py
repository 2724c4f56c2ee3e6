"""What Changed? between two real runs: the networks drawn as one with each change marked, the settings
that differ, and the outcome (curves, F1 per class, the pictures one run gets right and the other wrong)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnstudio.core.diff import ADDED, AFFECTED, CHANGED, REMOVED, diff_runs
from cnnstudio.core.network import Network
from cnnstudio.core.project import Project
from cnnstudio.ui.diffs.canvas import DIFF_COLORS

JOB_TIMEOUT = 120_000


def xo_project(name: str, filters: int, learning_rate: float, head: tuple[str, str, dict]) -> Project:
    """A small CNN for the generated X-versus-O pictures; `head` is the layer between Flatten and the output."""
    network = Network()
    previous = network.add_node("Input", {"shape": [28, 28, 1]}, node_id="input").id
    for type_name, params, node_id in (
        ("Conv2D", {"filters": filters, "kernel_size": 3, "activation": "relu"}, "conv"),
        ("MaxPooling2D", {"pool_size": 2}, "pool"),
        ("Flatten", {}, "flat"),
        (head[0], head[2], head[1]),
        ("Dense", {"units": 2, "activation": "softmax"}, "output"),
    ):
        network.add_node(type_name, params, node_id=node_id)
        network.connect(previous, node_id)
        previous = node_id
    training = {"optimizer": "adam", "learning_rate": learning_rate, "batch_size": 64, "epochs": 2,
                "validation_split": 0.1, "seed": 0}
    return Project(name, network, dataset={"name": "x-vs-o", "permute_pixels": None}, training=training)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run A: 4 filters, a Dropout, a learning rate too small to learn much; run B: 8 filters, a hidden
    Dense layer instead of the Dropout, a learning rate that learns. Same seed and validation split."""
    from cnnstudio.ml.trainer import Trainer

    folder = tmp_path_factory.mktemp("runs")
    runs = []
    for name, project in (
            ("a-small", xo_project("XO", 4, 1e-5, ("Dropout", "drop", {"rate": 0.1}))),
            ("b-bigger", xo_project("XO", 8, 0.01, ("Dense", "hidden", {"units": 16, "activation": "relu"})))):
        Trainer(project, run_dir=folder / name, evaluate_test=False).run()
        runs.append(folder / name)
    return folder, runs[0], runs[1]


@pytest.fixture
def diff_window(make_window, two_runs, monkeypatch):
    from cnnstudio.ui import preferences

    folder, run_a, run_b = two_runs
    original = preferences.get
    monkeypatch.setattr(preferences, "get", lambda key: str(folder) if key == "runs_folder" else original(key))
    window = make_window(xo_project("XO", 8, 0.01, ("Dense", "hidden", {"units": 16, "activation": "relu"})))
    history = window.features.runs
    history.refresh()
    return window, run_a, run_b


def open_diff(window, qtbot, run_a, run_b):
    history = window.features.runs
    history.select([run_b, run_a])
    assert history.diff_button.isEnabled()
    history.diff_button.click()
    view = window.features.diffs.view
    assert window.tabs.currentWidget() is view
    assert window.tabs.tabText(window.tabs.indexOf(view)) == "What Changed"
    return view


def test_what_changed_is_offered_for_two_runs_only(diff_window):
    window, run_a, run_b = diff_window
    history = window.features.runs
    history.select([run_a])
    assert not history.diff_button.isEnabled()
    history.select([run_a, run_b])
    assert history.diff_button.isEnabled()


def test_the_network_diff_is_drawn_with_each_change_marked(diff_window, qtbot):
    window, run_a, run_b = diff_window
    view = open_diff(window, qtbot, run_a, run_b)
    assert view.diff.run_a == run_a and view.diff.run_b == run_b  # the earlier run is A
    scene = view.network.canvas.diff_scene
    assert set(scene.nodes) == {"input", "conv", "pool", "flat", "drop", "hidden", "output"}
    kinds = {node_id: mark.change.kind for node_id, mark in scene.marks.items()}
    assert kinds == {"conv": CHANGED, "drop": REMOVED, "hidden": ADDED, "pool": AFFECTED, "flat": AFFECTED,
                     "output": AFFECTED}
    for mark in scene.marks.values():
        assert mark.color.name() == DIFF_COLORS[mark.change.kind]
        assert mark.isVisible() and mark.parentItem() is scene.nodes[mark.change.id]
    conv = scene.marks["conv"]
    assert conv.change.params_changed == {"filters": (4, 8)}
    assert conv.text == f"changed · {(8 - 4) * (9 + 1):+,} params"
    assert "filters 4 -&gt; 8" in scene.nodes["conv"].toolTip() and "receptive field" in scene.nodes["conv"].toolTip()
    assert scene.nodes["drop"].opacity() < 1 and scene.nodes["hidden"].opacity() == 1
    assert scene.marks["hidden"].text.startswith("added · +")
    edges = {key: edge.kind for key, edge in scene.edges.items()}
    assert edges[("flat", "hidden")] == edges[("hidden", "output")] == ADDED
    assert edges[("flat", "drop")] == edges[("drop", "output")] == REMOVED
    assert edges[("input", "conv")] is None
    for node_id, item in scene.nodes.items():  # nothing can be moved, no two boxes overlap
        assert not item.flags() & item.GraphicsItemFlag.ItemIsMovable
        others = [o for o in scene.nodes.values() if o is not item]
        assert not any(item.sceneBoundingRect().intersects(o.sceneBoundingRect()) for o in others), node_id
    lines = view.network.layer_lines()
    assert lines["conv"].startswith("conv changed: filters 4 -> 8") and lines["hidden"].startswith("hidden added")
    view.network.changes.itemClicked.emit(view.network.changes.item(0))
    assert [i.node_id for i in scene.selectedItems()] == [view.diff.network.layers[0].id]


def test_only_the_settings_that_differ_are_listed(diff_window, qtbot):
    window, run_a, run_b = diff_window
    view = open_diff(window, qtbot, run_a, run_b)
    assert view.settings_rows() == [("training.learning_rate", "1e-05", "0.01")]
    assert view.tabs.tabText(0) == "Network (6 layers) and settings (1)"
    assert view.settings_title.text() == "<b>Settings that differ (1)</b>"
    assert "learning_rate: 1e-05 -> 0.01" in view.summary.text()
    view.swap_button.click()
    assert view.diff.run_a == run_b and view.settings_rows() == [("training.learning_rate", "0.01", "1e-05")]


def test_the_outcome_shows_both_curves_f1_per_class_and_the_pictures_that_differ(diff_window, qtbot):
    window, run_a, run_b = diff_window
    view = open_diff(window, qtbot, run_a, run_b)
    page = view.outcome
    expected = diff_runs(run_a, run_b).outcome
    assert len(page.curves.curves["loss"]) == 2 and len(page.curves.summaries) == 2
    train, _ = page.curves.curves["accuracy"][1]
    assert len(train.getData()[0]) == 2
    rows = [[page.f1_table.item(r, c).text() for c in range(5)] for r in range(page.f1_table.rowCount())]
    assert rows == [[c.name, f"{c.f1_before:.3f}", f"{c.f1_after:.3f}", f"{c.delta:+.3f}", f"{c.support:,}"]
                    for c in expected.classes]
    assert [c.name for c in expected.classes] == ["O", "X"]
    assert len(expected.only_b_right) > 0  # run B learned; run A hardly did
    qtbot.waitUntil(lambda: page.images is not None, timeout=JOB_TIMEOUT)
    assert page.only_a.keys() == [int(i) for i in expected.only_a_right[:120]]
    assert page.only_b.keys() == [int(i) for i in expected.only_b_right[:120]]
    assert f"Run B right, run A wrong: {len(expected.only_b_right)} image" in page.only_b_title.text()
    kept_a, kept_b = page.predictions
    first = page.only_b.keys()[0]
    assert kept_b.correct(kept_b.last_epoch)[first] and not kept_a.correct(kept_a.last_epoch)[first]


def test_clicking_a_picture_opens_it_in_grad_cam_with_the_chosen_runs_model(diff_window, qtbot):
    window, run_a, run_b = diff_window
    view = open_diff(window, qtbot, run_a, run_b)
    page = view.outcome
    qtbot.waitUntil(lambda: page.images is not None, timeout=JOB_TIMEOUT)
    page.open_with.setCurrentIndex(page.open_with.findData(str(run_a)))
    index = page.only_b.keys()[0]
    page.only_b.itemClicked.emit(page.only_b.item(0))
    saliency = window.features.explain.saliency
    assert window.model_source.run_dir == run_a
    chosen = window.context.current_input.value
    assert chosen.split == "validation" and chosen.index == index and run_a.name in chosen.title
    position = list(page.images.indices).index(index)
    np.testing.assert_array_equal(chosen.image, page.images.images[position])
    assert window.features.inspect.area.currentWidget() is saliency and saliency.method_key == "grad-cam"
    qtbot.waitUntil(lambda: saliency.explanation is not None and saliency.explanation.source == run_a.name,
                    timeout=JOB_TIMEOUT)
    page.open_in.setCurrentIndex(page.open_in.findData("feature_maps"))
    page.open_with.setCurrentIndex(page.open_with.findData(str(run_b)))
    page.only_b.itemClicked.emit(page.only_b.item(0))
    assert window.model_source.run_dir == run_b
    assert window.features.inspect.area.currentWidget() is window.features.inspect.feature_maps
