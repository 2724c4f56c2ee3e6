"""Experiments in core: keys and values as typed, the plan (grid, random, list x seeds), the folder, adding runs."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.experiment_spec import (
    ExperimentSpec,
    Variation,
    apply_values,
    check_keys,
    parse_key,
    parse_values,
    parse_vary,
    values_label,
)
from cnnstudio.core.experiments import EXPERIMENT_FILE, Experiment, default_experiment_dir
from cnnstudio.core.templates import load_template
from tests.core.experiment_records import write_run

TRAINING_KEYS = ("optimizer", "learning_rate", "batch_size", "epochs", "seed", "momentum")


@pytest.fixture
def lenet():
    return load_template("lenet5")


def grid_spec(seeds=2, **kwargs):
    return ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.004)),
                                Variation("conv1.filters", (6, 16))), seeds=seeds, **kwargs)


# -- keys and values ------------------------------------------------------------------------

def test_values_are_read_as_numbers_lists_null_or_text():
    assert parse_values("0.001,0.004") == [0.001, 0.004]
    assert parse_values("6,16") == [6, 16] and parse_values("1e-3,.5") == [0.001, 0.5]
    assert parse_values("[3, 3],[5, 5]") == [[3, 3], [5, 5]]
    assert parse_values("relu,tanh,null,none") == ["relu", "tanh", None, None]
    assert parse_values("true") == [True]
    with pytest.raises(UserError, match="empty value"):
        parse_values("0.1,,0.2")


def test_a_vary_argument_needs_key_equals_values():
    assert parse_vary("conv1.filters=6,16") == Variation("conv1.filters", (6, 16))
    with pytest.raises(UserError, match="write KEY=V1,V2"):
        parse_vary("conv1.filters")


def test_keys_name_training_dataset_or_layer_parameters(lenet):
    assert parse_key("training.learning_rate", lenet, TRAINING_KEYS).section == "training"
    assert parse_key("dataset.permute_pixels", lenet, TRAINING_KEYS).section == "dataset"
    key = parse_key("conv1.filters", lenet, TRAINING_KEYS)
    assert (key.section, key.node, key.name, key.label) == ("layer", "conv1", "filters", "conv1.filters")


@pytest.mark.parametrize("key, words", [
    ("training.learnig_rate", ["no training setting 'learnig_rate'", "learning_rate"]),
    ("training.seed", ["--seeds N"]),
    ("dataset.colour", ["no dataset setting 'colour'", "permute_pixels"]),
    ("conv_1.filters", ["no layer 'conv_1'", "did you mean conv1", "conv2"]),
    ("conv1.units", ["Conv2D layer 'conv1' has no parameter 'units'", "kernel_size"]),
    ("learning_rate", ["training.<setting>"]),
])
def test_unknown_keys_say_what_exists(lenet, key, words):
    with pytest.raises(UserError) as caught:
        parse_key(key, lenet, TRAINING_KEYS)
    for word in words:
        assert word in str(caught.value)


def test_values_are_checked_by_the_project_rules_naming_the_setting(lenet):
    changed = apply_values(lenet, {"conv1.filters": 16, "training.learning_rate": 0.01}, seed=2)
    assert changed.network.nodes["conv1"].params["filters"] == 16
    assert changed.training["learning_rate"] == 0.01 and changed.training["seed"] == 2
    assert lenet.network.nodes["conv1"].params["filters"] == 6  # the base is never changed
    with pytest.raises(UserError, match=r"with conv1\.filters=0: .*conv1.*'filters'"):
        apply_values(lenet, {"conv1.filters": 0})
    with pytest.raises(UserError, match="unknown dataset 'imagenet'"):
        apply_values(lenet, {"dataset.name": "imagenet"})


def test_spec_shape_is_checked_before_anything_else(lenet):
    for spec, words in [
        (ExperimentSpec(), "nothing varies"),
        (grid_spec(seeds=0), "--seeds is 0"),
        (ExperimentSpec(vary=(Variation("conv1.filters", (6, 6)),)), "lists 6 twice"),
        (ExperimentSpec(vary=(Variation("conv1.filters", (6,)), Variation("conv1.filters", (8,)))), "given twice"),
        (ExperimentSpec(combinations=({"conv1.filters": 6},), random=2), "draws from a grid"),
    ]:
        with pytest.raises(UserError, match=words):
            check_keys(spec, lenet, TRAINING_KEYS)


# -- the plan ---------------------------------------------------------------------------------

def test_a_grid_times_seeds_is_planned_seed_by_seed(lenet, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", lenet, grid_spec(seeds=3))
    runs = experiment.runs
    assert len(runs) == 12 and [r.index for r in runs] == list(range(1, 13))
    assert [r.seed for r in runs] == [0] * 4 + [1] * 4 + [2] * 4  # every setting once before any repeat
    assert runs[0].values == {"training.learning_rate": 0.001, "conv1.filters": 6}
    assert runs[3].values == {"training.learning_rate": 0.004, "conv1.filters": 16}
    assert len({r.run_dir for r in runs}) == 12 and runs[0].run_dir == "run-001"
    assert all(r.status == "pending" for r in runs)
    project = experiment.project_for(runs[5])
    assert project.training["seed"] == 1 and project.network.nodes["conv1"].params["filters"] == 16


def test_a_random_sample_takes_some_of_the_grid_reproducibly(lenet):
    spec = ExperimentSpec(vary=(Variation("training.learning_rate", (0.001, 0.002, 0.004, 0.008)),
                                Variation("conv1.filters", (4, 6, 8, 16))), random=5, random_seed=3)
    picked = spec.settings()
    assert len(picked) == 5 and picked == spec.settings()
    assert len({json.dumps(p, sort_keys=True) for p in picked}) == 5 and spec.mode == "random"


def test_an_explicit_list_of_settings_is_trained_as_given(lenet, tmp_path):
    spec = ExperimentSpec(combinations=({"training.learning_rate": 0.001, "conv1.filters": 6},
                                        {"training.learning_rate": 0.004}), seeds=2)
    experiment = Experiment.create(tmp_path / "exp", lenet, spec)
    assert [r.values for r in experiment.runs[:2]] == [dict(c) for c in spec.combinations]
    assert spec.mode == "list" and spec.keys == ["training.learning_rate", "conv1.filters"]


def test_the_folder_holds_the_spec_runs_and_base_project(lenet, tmp_path):
    folder = tmp_path / "exp"
    Experiment.create(folder, lenet, grid_spec())
    data = json.loads((folder / EXPERIMENT_FILE).read_text())
    assert data["format"] == "cnnstudio-experiment" and data["version"] == 1 and data["name"] == "LeNet-5"
    assert data["keys"] == ["training.learning_rate", "conv1.filters"] and len(data["runs"]) == 8
    assert data["runs"][0] == {**data["runs"][0], "values": {"training.learning_rate": 0.001, "conv1.filters": 6},
                               "seed": 0, "run_dir": "run-001", "status": "pending"}
    again = Experiment.open(folder)
    assert again.spec == grid_spec() and [r.to_json() for r in again.runs] == data["runs"]
    assert again.base.network.to_dict() == lenet.network.to_dict()
    assert not list(folder.glob(".*.tmp"))  # written through the atomic writer, nothing left behind


def test_an_existing_folder_is_never_reused(lenet, tmp_path):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="already exists"):
        Experiment.create(tmp_path / "exp", lenet, grid_spec())
    assert (tmp_path / "exp" / "notes.txt").read_text() == "mine"
    with pytest.raises(UserError, match="not an experiment folder"):
        Experiment.open(tmp_path / "exp")


def test_a_newer_experiment_format_is_refused(lenet, tmp_path):
    Experiment.create(tmp_path / "exp", lenet, grid_spec())
    path = tmp_path / "exp" / EXPERIMENT_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "version": 9}))
    with pytest.raises(UserError, match="newer CNN Studio"):
        Experiment.open(tmp_path / "exp")


def test_more_seeds_and_values_are_added_later_without_touching_the_runs_done(lenet, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", lenet, grid_spec(seeds=1))
    first = [r.to_json() for r in experiment.runs]
    added = experiment.extend(ExperimentSpec(seeds=2))
    assert len(added) == 4 and {r.seed for r in added} == {1} and [r.index for r in added] == [5, 6, 7, 8]
    added = experiment.extend(ExperimentSpec(vary=(Variation("training.learning_rate", (0.01,)),)))
    assert len(added) == 4 and all(r.values["training.learning_rate"] == 0.01 for r in added)
    assert sorted(r.values["conv1.filters"] for r in added) == [6, 6, 16, 16]
    assert [r.to_json() for r in Experiment.open(tmp_path / "exp").runs][:4] == first
    with pytest.raises(UserError, match="start a new experiment"):
        experiment.extend(ExperimentSpec(vary=(Variation("conv2.filters", (8,)),)))


def test_a_stopped_run_is_trained_again_in_a_new_folder_keeping_the_old(lenet, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", lenet, grid_spec(seeds=1))
    run = experiment.runs[0]
    write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=None, status="stopped")
    experiment.refresh()
    assert run.status == "stopped" and run in experiment.to_train()
    experiment.prepare_retry(run)
    assert run.run_dir == "run-001-2" and run.earlier == ["run-001"] and run.status == "pending"
    assert (tmp_path / "exp" / "run-001" / "run.json").is_file()


def test_results_are_taken_from_each_run_record(lenet, tmp_path):
    experiment = Experiment.create(tmp_path / "exp", lenet, grid_spec(seeds=1))
    run = experiment.runs[1]
    run.status = "running"
    write_run(experiment.run_path(run), experiment.project_for(run), test_accuracy=0.97, test_loss=0.1,
              val_accuracy=(0.9, 0.95), seconds=3.5)
    experiment.refresh()
    assert (run.status, run.test_accuracy, run.test_loss, run.val_accuracy, run.seconds, run.epochs) == \
        ("finished", 0.97, 0.1, 0.95, 3.5, 2)
    assert run not in experiment.to_train() and len(experiment.to_train()) == 3


def test_labels_and_default_folder(lenet, tmp_path):
    assert values_label({"training.learning_rate": 0.001, "conv1.filters": 6}) == "learning_rate=0.001, conv1.filters=6"
    assert values_label({"training.learning_rate": 0.001, "conv1.filters": 6}, ["conv1.filters"]) == "conv1.filters=6"
    lenet.path = tmp_path / "lenet.cnnproj"
    folder = default_experiment_dir(lenet)
    assert folder.parent == tmp_path / "runs" and folder.name.startswith("lenet-exp-")
