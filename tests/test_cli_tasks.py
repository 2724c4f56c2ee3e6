"""`cnnstudio train` for every task kind: segmentation (folder and npz), regression and multi-label, each
one tiny epoch; bad masks refused naming the file; unet-mini summarized."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnstudio.cli import main
from cnnstudio.core.project import save_project
from tests.task_data import (
    dense_project,
    segmentation_project,
    write_multilabel_npz,
    write_regression_npz,
    write_segmentation_folder,
    write_segmentation_npz,
)


def train(capsys, project, folder: Path, *extra: str) -> tuple[int, dict | None, str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "project.cnnproj"
    save_project(project, path)
    run_dir = folder / "run"
    code = main(["train", str(path), "--run-dir", str(run_dir), "--json", *extra])
    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1]) if code == 0 else None
    return code, result, err, run_dir


def header(run_dir: Path) -> list[str]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return next(csv.reader(handle))


def one_error(code: int, err: str) -> str:
    assert code == 2 and "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    return line


def test_segmentation_from_a_folder_of_images_and_masks_trains_and_reports_mean_iou(tmp_path, capsys):
    data = write_segmentation_folder(tmp_path / "blobs")
    code, result, err, run_dir = train(capsys, segmentation_project(f"folder:{data}"), tmp_path)
    assert code == 0, err
    assert result["task"] == "segmentation" and 0 <= result["test_mean_iou"] <= 1
    assert 0 <= result["test_accuracy"] <= 1 and result["test_loss"] > 0 and result["epochs"] == 1
    assert "test pixel accuracy" in err and "test mean IoU" in err and "val_mean_iou" in err
    assert header(run_dir) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "mean_iou", "val_mean_iou"]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["task"] == "segmentation" and info["test"]["mean_iou"] == result["test_mean_iou"]


def test_segmentation_from_npz_masks_trains(tmp_path, capsys):
    data = write_segmentation_npz(tmp_path)
    code, result, err, run_dir = train(capsys, segmentation_project(f"npz:{data}", learning_rate=0.05, epochs=3),
                                       tmp_path)
    assert code == 0, err
    assert result["task"] == "segmentation" and result["test_mean_iou"] > 0.4  # three classes, 0.33 by chance
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert len(rows) == 3 and all(float(r["val_mean_iou"]) > 0 for r in rows)


def test_regression_from_npz_values_reports_mae_and_leaves_accuracy_empty(tmp_path, capsys):
    data = write_regression_npz(tmp_path)
    code, result, err, run_dir = train(capsys, dense_project(f"npz:{data}", 2, None), tmp_path)
    assert code == 0, err
    assert result["task"] == "regression" and result["test_accuracy"] is None and result["test_mae"] >= 0
    assert set(result) >= {"test_loss", "test_accuracy", "epochs", "seconds", "run_dir"}
    assert header(run_dir)[5:] == ["mae", "val_mae"]
    [row] = list(csv.DictReader(open(run_dir / "metrics.csv")))
    assert row["accuracy"] == "" and row["val_accuracy"] == "" and float(row["val_mae"]) >= 0
    assert "test MAE" in err


def test_multilabel_from_npz_reports_label_accuracy_and_auc(tmp_path, capsys):
    data = write_multilabel_npz(tmp_path)
    code, result, err, run_dir = train(capsys, dense_project(f"npz:{data}", 3, "sigmoid"), tmp_path)
    assert code == 0, err
    assert result["task"] == "multilabel" and 0 <= result["test_accuracy"] <= 1 and 0 <= result["test_auc"] <= 1
    assert header(run_dir)[5:] == ["auc", "val_auc"]


def test_class_labels_can_be_learned_as_values_when_the_task_says_so(tmp_path, capsys):
    from tests.ml.test_trainer import write_quadrants

    data = write_quadrants(tmp_path)
    project = dense_project(f"npz:{data}", 1, None, task="regression")
    code, result, err, _ = train(capsys, project, tmp_path)
    assert code == 0, err
    assert result["task"] == "regression" and result["test_mae"] is not None


def test_a_picture_without_its_mask_is_refused_naming_it(tmp_path, capsys):
    data = write_segmentation_folder(tmp_path / "blobs", n=12)
    (data / "masks" / "b05.png").unlink()
    code, _, err, _ = train(capsys, segmentation_project(f"folder:{data}"), tmp_path)
    line = one_error(code, err)
    assert "images/b05.png" in line and "has no mask" in line and "masks/b05.png" in line


def test_a_mask_of_another_size_is_refused_naming_it(tmp_path, capsys):
    data = write_segmentation_folder(tmp_path / "blobs", n=12)
    Image.fromarray(np.zeros((8, 16), np.uint8)).save(data / "masks" / "b03.png")
    code, _, err, _ = train(capsys, segmentation_project(f"folder:{data}"), tmp_path)
    line = one_error(code, err)
    assert "mask 'masks/b03.png' is 16x8 pixels but its picture 'images/b03.png' is 16x16" in line


def test_a_mask_with_a_class_beyond_the_outputs_is_refused_naming_it(tmp_path, capsys):
    data = write_segmentation_folder(tmp_path / "blobs", n=12)
    mask = np.zeros((16, 16), np.uint8)
    mask[3, 3] = 7
    Image.fromarray(mask).save(data / "masks" / "b06.png")
    code, _, err, _ = train(capsys, segmentation_project(f"folder:{data}", classes=3), tmp_path)
    line = one_error(code, err)
    assert "mask 'masks/b06.png'" in line and "above 2" in line and "3 channels" in line


def test_a_colour_mask_is_refused_naming_it(tmp_path, capsys):
    data = write_segmentation_folder(tmp_path / "blobs", n=12)
    Image.fromarray(np.full((16, 16, 3), (200, 10, 10), np.uint8)).save(data / "masks" / "b02.png")
    code, _, err, _ = train(capsys, segmentation_project(f"folder:{data}"), tmp_path)
    assert "mask 'masks/b02.png' is a colour picture" in one_error(code, err)


def test_npz_masks_with_more_classes_than_the_output_are_refused_naming_the_file(tmp_path, capsys):
    data = write_segmentation_npz(tmp_path)
    code, _, err, _ = train(capsys, segmentation_project(f"npz:{data}", classes=2), tmp_path)
    line = one_error(code, err)
    assert "blobs.npz" in line and "2 channels" in line and "3 classes" in line


def test_a_classifier_on_masks_is_refused_saying_what_the_output_must_be(tmp_path, capsys):
    data = write_segmentation_npz(tmp_path)
    code, _, err, _ = train(capsys, dense_project(f"npz:{data}", 3, "softmax", shape=(16, 16, 1)), tmp_path)
    line = one_error(code, err)
    assert "node 'out'" in line and "segmentation output must be a map" in line


def test_unet_mini_summarizes_without_warnings(capsys):
    assert main(["summary", "unet-mini"]) == 0
    out, err = capsys.readouterr()
    assert "64x64x4" in out and "Concatenate" in out and "Conv2DTranspose" in out and "warning" not in err


def test_summary_warns_when_a_segmentation_output_misses_the_masks(tmp_path, capsys):
    from cnnstudio.core.templates import load_template

    project = load_template("unet-mini")
    project.network.nodes["output"].params["filters"] = 3
    save_project(project, tmp_path / "three.cnnproj")
    assert main(["summary", str(tmp_path / "three.cnnproj")]) == 0
    assert "warning: output: the output has 3 channels but 'shapes' has 4 classes" in capsys.readouterr().err


@pytest.mark.slow
def test_unet_mini_trains_on_shapes_to_a_convincing_mean_iou(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "unet-mini", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["test_mean_iou"] > 0.8


def test_the_task_is_said_when_training_starts_and_a_task_the_data_cannot_give_is_refused(tmp_path, capsys):
    data = write_regression_npz(tmp_path)
    code, _, err, _ = train(capsys, dense_project(f"npz:{data}", 2, None), tmp_path)
    assert code == 0 and "task: regression (numbers), chosen from the data and the output" in err
    code, _, err, _ = train(capsys, dense_project(f"npz:{data}", 2, None, task="multilabel"), tmp_path / "again")
    line = one_error(code, err)
    assert 'training "task" is "multilabel"' in line and "holds numbers to predict" in line


def test_class_weights_and_several_workers_are_refused_for_masks(tmp_path, capsys):
    data = write_segmentation_npz(tmp_path)
    code, _, err, _ = train(capsys, segmentation_project(f"npz:{data}", class_weight="balanced"), tmp_path)
    assert 'training "class_weight" weighs whole images' in one_error(code, err)
    code, _, err, _ = train(capsys, segmentation_project(f"npz:{data}"), tmp_path / "two", "--strategy",
                            "multi-worker")
    assert "multi-worker trains classifiers only" in one_error(code, err)


def test_segmentation_trains_on_jax_without_tensorflow(tmp_path):
    import subprocess
    import sys

    data = write_segmentation_npz(tmp_path)
    save_project(segmentation_project(f"npz:{data}"), tmp_path / "seg.cnnproj")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "cnnstudio", "train", str(tmp_path / "seg.cnnproj"), "--backend",
                           "jax", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(root),
                               "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["task"] == "segmentation" and 0 <= result["test_mean_iou"] <= 1
