"""A run whose process died: its record says "interrupted" with why, and it resumes from what its last
checkpoint holds (not from what run.json, written ahead, says)."""

from __future__ import annotations

import json

import numpy as np

from cnnstudio.core.runs import INTERRUPTED, RUN_FORMAT, RUNNING, can_resume, mark_interrupted, read_run_info


def _run(tmp_path, status: str, epochs: int, checkpoint_epoch: int | None):
    run = tmp_path / "lenet5-run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"format": RUN_FORMAT, "status": status, "epochs_completed": epochs}))
    if checkpoint_epoch is not None:
        state = json.dumps({"format": "x", "epoch": checkpoint_epoch, "history": []})
        np.savez(run / "checkpoints" / "last.npz", model_0=np.zeros(3), state=np.array(state))
    return run


def test_a_running_run_is_marked_interrupted_and_resumes_after_its_checkpoints_epoch(tmp_path):
    run = _run(tmp_path, RUNNING, epochs=3, checkpoint_epoch=2)
    kept = mark_interrupted(run, "killed by signal 9")
    assert kept is not None and kept.resumable and kept.epochs == 2
    info = read_run_info(run)
    assert info["status"] == INTERRUPTED and info["message"] == "killed by signal 9"
    assert can_resume(info["status"], run)


def test_a_run_without_a_checkpoint_is_marked_but_not_resumable(tmp_path):
    run = _run(tmp_path, RUNNING, epochs=0, checkpoint_epoch=None)
    kept = mark_interrupted(run, "killed by signal 9")
    assert kept is not None and not kept.resumable
    assert not can_resume(read_run_info(run)["status"], run)


def test_a_finished_run_is_left_as_it_is(tmp_path):
    run = _run(tmp_path, "finished", epochs=4, checkpoint_epoch=4)
    mark_interrupted(run, "killed by signal 9")
    assert read_run_info(run)["status"] == "finished" and not can_resume("finished", run)
    assert mark_interrupted(tmp_path / "nothing", "why") is None
