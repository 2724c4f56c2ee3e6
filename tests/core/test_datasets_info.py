"""Dataset metadata without TensorFlow: names, shapes, classes, compatibility messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.datasets import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    FIXED_NAMES,
    DatasetInfo,
    check_input_compatibility,
    dataset_info,
    list_datasets,
    parse_dataset_name,
)
from cnnstudio.core.errors import DatasetError, UserError


def test_list_has_every_contract_name_and_both_forms():
    names = [info.name for info in list_datasets()]
    assert names[: len(FIXED_NAMES)] == list(FIXED_NAMES)
    assert set(FIXED_NAMES) == {"mnist-sample", "mnist", "fashion-mnist", "cifar10", "cifar100", "x-vs-o", "stripes",
                                "shapes"}
    assert "folder:PATH" in names and "npz:PATH" in names
    for info in list_datasets():
        assert isinstance(info, DatasetInfo)
        assert info.source in {"bundled", "download", "generated", "folder", "npz"}
        assert info.title and info.description.endswith(".")
        if info.class_names is not None:
            assert len(info.class_names) == info.num_classes


@pytest.mark.parametrize("name, shape, classes", [
    ("mnist-sample", (28, 28, 1), 10), ("mnist", (28, 28, 1), 10), ("fashion-mnist", (28, 28, 1), 10),
    ("cifar10", (32, 32, 3), 10), ("cifar100", (32, 32, 3), 100), ("x-vs-o", (28, 28, 1), 2),
    ("stripes", (28, 28, 1), 2), ("shapes", (64, 64, 3), 4),
])
def test_fixed_dataset_info(name, shape, classes):
    info = dataset_info(name)
    assert (info.name, info.input_shape, info.num_classes) == (name, shape, classes)
    assert len(set(info.class_names)) == classes


def test_class_orders_are_documented_ones():
    assert dataset_info("x-vs-o").class_names == ("O", "X")
    assert dataset_info("stripes").class_names == ("horizontal", "vertical")
    assert CIFAR10_CLASSES[3] == "cat" and CIFAR100_CLASSES[0] == "apple" and CIFAR100_CLASSES[-1] == "worm"
    assert dataset_info("mnist-sample").class_names == tuple("0123456789")


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(DatasetError) as err:
        dataset_info("cifar-10")
    message = str(err.value)
    assert "cifar-10" in message
    for name in FIXED_NAMES:
        assert name in message
    assert isinstance(err.value, UserError)


@pytest.mark.parametrize("bad", ["", "   ", "folder:", "npz:  ", "mnist_sample", "folders:/x"])
def test_bad_names_raise_dataset_error(bad):
    with pytest.raises(DatasetError):
        parse_dataset_name(bad)


def test_parse_accepts_case_and_paths(tmp_path):
    assert parse_dataset_name(" MNIST-Sample ") == ("mnist-sample", None)
    assert parse_dataset_name(f"folder:{tmp_path}") == ("folder", tmp_path)
    assert parse_dataset_name("npz:data/my file.npz")[1].name == "my file.npz"


def test_folder_info_sorted_subfolders(tmp_path):
    for cls in ("zebra", "ant", "cat", ".hidden"):
        (tmp_path / cls).mkdir()
    (tmp_path / "readme.txt").write_text("not a class")
    info = dataset_info(f"folder:{tmp_path}")
    assert info.class_names == ("ant", "cat", "zebra")
    assert info.num_classes == 3 and info.input_shape is None and info.source == "folder"


def test_folder_info_problems(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        dataset_info(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(DatasetError, match="no subfolders"):
        dataset_info(f"folder:{tmp_path}")
    (tmp_path / "only").mkdir()
    with pytest.raises(DatasetError, match="only one class"):
        dataset_info(f"folder:{tmp_path}")
    (tmp_path / "file.npz").write_bytes(b"x")
    with pytest.raises(DatasetError, match="not a folder"):
        dataset_info(f"folder:{tmp_path / 'file.npz'}")


def test_npz_info_reads_shapes_cheaply(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, x_train=np.zeros((30, 12, 10), np.uint8), y_train=np.arange(30) % 4,
             x_test=np.zeros((7, 12, 10), np.uint8), y_test=np.arange(7) % 4)
    info = dataset_info(f"npz:{path}")
    assert info.input_shape == (12, 10, 1)
    assert info.num_classes == 4 and info.class_names == ("0", "1", "2", "3")
    assert (info.num_train, info.num_test) == (30, 7)
    named = tmp_path / "named.npz"
    np.savez(named, x_train=np.zeros((5, 4, 4, 3), np.float32), y_train=np.array([0, 1, 0, 1, 0]),
             class_names=np.array(["cats", "dogs"]))
    info = dataset_info(f"npz:{named}")
    assert info.input_shape == (4, 4, 3) and info.class_names == ("cats", "dogs") and info.num_test == 1


def test_npz_info_problems(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        dataset_info(f"npz:{tmp_path / 'nope.npz'}")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is no zip file")
    with pytest.raises(DatasetError, match="cannot read"):
        dataset_info(f"npz:{bad}")
    keys = tmp_path / "keys.npz"
    np.savez(keys, images=np.zeros((3, 4, 4)), labels=np.zeros(3))
    with pytest.raises(DatasetError, match="x_train and y_train"):
        dataset_info(f"npz:{keys}")


def test_compatible_shapes_give_no_messages():
    assert check_input_compatibility((28, 28, 1), (28, 28, 1), 10, 10) == []
    assert check_input_compatibility((32, 32, 3), (None, None, 3), 10, 10) == []
    assert check_input_compatibility((28, 28, 1), [28, 28, 1], 2, 1) == []  # one sigmoid unit


def test_incompatible_shapes_say_what_to_do():
    [message] = check_input_compatibility((32, 32, 3), (28, 28, 1), dataset_name="cifar10")
    assert "28x28x1" in message and "'cifar10' has 32x32x3" in message
    assert "[32, 32, 3]" in message and "28x28" in message and "grayscale" in message
    [flat] = check_input_compatibility((28, 28, 1), (784,), dataset_name="mnist")
    assert "784" in flat and "Flatten" in flat
    [units] = check_input_compatibility((32, 32, 3), (32, 32, 3), 100, 10, dataset_name="cifar100")
    assert "10 units" in units and "100 classes" in units


def test_core_datasets_never_imports_tensorflow(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros((4, 3, 3), np.uint8), y_train=np.array([0, 1, 0, 1]))
    (tmp_path / "f" / "a").mkdir(parents=True)
    (tmp_path / "f" / "b").mkdir()
    code = textwrap.dedent(f"""
        import sys
        from cnnstudio.core import datasets as d
        d.list_datasets(); d.dataset_info("cifar10")
        d.dataset_info({f"npz:{tmp_path / 'd.npz'}"!r}); d.dataset_info({f"folder:{tmp_path / 'f'}"!r})
        d.check_input_compatibility((28, 28, 1), (32, 32, 3), 10, 10)
        heavy = [m for m in ("tensorflow", "keras", "PySide6") if m in sys.modules]
        assert not heavy, heavy
    """)
    repo_root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=repo_root)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("labels, expected", [
    (np.array([0, 1, 10**9]), "has the label 1000000000; labels are 0 .. number of classes - 1"),
    (np.array([0.0, 1.0, np.nan]), "NaN, infinite or fractional values"),
    (np.array(["cat", "dog", "cat"]), "not <U3 values"),
    (np.zeros((3, 2, 1, 2), dtype=np.int64), "has shape [3, 2, 1, 2]; targets must be (N,) class numbers"),
    (np.zeros((3, 2, 1), dtype=np.int64), "holds masks of 2x1 but the images are 28x28"),
    (np.array([0, -1, 1]), "has the label -1; labels are class numbers from 0"),
])
def test_npz_labels_that_cannot_be_classes_are_refused_before_anything_is_built(tmp_path, capsys, labels, expected):
    """The summary used to build a billion class names for a label of 10**9 and run out of memory."""
    import json

    from cnnstudio.cli import main
    from cnnstudio.core.templates import template_path

    path = tmp_path / "odd.npz"
    np.savez(path, x_train=np.zeros((3, 28, 28), np.uint8), y_train=labels)
    with pytest.raises(DatasetError) as info:
        dataset_info(f"npz:{path}")
    assert expected in str(info.value) and "y_train in" in str(info.value)
    project = json.loads(template_path("lenet5").read_text())
    project["dataset"] = {"name": f"npz:{path}", "permute_pixels": None}
    (tmp_path / "p.cnnproj").write_text(json.dumps(project))
    assert main(["summary", str(tmp_path / "p.cnnproj")]) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err
