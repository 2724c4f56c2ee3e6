"""Run diffs: layers added, removed and changed with their effect; only the settings that differ; the outcome."""

from __future__ import annotations

import pytest

from cnnstudio.core.diff import ADDED, AFFECTED, CHANGED, REMOVED, diff_networks, diff_runs
from cnnstudio.core.errors import UserError
from cnnstudio.core.templates import load_template
from tests.core.experiment_records import write_predictions, write_run


@pytest.fixture
def lenet():
    return load_template("lenet5")


def test_the_same_network_has_no_differences(lenet):
    other = lenet.copy()
    other.network.set_param("conv1", "kernel_size", [5, 5])  # Keras's default spelt out: the same layer
    diff = diff_networks(lenet.network, other.network)
    assert diff.same and diff.lines() == ["the networks are the same"]


def test_a_changed_parameter_shows_its_effect_and_the_layers_it_affects(lenet):
    other = lenet.copy()
    other.network.set_param("conv1", "filters", 16)
    diff = diff_networks(lenet.network, other.network)
    (conv1,) = diff.of_kind(CHANGED)
    assert conv1.id == "conv1" and conv1.params_changed == {"filters": (6, 16)}
    assert conv1.params_delta == 10 * (5 * 5 + 1) and conv1.memory_delta == 4 * 28 * 28 * 10
    assert conv1.describe() == ("conv1 changed: filters 6 -> 16; +260 parameters; output 28x28x6 -> 28x28x16 "
                                "(+30.6 KB per image)")
    affected = {c.id: c for c in diff.of_kind(AFFECTED)}
    assert set(affected) == {"pool1", "conv2"} and affected["conv2"].params_delta == 10 * 5 * 5 * 16
    assert diff.total_params == (61706, 61706 + 260 + 4000)


def test_a_smaller_kernel_shrinks_the_receptive_field(lenet):
    other = lenet.copy()
    other.network.set_param("conv1", "kernel_size", 3)
    diff = diff_networks(lenet.network, other.network)
    conv1 = diff.of_kind(CHANGED)[0]
    assert conv1.before.receptive_field == (5, 5) and conv1.after.receptive_field == (3, 3)
    assert "receptive field 5x5 -> 3x3" in conv1.describe()
    assert diff.receptive_field == ((16, 16), (14, 14))


def test_added_and_removed_layers_and_connections(lenet):
    other = lenet.copy()
    net = other.network
    net.remove_node("fc2")
    net.connect("fc1", "output")
    net.add_node("Dropout", {"rate": 0.5}, node_id="drop")
    net.disconnect("flatten", "fc1")
    net.connect("flatten", "drop")
    net.connect("drop", "fc1")
    diff = diff_networks(lenet.network, net)
    assert [c.id for c in diff.of_kind(ADDED)] == ["drop"] and [c.id for c in diff.of_kind(REMOVED)] == ["fc2"]
    removed = diff.of_kind(REMOVED)[0]
    assert removed.params_delta == -(120 * 84 + 84) and removed.describe().startswith("fc2 removed (Dense)")
    output = {c.id: c for c in diff.layers}["output"]
    assert output.kind == AFFECTED and output.params_delta == (120 - 84) * 10
    assert ("flatten", "drop") in diff.edges_added and ("flatten", "fc1") in diff.edges_removed
    assert any(line.startswith("parameters 61,706 -> ") for line in diff.lines())


def runs(tmp_path, lenet, *, seed_b=0, lr_b=0.004):
    a = write_run(tmp_path / "a", lenet, test_accuracy=0.95, val_accuracy=(0.9, 0.94), class_names=("0", "1", "2"))
    other = lenet.copy()
    other.training = {**other.training, "learning_rate": lr_b, "seed": seed_b}
    other.network.set_param("conv1", "filters", 16)
    b = write_run(tmp_path / "b", other, test_accuracy=0.97, val_accuracy=(0.92, 0.96, 0.97),
                  class_names=("0", "1", "2"))
    return a, b


def test_settings_diff_lists_only_what_differs(tmp_path, lenet):
    a, b = runs(tmp_path, lenet, seed_b=1, lr_b=0.01)
    changes = {(c.section, c.key): (c.before, c.after) for c in diff_runs(a, b).settings}
    assert changes == {("training", "learning_rate"): (0.004, 0.01), ("training", "seed"): (0, 1)}


def test_the_outcome_has_both_curves_and_final_figures(tmp_path, lenet):
    a, b = runs(tmp_path, lenet)
    outcome = diff_runs(a, b).outcome
    val_a, val_b = outcome.curves["val_accuracy"]
    assert val_a.tolist() == [0.9, 0.94] and val_b.tolist() == [0.92, 0.96, 0.97]
    assert outcome.final["test_accuracy"] == (0.95, 0.97) and outcome.final["epochs"] == (2, 3)
    assert outcome.classes is None and "kept no validation predictions" in outcome.per_image_note


def test_images_one_run_gets_right_and_the_other_wrong(tmp_path, lenet):
    a, b = runs(tmp_path, lenet)
    labels = [0, 0, 1, 1, 2, 2]
    write_predictions(a, labels, [[0, 1, 1, 1, 2, 0]], [[0.9, 0.8, 0.7, 0.6, 0.9, 0.99]])
    write_predictions(b, labels, [[0, 0, 0, 1, 2, 1], [0, 0, 2, 0, 2, 2]],
                      [[0.5] * 6, [0.9, 0.6, 0.7, 0.95, 0.9, 0.8]])
    outcome = diff_runs(a, b).outcome
    assert outcome.per_image_note == ""
    assert outcome.only_a_right.tolist() == [3, 2]  # B's most confident mistake first
    assert outcome.only_b_right.tolist() == [5, 1]  # A's most confident mistake first
    f1 = {c.name: (c.f1_before, c.f1_after) for c in outcome.classes}
    assert f1["2"] == pytest.approx((2 / 3, 0.8)) and outcome.classes[0].support == 2


def test_runs_validated_on_different_images_are_not_compared_image_by_image(tmp_path, lenet):
    a, b = runs(tmp_path, lenet, seed_b=3)
    write_predictions(a, [0, 1], [[0, 1]])
    write_predictions(b, [0, 1], [[1, 1]])
    outcome = diff_runs(a, b).outcome
    assert outcome.only_a_right.size == 0 and "training.seed differ" in outcome.per_image_note
    assert [c.f1_after for c in outcome.classes][:2] == pytest.approx([0.0, 2 / 3])


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, lenet):
    a, _ = runs(tmp_path, lenet)
    with pytest.raises(UserError, match="not a run directory"):
        diff_runs(a, tmp_path / "elsewhere")
