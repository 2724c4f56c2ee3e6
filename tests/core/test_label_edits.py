"""The data loop in core: relabel and exclude recorded in the project, applied to a folder listing,
the most confident mistakes, and a real move of a file with undo that never overwrites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnstudio.core.errors import DatasetError, UserError
from cnnstudio.core.label_edits import (
    LabelEdits,
    apply_label_edits,
    excluded,
    move_image,
    relabelled,
    restored,
    suspects,
    undo_move,
)
from cnnstudio.core.runs import read_val_predictions
from tests.core.experiment_records import write_predictions


def test_edits_are_recorded_in_the_dataset_section_and_undone():
    section = {"name": "folder:photos"}
    section = relabelled(section, "cats/1.png", "dogs")
    section = excluded(section, "dogs\\blurry.png")
    assert section == {"name": "folder:photos", "relabel": {"cats/1.png": "dogs"}, "exclude": ["dogs/blurry.png"]}
    assert "exclude" not in relabelled(section, "dogs/blurry.png", "cats")  # relabelled, so back in
    assert restored(restored(section, "cats/1.png"), "dogs/blurry.png") == {"name": "folder:photos"}
    edits = LabelEdits.from_dataset(section)
    assert edits.relabel == (("cats/1.png", "dogs"),) and edits.exclude == ("dogs/blurry.png",) and edits


@pytest.mark.parametrize("section, words", [
    ({"relabel": ["cats/1.png"]}, "must map image paths to class names"),
    ({"exclude": "dogs/1.png"}, "must be a list of image paths"),
    ({"exclude": ["../secret.png"]}, "not a path inside the dataset folder"),
    ({"relabel": {"/etc/passwd": "cats"}}, "not a path inside the dataset folder"),
])
def test_badly_written_edits_are_refused(section, words):
    with pytest.raises(DatasetError, match=words):
        LabelEdits.from_dataset(section)


def test_the_folder_listing_gets_the_edits(tmp_path):
    root = tmp_path / "photos"
    paths = np.array([str(root / p) for p in ("cats/1.png", "cats/2.png", "dogs/1.png", "dogs/2.png")], dtype=object)
    labels = np.array([0, 0, 1, 1])
    edits = LabelEdits.from_dataset({"relabel": {"cats/2.png": "dogs", "cats/9.png": "dogs"},
                                     "exclude": ["dogs/1.png"]})
    kept, new_labels, warnings = apply_label_edits(root, paths, labels, ("cats", "dogs"), edits)
    assert [Path(p).relative_to(root).as_posix() for p in kept] == ["cats/1.png", "cats/2.png", "dogs/2.png"]
    assert new_labels.tolist() == [0, 1, 1] and labels.tolist() == [0, 0, 1, 1]
    assert len(warnings) == 1 and "cats/9.png" in warnings[0] and "moved or deleted" in warnings[0]
    with pytest.raises(DatasetError, match="names class 'birds'.*its classes: cats, dogs"):
        apply_label_edits(root, paths, labels, ("cats", "dogs"), LabelEdits((("cats/1.png", "birds"),)))


def test_check_these_labels_lists_the_most_confident_mistakes(tmp_path):
    write_predictions(tmp_path, [0, 0, 1, 1], [[1, 0, 0, 1]], [[0.7, 0.9, 0.99, 0.8]])
    found = suspects(read_val_predictions(tmp_path), ["c/a.png", "c/b.png", "d/a.png", "d/b.png"], ("c", "d"))
    assert [(s.index, s.path, s.label, s.predicted) for s in found] == [(2, "d/a.png", "d", "c"),
                                                                         (0, "c/a.png", "c", "d")]
    assert found[0].confidence == pytest.approx(0.99, abs=1e-3)
    with pytest.raises(UserError, match="train again"):
        suspects(read_val_predictions(tmp_path), ["c/a.png"], ("c", "d"))


def test_a_move_is_real_can_be_undone_and_never_overwrites(tmp_path):
    for name, data in (("cats/1.png", b"one"), ("dogs/2.png", b"two"), ("dogs/3.png", b"dog three"),
                       ("cats/3.png", b"cat three")):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    move = move_image(tmp_path, "cats/1.png", "dogs")
    assert move.target == tmp_path / "dogs" / "1.png" and move.target.read_bytes() == b"one"
    assert not (tmp_path / "cats" / "1.png").exists()
    undo_move(move)
    assert (tmp_path / "cats" / "1.png").read_bytes() == b"one" and not move.target.exists()
    with pytest.raises(UserError, match="already exists; nothing was moved"):
        move_image(tmp_path, "cats/3.png", "dogs")
    assert (tmp_path / "dogs" / "3.png").read_bytes() == b"dog three"
    assert (tmp_path / "cats" / "3.png").read_bytes() == b"cat three"
    with pytest.raises(UserError, match="not a class folder"):
        move_image(tmp_path, "cats/3.png", "birds")
    with pytest.raises(UserError, match="not a class folder"):
        move_image(tmp_path, "cats/3.png", "../cats")
