"""The data loop in the window: a folder run's most confident mistakes listed; relabelled or left out in the
project through the undo history (files untouched); a file moved only when asked, undoably, never over
another; and retrained on the corrected labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnstudio.core.project import save_project
from cnnstudio.ml.data import load_dataset
from cnnstudio.ml.training.preparation import dataset_options
from cnnstudio.ml.training.settings import TrainingSettings
from cnnstudio.ui.labels import page as label_page
from tests.core.experiment_records import write_predictions
from tests.ml.test_trainer import tiny_project

JOB_TIMEOUT = 120_000


@pytest.fixture
def photos(tmp_path) -> Path:
    """Twenty 8x8 grey pictures: ten dark, ten light, each name used once."""
    root = tmp_path / "photos"
    for cls, value in (("dark", 20), ("light", 230)):
        (root / cls).mkdir(parents=True)
        for i in range(10):
            Image.new("L", (8, 8), value + i).save(root / cls / f"{cls}-{i}.png")
    return root


@pytest.fixture
def folder_project(photos):
    return tiny_project(f"folder:{photos}", units=2, validation_split=0.25, epochs=1)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    from cnnstudio.ui import preferences

    folder = tmp_path / "runs"
    folder.mkdir()
    original = preferences.get
    monkeypatch.setattr(preferences, "get", lambda key: str(folder) if key == "runs_folder" else original(key))
    return folder


@pytest.fixture
def mistaken_run(folder_project, photos, runs):
    """A run record whose model got every validation picture wrong, the last one most surely."""
    run = runs / "photos-run"
    run.mkdir()
    save_project(folder_project, run / "project.cnnproj")
    (run / "run.json").write_text(json.dumps({"format": "cnnstudio-run", "status": "finished",
                                              "started": "2026-01-02T10:00:00"}), encoding="utf-8")
    data = load_dataset(folder_project.dataset["name"],
                        **dataset_options(folder_project, TrainingSettings.from_project(folder_project)))
    labels = data.labels("validation")
    confidence = np.linspace(0.6, 0.9, len(labels))
    write_predictions(run, labels.tolist(), [(1 - labels).tolist()], [confidence.tolist()])
    files = [Path(f).relative_to(photos).as_posix() for f in data.files("validation")]
    order = np.argsort(-confidence, kind="stable")
    return run, [files[i] for i in order], [int(labels[i]) for i in order]


@pytest.fixture
def checked(make_window, folder_project, mistaken_run, qtbot):
    window = make_window(folder_project)
    page = window.features.labels
    window.features.inspect.area.show_page(page)
    assert page.run_to_check() == mistaken_run[0]  # the project's newest folder run, though none is inspected
    page.run_check()
    qtbot.waitUntil(lambda: page.check is not None, timeout=JOB_TIMEOUT)
    return window, page


def cells(page, column: int) -> list[str]:
    return [page.table.item(row, column).text() for row in range(page.table.rowCount())]


def test_the_most_confident_mistakes_are_listed_with_their_pictures(checked, mistaken_run):
    window, page = checked
    run, files, labels = mistaken_run
    names = ("dark", "light")
    assert cells(page, 1) == files
    assert cells(page, 2) == [names[label] for label in labels]
    assert cells(page, 3) == [names[1 - label] for label in labels]
    assert cells(page, 4)[0] == "90%" and cells(page, 5) == [""] * len(files)
    assert not page.table.item(0, 0).icon().isNull()
    assert page.selected().path == files[0] and page.class_choice.currentText() == names[1 - labels[0]]
    assert f"gets these {len(files)} of its {len(files)} validation pictures wrong after epoch 1" in page.status.text()
    assert page.preview.pixmap().width() > 100  # the selected picture, large
    assert files[0] in page.caption.text() and "90% sure" in page.caption.text()
    page.table.selectRow(2)
    assert files[2] in page.caption.text()


def test_inspect_menu_opens_the_page_and_checks_the_newest_folder_run(make_window, folder_project, mistaken_run,
                                                                     qtbot):
    from PySide6.QtWidgets import QMenu

    window = make_window(folder_project)
    page = window.features.labels
    menu = window.menuBar().findChild(QMenu, "menu_inspect")
    action = next(a for a in menu.actions() if a.objectName() == "action_check_labels")
    assert action.text().replace("&", "") == "Check These Labels"
    action.trigger()
    assert window.features.inspect.area.currentWidget() is page
    qtbot.waitUntil(lambda: page.check is not None, timeout=JOB_TIMEOUT)
    assert page.check.run_dir == mistaken_run[0] and page.table.rowCount() == len(mistaken_run[1])


def test_relabel_and_leave_out_are_recorded_in_the_project_and_undone(checked, mistaken_run, photos):
    window, page = checked
    run, files, labels = mistaken_run
    document = window.document
    page.table.selectRow(0)
    page.relabel_button.click()
    target = page.class_choice.currentText()
    assert document.project.dataset["relabel"] == {files[0]: target}
    assert page.table.item(0, 5).text() == f"relabelled: {target}" and document.is_modified
    assert (photos / files[0]).is_file()  # the file is where it was
    page.table.selectRow(1)
    page.leave_out_button.click()
    assert document.project.dataset["exclude"] == [files[1]] and page.table.item(1, 5).text() == "left out"
    assert "1 picture relabelled, 1 left out" in page.edits.text()
    document.undo_stack.undo()
    assert "exclude" not in document.project.dataset and page.table.item(1, 5).text() == ""
    document.undo_stack.undo()
    assert "relabel" not in document.project.dataset and not document.is_modified
    document.undo_stack.redo()
    assert document.project.dataset["relabel"] == {files[0]: target}
    page.table.selectRow(0)
    assert page.restore_button.isEnabled()
    page.restore_button.click()
    assert "relabel" not in document.project.dataset and document.undo_stack.undoText().startswith("Restore")
    assert sorted(p.relative_to(photos).as_posix() for p in photos.rglob("*.png")) == \
        sorted(f"{c}/{c}-{i}.png" for c in ("dark", "light") for i in range(10))


def test_a_file_moves_only_when_asked_undoably_and_never_over_another(checked, mistaken_run, photos, monkeypatch):
    window, page = checked
    run, files, labels = mistaken_run
    document = window.document
    page.table.selectRow(0)
    source = photos / files[0]
    other = "light" if files[0].startswith("dark/") else "dark"
    page.class_choice.setCurrentText(other)
    monkeypatch.setattr(label_page, "ask_move", lambda parent, path, class_name: False)
    page.move_button.click()
    assert source.is_file()  # said no: nothing moved
    monkeypatch.setattr(label_page, "ask_move", lambda parent, path, class_name: True)
    page.relabel_button.click()  # a relabel the move makes unneeded
    page.move_button.click()
    target = photos / other / source.name
    assert target.is_file() and not source.exists() and "relabel" not in document.project.dataset
    assert page.table.item(0, 5).text() == f"file moved to {other}/"
    document.undo_stack.undo()
    assert source.is_file() and not target.exists() and document.project.dataset["relabel"] == {files[0]: other}
    document.undo_stack.redo()
    assert target.is_file() and not source.exists()
    document.undo_stack.undo()
    messages = []
    window.context.messages.shown.connect(lambda severity, text: messages.append((severity, text)))
    target.write_bytes(b"another picture of the same name")  # the place is taken now
    page.move_button.click()
    assert source.is_file() and target.read_bytes() == b"another picture of the same name"
    assert messages[-1][0] == "error" and "already exists; nothing was moved" in messages[-1][1]


def test_the_pictures_of_another_dataset_cannot_be_relabelled_in_this_project(checked, photos):
    window, page = checked
    window.document.settings.data.update(name="x-vs-o")
    page.table.selectRow(0)
    assert "does not train on" in page.edits.text()
    assert not page.relabel_button.isEnabled() and not page.move_button.isEnabled()


def test_retrain_trains_on_the_corrected_labels_and_checks_the_new_run(checked, mistaken_run, qtbot):
    window, page = checked
    run, files, labels = mistaken_run
    page.table.selectRow(0)
    page.relabel_button.click()
    page.table.selectRow(1)
    page.leave_out_button.click()
    finished = []
    window.features.training.runFinished.connect(finished.append)
    assert page.retrain_button.isEnabled()
    page.retrain_button.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=JOB_TIMEOUT)
    new_run = Path(finished[0])
    snapshot = json.loads((new_run / "project.cnnproj").read_text(encoding="utf-8"))
    assert snapshot["dataset"]["relabel"] == {files[0]: page.class_choice.itemText(1 - labels[0])}
    assert snapshot["dataset"]["exclude"] == [files[1]]
    info = json.loads((new_run / "run.json").read_text(encoding="utf-8"))
    counts = info["dataset"]
    assert counts["num_train"] + counts["num_validation"] + counts["num_test"] == 19  # one picture left out
    qtbot.waitUntil(lambda: page.check is not None and page.check.run_dir == new_run, timeout=JOB_TIMEOUT)
    assert all(s.path != files[1] for s in page.check.suspects)
