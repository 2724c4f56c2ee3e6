"""Project files: exact round trips, kept unknown keys, clear refusals, fuzzing."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.core.analysis import analyze
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
    "filters too large for a float": (variant(network__nodes__1__params={"filters": 10**400, "kernel_size": 5}),
                                      "'filters' is a 401-digit number but must be <= 1e+06"),
    "seed beyond 2**32": (variant(training__seed=2**64), "training \"seed\" is 18446744073709551616; it must be "
                                                        "a whole number from 0 to 4294967295"),
    "pixel seed beyond 2**32": (variant(dataset={"name": "mnist-sample", "permute_pixels": 2**40}),
                                "\"permute_pixels\" must be null or a whole-number seed from 0 to 4294967295"),
    "position too large for a float": (variant(network__nodes__1__position=[10**400, 0]),
                                       "\"position\" must be [x, y]"),
    "regularizer factor too large": (variant(network__nodes__1__params={"filters": 6, "kernel_size": 5,
                                                                        "kernel_regularizer": {"l2": 10**400}}),
                                     "too large for a number here"),
    "input size too large": (variant(network__nodes__0__params={"shape": [2**40, 28, 1]}),
                             "'shape' has a size of 1,099,511,627,776; sizes go up to 2,147,483,647"),
    "input shape null": (variant(network__nodes__0__params={"shape": None}), "node 'input' (Input): 'shape' needs a value"),
    "id with a trailing newline": (variant(network__nodes__8__id="output\n", network__edges__7=["fc2", "output\n"]),
                                   "node #9 has id 'output\\n'; ids use letters, digits and _"),
    "orthogonal biases": (variant(network__nodes__1__params={"filters": 6, "kernel_size": 5,
                                                             "bias_initializer": "orthogonal"}),
                          "'bias_initializer' is 'orthogonal'; choose one of"),
    "orthogonal batch-norm scales": (variant(network__nodes__2__type="BatchNormalization",
                                             network__nodes__2__params={"gamma_initializer": "orthogonal"}),
                                     "'gamma_initializer' is 'orthogonal'"),
    "learning rate above the limit": (variant(training__learning_rate=100),
                                      "\"learning_rate\" is 100; it must be a number above 0 and at most 10"),
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


def test_a_5000_digit_number_is_refused_in_plain_words(tmp_path):
    text = json.dumps(LENET).replace('"filters": 6', '"filters": ' + "9" * 5000)
    with pytest.raises(ProjectError, match="a number in it has thousands of digits"):
        load_project(write(tmp_path, text))


def test_an_integer_learning_rate_is_read_as_a_number():
    project = project_from_dict(variant(training__learning_rate=1))
    assert project.training["learning_rate"] == 1.0 and isinstance(project.training["learning_rate"], float)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.cnnproj"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(LENET).encode("utf-8"))
    assert load_project(path).name == "LeNet-5"


def test_an_unknown_key_nested_500_deep_is_refused_naming_where(tmp_path):
    data = variant()
    value = 1
    for _ in range(500):
        value = {"k": value}
    data["training"]["notes"] = value
    with pytest.raises(ProjectError, match=r'p.cnnproj: "training" > "notes" > "k" > "k" … nests more than 100'):
        load_project(write(tmp_path, data))


def test_ordinary_nesting_of_unknown_keys_is_kept(tmp_path):
    data = variant()
    value = [1]
    for _ in range(20):
        value = {"k": value}
    data["teacher_notes"] = value
    assert json.loads(dumps(load_project(write(tmp_path, data))))["teacher_notes"] == value


@pytest.mark.parametrize("kind", ["device", "fifo", "symlink to a fifo", "folder"])
def test_only_regular_files_are_read_as_projects(tmp_path, kind):
    if kind == "device":
        path = "/dev/zero"
    elif kind == "folder":
        path = tmp_path
    else:
        fifo = tmp_path / "pipe.cnnproj"
        os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
        path = fifo
        if kind == "symlink to a fifo":
            path = tmp_path / "link.cnnproj"
            path.symlink_to(fifo)
    with pytest.raises(ProjectError, match="not a regular file|is a folder"):
        load_project(path)


def test_cycle_in_a_file_is_refused(tmp_path):
    data = variant()
    data["network"]["edges"].append(["pool1", "conv1"])
    with pytest.raises(ProjectError, match="loop"):
        load_project(write(tmp_path, data))


def _json_values():
    huge = st.sampled_from([2**31, 2**32, 2**64, 10**20, 10**400, -(10**400), int("9" * 4000)])
    leaves = (st.none() | st.booleans() | st.integers(-5, 100) | huge | st.floats(allow_nan=True)
              | st.text(max_size=6))
    return st.recursive(leaves, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=12)


def _nested(depth: int, leaf):
    for _ in range(depth):
        leaf = {"k": leaf}
    return leaf


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
        project = project_from_dict(data, "fuzz.cnnproj")
    except ProjectError as exc:
        assert str(exc).startswith("fuzz.cnnproj: ")
    else:
        dumps(project)  # what loads also saves
        analyze(project.network)  # and analyses without an internal fault


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), st.integers(1, 2000), st.sampled_from([None, 1, 10**400, "x", []]),
       st.booleans())
def test_fuzz_deeply_nested_values_load_or_fail_cleanly(path, depth, leaf, as_list):
    data = json.loads(json.dumps(LENET))
    target = data
    for key in path[:-1]:
        target = target[key]
    value = _nested(depth, leaf)
    target[path[-1]] = [value] if as_list else value
    try:
        project = project_from_dict(data, "fuzz.cnnproj")
    except ProjectError as exc:
        assert str(exc).startswith("fuzz.cnnproj: ")
    else:
        dumps(project)  # what loads also saves


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


def test_orthogonal_is_offered_for_weight_matrices_only():
    from cnnstudio.core.catalog import CATALOG

    vectors = {"bias_initializer", "beta_initializer", "gamma_initializer", "moving_mean_initializer",
               "moving_variance_initializer"}
    seen = set()
    for spec in CATALOG.values():
        for param in spec.params:
            if param.name.endswith("_initializer"):
                offered = "orthogonal" in param.choices
                assert offered == (param.name not in vectors), (spec.type, param.name)
                seen.add(param.name)
    assert {"bias_initializer", "gamma_initializer", "kernel_initializer"} <= seen
