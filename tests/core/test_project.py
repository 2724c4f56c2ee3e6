"""Project files: exact round trips, kept unknown keys, clear refusals, fuzzing."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.core.errors import ProjectError
from cnnstudio.core.project import dumps, load_project, project_from_dict, save_project
from cnnstudio.core.templates import TEMPLATE_NAMES, template_path

LENET = json.loads(template_path("lenet5").read_text())


def write(tmp_path, data, name="p.cnnproj"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def variant(**changes):
    data = json.loads(json.dumps(LENET))
    for dotted, value in changes.items():
        target = data
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value
    return data


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_save_after_load_is_byte_identical(tmp_path, name):
    original = template_path(name).read_text()
    project = load_project(template_path(name))
    save_project(project, tmp_path / "copy.cnnproj")
    assert (tmp_path / "copy.cnnproj").read_text() == original


def test_contract_example_loads_and_round_trips_as_data(tmp_path):
    example = {
        "format": "cnnstudio-project", "version": 1, "name": "LeNet-5",
        "network": {
            "nodes": [
                {"id": "input", "type": "Input", "params": {"shape": [28, 28, 1]}, "position": [0, 0]},
                {"id": "conv1", "type": "Conv2D",
                 "params": {"filters": 6, "kernel_size": 5, "padding": "same", "activation": "relu"}},
                {"id": "pool1", "type": "MaxPooling2D", "params": {"pool_size": 2}},
                {"id": "flat", "type": "Flatten", "params": {}},
                {"id": "out", "type": "Dense", "params": {"units": 10, "activation": "softmax"}},
            ],
            "edges": [["input", "conv1"], ["conv1", "pool1"], ["pool1", "flat"], ["flat", "out"]],
        },
        "dataset": {"name": "mnist-sample", "permute_pixels": None},
        "training": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64,
                     "epochs": 5, "validation_split": 0.1, "seed": 0},
    }
    project = load_project(write(tmp_path, example))
    assert json.loads(dumps(project)) == json.loads(json.dumps(example).replace("[0, 0]", "[0.0, 0.0]"))


def test_unknown_keys_are_kept_everywhere(tmp_path):
    data = variant()
    data["teacher_notes"] = {"week": 3}
    data["network"]["nodes"][1]["comment"] = "first features"
    data["dataset"]["augment"] = True
    data["training"]["label_smoothing"] = 0.1
    project = load_project(write(tmp_path, data))
    saved = json.loads(dumps(project))
    assert saved["teacher_notes"] == {"week": 3}
    assert saved["network"]["nodes"][1]["comment"] == "first features"
    assert saved["dataset"]["augment"] is True
    assert saved["training"]["label_smoothing"] == 0.1


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = write(tmp_path, LENET)
    before = path.read_text()
    project = load_project(path)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_project(project, path)
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.cnnproj"]


BAD = {
    "invalid JSON": ("{\"format\": ", "not valid JSON (line 1"),
    "unknown layer": (variant(network__nodes__1__type="Conv2X"), "node 'conv1': unknown layer type 'Conv2X'; did you mean Conv2D"),
    "unknown parameter": (variant(network__nodes__1__params={"filters": 6, "kernel_size": 5, "strides_": 1}),
                          "node 'conv1' (Conv2D): Conv2D has no parameter 'strides_'"),
    "wrong type": (variant(network__nodes__1__params={"filters": "six", "kernel_size": 5}),
                   "'filters' must be a whole number, not 'six'"),
    "out of range": (variant(network__nodes__1__params={"filters": 6, "kernel_size": 5, "padding": "full"}),
                     "'padding' is 'full'; choose one of 'valid', 'same'"),
    "duplicate ids": (variant(network__nodes__2__id="conv1"), "two layers have the id 'conv1'"),
    "edge to unknown node": (variant(network__edges__0=["input", "ghost"]), "refers to 'ghost', which is not a layer"),
    "newer version": (variant(version=7), "saved by a newer CNN Studio (project format 7)"),
    "not a project": ({"hello": 1}, "not a CNN Studio project"),
    "bad dataset": (variant(dataset={"name": "imagenet"}), "unknown dataset 'imagenet'"),
    "bad training": (variant(training__batch_size=0), "training \"batch_size\" is 0"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_files_are_refused_with_a_message_naming_what_is_wrong(tmp_path, case):
    data, expected = BAD[case]
    path = write(tmp_path, data)
    before = path.read_bytes()
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert expected in str(info.value)
    assert str(info.value).startswith("p.cnnproj: ")
    assert path.read_bytes() == before


def test_cycle_in_a_file_is_refused(tmp_path):
    data = variant()
    data["network"]["edges"].append(["pool1", "conv1"])
    with pytest.raises(ProjectError, match="loop"):
        load_project(write(tmp_path, data))


def _json_values():
    leaves = st.none() | st.booleans() | st.integers(-5, 100) | st.floats(allow_nan=True) | st.text(max_size=6)
    return st.recursive(leaves, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=12)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


ALL_PATHS = [p for p in _paths(LENET) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), _json_values(), st.booleans())
def test_fuzz_mutated_projects_load_or_fail_cleanly(path, value, delete):
    data = json.loads(json.dumps(LENET))
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        project_from_dict(data, "fuzz.cnnproj")
    except ProjectError as exc:
        assert str(exc).startswith("fuzz.cnnproj: ")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(json.dumps(LENET)) - 1))
def test_fuzz_truncated_files_fail_cleanly(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("cut") / "t.cnnproj"
    path.write_text(json.dumps(LENET)[:cut])
    with pytest.raises(ProjectError):
        load_project(path)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_binary_garbage_fails_cleanly(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("bin") / "b.cnnproj"
    path.write_bytes(blob)
    with pytest.raises(ProjectError):
        load_project(path)


def test_a_saved_project_gets_normal_file_permissions_and_keeps_existing_ones(tmp_path):
    import os
    import stat

    from cnnstudio.core.templates import load_template

    umask = os.umask(0o022)
    try:
        path = tmp_path / "p.cnnproj"
        save_project(load_template("lenet5"), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o600)
        save_project(load_template("lenet5"), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(umask)
