"""The data loop with a real folder dataset: edits recorded in the project change what is loaded,
and "check these labels" names the files of a run's most confident mistakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.errors import DatasetError, UserError
from cnnstudio.core.label_edits import LabelEdits, excluded, relabelled
from cnnstudio.core.project import save_project
from cnnstudio.ml.data import load_dataset
from cnnstudio.ml.label_check import check_these_labels
from cnnstudio.ml.training.preparation import dataset_options
from cnnstudio.ml.training.settings import TrainingSettings
from tests.core.experiment_records import write_predictions
from tests.ml.test_trainer import tiny_project


@pytest.fixture
def photos(tmp_path) -> Path:
    root = tmp_path / "photos"
    for cls, value in (("dark", 20), ("light", 230)):
        (root / cls).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (8, 8), value + i).save(root / cls / f"{i}.png")
    return root


def test_relabel_and_exclude_apply_when_the_folder_loads_and_leave_the_files(photos):
    plain = load_dataset(f"folder:{photos}", validation_split=0.0)
    edits = LabelEdits.from_dataset({"relabel": {"dark/0.png": "light", "dark/1.png": "light"},
                                     "exclude": ["light/9.png"]})
    edited = load_dataset(f"folder:{photos}", validation_split=0.0, label_edits=edits)
    total = plain.num_train + plain.num_test
    assert edited.num_train + edited.num_test == total - 1
    counts = edited.class_counts("train") + edited.class_counts("test")
    assert counts.tolist() == [8, 11]
    files = edited.files("train") + edited.files("test")
    assert str(photos / "light" / "9.png") not in files and (photos / "light" / "9.png").is_file()
    labels = dict(zip(files, np.concatenate([edited.labels("train"), edited.labels("test")]).tolist(), strict=True))
    assert labels[str(photos / "dark" / "0.png")] == 1 and (photos / "dark" / "0.png").is_file()


def test_the_project_carries_the_edits_to_the_loader(photos):
    project = tiny_project(f"folder:{photos}", units=2)
    project.dataset = excluded(relabelled(project.dataset, "dark/3.png", "light"), "dark/4.png")
    options = dataset_options(project, TrainingSettings.from_project(project))
    assert options["label_edits"] == LabelEdits((("dark/3.png", "light"),), ("dark/4.png",))
    data = load_dataset(project.dataset["name"], **options)
    assert data.num_train + data.num_validation + data.num_test == 19
    project.dataset = relabelled(project.dataset, "dark/5.png", "blue")
    with pytest.raises(DatasetError, match="class 'blue'"):
        load_dataset(project.dataset["name"], **dataset_options(project, TrainingSettings.from_project(project)))


def test_check_these_labels_names_the_files_of_the_most_confident_mistakes(photos, tmp_path):
    project = tiny_project(f"folder:{photos}", units=2, validation_split=0.25)
    run = tmp_path / "run"
    run.mkdir()
    save_project(project, run / "project.cnnproj")
    data = load_dataset(project.dataset["name"], **dataset_options(project, TrainingSettings.from_project(project)))
    labels = data.labels("validation")
    wrong = 1 - labels  # the model got every image wrong ...
    confidence = np.linspace(0.5, 0.9, len(labels))  # ... the last one most surely
    write_predictions(run, labels.tolist(), [wrong.tolist()], [confidence.tolist()])
    found = check_these_labels(run, limit=3)
    assert len(found) == 3 and found[0].index == len(labels) - 1
    expected = Path(data.files("validation")[-1]).relative_to(photos).as_posix()
    assert found[0].path == expected and found[0].label == expected.split("/")[0]
    assert found[0].predicted != found[0].label and found[0].confidence == pytest.approx(0.9, abs=1e-3)


def test_check_these_labels_needs_a_folder_dataset(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    save_project(tiny_project("x-vs-o", units=2), run / "project.cnnproj")
    with pytest.raises(UserError, match="folder of your own pictures"):
        check_these_labels(run)


def test_the_label_check_job_gives_each_suspect_its_own_picture(photos, tmp_path):
    import pickle

    from cnnstudio.ml.jobs.host import JobHost
    from cnnstudio.ml.jobs.protocol import JobCall
    from cnnstudio.ml.jobs.requests import LabelCheckRequest, RunImagesRequest
    from tests.ml.test_jobs import Recorder

    project = tiny_project(f"folder:{photos}", units=2, validation_split=0.25)
    run = tmp_path / "run"
    run.mkdir()
    save_project(project, run / "project.cnnproj")
    (run / "run.json").write_text('{"format": "cnnstudio-run"}', encoding="utf-8")
    data = load_dataset(project.dataset["name"], **dataset_options(project, TrainingSettings.from_project(project)))
    labels = data.labels("validation")
    write_predictions(run, labels.tolist(), [(1 - labels).tolist()], [np.linspace(0.5, 0.9, len(labels)).tolist()])
    host = JobHost()
    check = host.run(JobCall(LabelCheckRequest(run, limit=2)), Recorder())
    assert check.root == photos and check.class_names == ("dark", "light") and check.epoch == 1
    assert check.validated == len(labels) and len(check.suspects) == 2 == len(check.images)
    x, _ = data.arrays("validation")
    for suspect, image in zip(check.suspects, check.images, strict=True):
        np.testing.assert_allclose(image, x[suspect.index])
        assert data.files("validation")[suspect.index] == str(photos / suspect.path)
    pickle.loads(pickle.dumps(check))
    shown = host.run(JobCall(RunImagesRequest(run, (2, 0))), Recorder())
    np.testing.assert_allclose(shown.images, x[[2, 0]])
    assert shown.labels.tolist() == labels[[2, 0]].tolist() and shown.class_names == ("dark", "light")
    with pytest.raises(UserError, match="not a training run"):
        host.run(JobCall(RunImagesRequest(tmp_path, (0,))), Recorder())
