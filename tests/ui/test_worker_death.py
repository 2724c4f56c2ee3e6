"""The window survives its ML worker: killed mid-run (kill -9), the run is marked interrupted with what it
saved, a new worker starts, the project and its unsaved edits are intact, and the run resumes from its
checkpoint (from the Runs panel); a device out of memory stops the run in words; nothing TensorFlow-like
is ever loaded into the window's own process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnnstudio.core.runs import INTERRUPTED, checkpoint_epochs, read_metrics
from cnnstudio.core.templates import load_template
from cnnstudio.ml.jobs.requests import PingRequest
from cnnstudio.ui.editor.commands import SetParamCommand
from cnnstudio.ui.ml_worker import WorkerProcess

from . import jobs_for_tests

WAIT = 180_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_worker(qapp):
    worker = WorkerProcess("tensorflow", warm=False)
    yield worker
    worker.stop()


def lenet5(steps: int, epochs: int):
    project = load_template("lenet5")
    project.training.update(max_steps_per_epoch=steps, epochs=epochs, batch_size=32, validation_split=0.05)
    return project


def test_killing_the_worker_mid_run_leaves_the_window_working_and_the_run_resumable(make_window, own_worker,
                                                                                     qtbot):
    window = make_window(lenet5(steps=30, epochs=4), worker=own_worker)
    window.docks["training"].raise_()
    document, training = window.document, window.features.training
    document.push(SetParamCommand(document.network, "conv1", "filters", 4))  # an unsaved edit
    epochs: list = []
    training.epoch.connect(epochs.append)
    with qtbot.waitSignal(training.started, timeout=WAIT) as started:
        training.start()
    run_dir = Path(started.args[0])
    qtbot.waitUntil(lambda: len(epochs) >= 2, timeout=WAIT)
    training.pause()  # between batches of the next epoch: the checkpoint is the one after epoch 2
    qtbot.waitUntil(lambda: training.is_paused, timeout=WAIT)
    checkpoint = run_dir / "checkpoints" / "last.npz"  # written behind training: wait for epoch 2's
    qtbot.waitUntil(lambda: checkpoint.is_file() and (checkpoint_epochs(checkpoint) or 0) >= 2, timeout=WAIT)
    pid = own_worker.pid
    with qtbot.waitSignal(training.failed, timeout=WAIT) as failed, \
            qtbot.waitSignal(own_worker.started, timeout=WAIT) as restarted:
        os.kill(pid, signal.SIGKILL)
    message = failed.args[0]
    info = json.loads((run_dir / "run.json").read_text())
    saved = checkpoint_epochs(checkpoint)  # what a resumed run carries on from
    assert message.startswith("The training process stopped unexpectedly (killed by signal 9).")
    assert (f"The run '{run_dir.name}' was marked as interrupted; its checkpoint after epoch {saved} is kept and "
            "can be resumed") in message
    assert info["status"] == INTERRUPTED and saved >= 2 and "killed by signal 9" in info["message"]
    assert restarted.args[0] != pid
    # the window, the project and its unsaved edit are as they were
    assert window.isVisible() and not training.is_running and not document.locked
    assert document.is_modified and document.network.node("conv1").params["filters"] == 4
    assert message in window.messages.texts()  # said once, in the Messages log
    assert not any("a new one was started" in text for text in window.messages.texts())
    # resumed from the Runs panel: it carries on after the saved epoch and finishes
    runs = window.features.runs
    runs.refresh()
    runs.select([run_dir])
    assert runs.resume_button.isEnabled()
    with qtbot.waitSignal(training.runFinished, timeout=WAIT) as finished:
        runs.resume_button.click()
    assert Path(finished.args[0]) == run_dir
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["resumed_after_epochs"] == [saved]
    assert [row["epoch"] for row in read_metrics(run_dir)] == [1, 2, 3, 4]
    assert (run_dir / "model.keras").is_file()


def test_an_idle_worker_that_dies_is_replaced_and_said_so(make_window, own_worker, qtbot):
    window = make_window(worker=own_worker)
    answers: list = []
    window.context.ml.run(PingRequest(1), on_result=answers.append)
    qtbot.waitUntil(lambda: answers == [1], timeout=WAIT)
    with qtbot.waitSignal(window.context.messages.shown, timeout=WAIT) as shown:
        os.kill(own_worker.pid, signal.SIGKILL)
    assert shown.args == ["warning", "The process that trains and inspects networks stopped unexpectedly (killed by "
                                     "signal 9); a new one was started. Your project is as it was."]
    window.context.ml.run(PingRequest(2), on_result=answers.append)
    qtbot.waitUntil(lambda: answers == [1, 2], timeout=WAIT)


def test_a_device_out_of_memory_stops_the_run_in_words_and_the_window_goes_on(make_window, in_worker, qtbot,
                                                                              tmp_path):
    window = make_window(lenet5(steps=4, epochs=1))
    in_worker(attributes=[("cnnstudio.ml.trainer:Trainer.run", jobs_for_tests.out_of_memory)])
    training = window.features.training
    with qtbot.waitSignal(training.failed, timeout=WAIT) as failed:
        training.start()
    message = failed.args[0]
    assert "ran out of memory while training with batch size 32" in message
    assert "estimated to need about" in message and "try a smaller batch size" in message
    assert window.isVisible() and not training.is_running and not window.document.locked
    answers: list = []
    window.context.ml.run(PingRequest("still there"), on_result=answers.append)
    qtbot.waitUntil(lambda: answers == ["still there"], timeout=WAIT)


NO_TENSORFLOW_IN_THE_WINDOW = textwrap.dedent("""
    import json, os, sys, tempfile
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["CNNSTUDIO_RUNS_DIR"] = tempfile.mkdtemp()

    def main():
        from PySide6.QtCore import QCoreApplication, QTimer
        from PySide6.QtWidgets import QApplication
        QCoreApplication.setOrganizationName("CNN Studio Isolation Test")
        app = QApplication([])
        from cnnstudio.core.templates import load_template
        from cnnstudio.ui.main_window import MainWindow
        project = load_template("lenet5")
        project.training.update(epochs=1, max_steps_per_epoch=5, batch_size=32)
        window = MainWindow(project)
        window.show()
        out = {}
        training = window.features.training
        training.runFinished.connect(lambda run: (out.update(run=str(run)), app.quit()))
        training.failed.connect(lambda text: (out.update(failed=text), app.quit()))
        QTimer.singleShot(0, training.start)
        QTimer.singleShot(500_000, app.quit)
        app.exec()
        out["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "jax", "torch"})
        out["worker"] = window.ml_transport.worker.pid
        window.close()
        print(json.dumps(out))

    if __name__ == "__main__":
        main()
""")


def test_after_a_training_run_the_windows_process_has_loaded_no_tensorflow_keras_jax_or_torch(tmp_path):
    script = tmp_path / "window_trains.py"
    script.write_text(NO_TENSORFLOW_IN_THE_WINDOW)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CNNSTUDIO_CONFIG_DIR": str(tmp_path / "config")}
    env.pop("CNNSTUDIO_ML_IN_PROCESS", None)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "run" in out, out
    assert out["loaded"] == [] and out["worker"] not in (None, os.getpid())
    assert (Path(out["run"]) / "model.keras").is_file()
