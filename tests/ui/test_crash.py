"""An uncaught exception in the window is logged, the work is kept, and the app goes on."""

import sys

from PySide6.QtGui import QGuiApplication


def test_uncaught_exception_is_logged_explained_and_work_kept(main_window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSTUDIO_LOG_DIR", str(tmp_path / "logs"))
    window = main_window
    window.document.network.set_param("conv1", "filters", 9)  # unsaved work
    window.document.mark_modified()
    handler = window.crash_handler
    handler.install()
    try:
        try:
            raise RuntimeError("the sky fell")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: getattr(handler, "dialog", None) is not None and handler.dialog.isVisible())
    finally:
        handler.uninstall()
    logs = list((tmp_path / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and "RuntimeError: the sky fell" in logs[0].read_text()
    assert window.autosaver.file.exists()  # the recovery copy holds the unsaved edit
    assert '"filters": 9' in window.autosaver.file.read_text()
    dialog = handler.dialog
    assert "the sky fell" in dialog.informativeText() and str(logs[0]) in dialog.informativeText()
    copy = next(b for b in dialog.buttons() if b.text() == "Copy details")
    copy.click()
    assert "RuntimeError: the sky fell" in QGuiApplication.clipboard().text()
    dialog.close()
    window.document.network.set_param("conv1", "filters", 6)  # the window still works
    assert window.document.analysis().layers["conv1"].output_shape == (28, 28, 6)


def test_command_line_fault_writes_a_log_and_exits_1(tmp_path, monkeypatch, capsys):
    from cnnstudio import cli

    monkeypatch.setenv("CNNSTUDIO_LOG_DIR", str(tmp_path))

    def broken(args):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(cli, "_templates", lambda: broken(None))
    assert cli.main(["templates"]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and str(tmp_path) in err
    assert "ZeroDivisionError: oops" in next(tmp_path.glob("crash-*.log")).read_text()
