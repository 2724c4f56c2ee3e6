"""Preferences are stored, applied, and can be reset."""

from PySide6.QtWidgets import QDialogButtonBox

from cnnstudio.ui import preferences


def test_preferences_are_stored_and_reset(main_window, qtbot):
    dialog = main_window.show_preferences()
    dialog.fields["cpu_threads"].setValue(2)
    dialog.fields["training/batch_size"].setValue(32)
    dialog.fields["autosave_seconds"].setValue(12)
    dialog.accept()
    assert preferences.get("cpu_threads") == 2
    assert preferences.get("training/batch_size") == 32
    assert main_window.autosaver.timer.interval() == 12_000
    env = {}
    preferences.apply_environment(env)
    assert env["TF_NUM_INTRAOP_THREADS"] == "2" and "KERAS_HOME" in env
    # templates keep their own choices; the user's defaults fill the rest
    assert main_window.new_from_template("edge-detector")
    training = main_window.document.project.training
    assert training["batch_size"] == 32 and training["learning_rate"] == 0.01
    again = main_window.show_preferences()
    again.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    again.accept()
    assert preferences.get("cpu_threads") == 0 and preferences.get("training/batch_size") == 64


def test_devices_are_listed_from_the_ml_thread(main_window, qtbot):
    dialog = main_window.show_preferences()
    qtbot.waitUntil(lambda: "CPU" in dialog.devices.text(), timeout=60_000)
    dialog.reject()


def test_the_backend_is_chosen_in_preferences_and_the_worker_moves_onto_it(make_window, qapp, qtbot):
    from cnnstudio.core.user_settings import BACKEND, preferred_backend, set_setting
    from cnnstudio.ui.ml_worker import WorkerProcess

    from .jobs_for_tests import WhereAmI

    worker = WorkerProcess("tensorflow", warm=False)  # its own: the other tests' worker stays on TensorFlow
    try:
        window = make_window(worker=worker)
        dialog = window.show_preferences()
        box = dialog.backend
        torch = box.findData("torch")
        assert "not installed: pip install 'cnnstudio[torch]'" in box.itemText(torch)
        assert not box.model().item(torch).isEnabled()  # shown, not choosable
        assert box.value() == "tensorflow"
        box.set_value("jax")
        with qtbot.waitSignal(worker.restarted, timeout=10_000) as restarted:
            dialog.accept()
        assert restarted.args == ["jax"] and worker.backend == "jax"
        assert preferred_backend() == "jax"  # where `cnnstudio train` reads it
        where: list = []
        window.context.ml.run(WhereAmI(), on_result=where.append)
        qtbot.waitUntil(lambda: bool(where), timeout=120_000)
        assert where[0]["backend"] == "jax" and where[0]["pid"] == worker.pid
    finally:
        set_setting(BACKEND, None)
        worker.stop()
