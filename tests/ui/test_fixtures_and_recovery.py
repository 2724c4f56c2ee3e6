"""The safety nets: the leak-checking fixture, and recovery after a crash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from cnnstudio.core.project import dumps, load_project
from cnnstudio.core.templates import default_project
from cnnstudio.ui import app, autosave, dialogs

TESTS = Path(__file__).resolve().parents[1]

LEAKY = textwrap.dedent("""
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QWidget

    def test_leaves_a_window_open(qtbot):
        window = QWidget()
        window.setWindowTitle("forgotten")
        window.show()
        test_leaves_a_window_open.keep = window

    def test_leaves_a_thread_running(qtbot):
        class Busy(QThread):
            def run(self):
                self.msleep(3000)
        thread = Busy()
        thread.start()
        test_leaves_a_thread_running.keep = thread

    def test_cleans_up(qtbot):
        window = QWidget()
        qtbot.addWidget(window)
        window.show()
""")


def test_the_fixtures_fail_tests_that_leak_windows_or_threads(tmp_path):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_leaky.py").write_text(LEAKY, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    out = result.stdout + result.stderr
    assert "left a top-level window open: QWidget" in out and "forgotten" in out
    assert "a QThread is still running" in out
    assert "PASSED test_leaky.py::test_cleans_up" in out
    assert "2 errors" in out or "2 error" in out


def _crashed_copy(folder: Path, original: Path | None) -> Path:
    """What a session that died leaves behind: the project copy and its note, from a dead process."""
    project = default_project()
    project.network.set_param("conv1", "filters", 13)
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "recovery-999999-1.cnnproj"
    copy.write_text(dumps(project), encoding="utf-8")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    meta = {
        "pid": int(dead),
        "name": "LeNet-5",
        "saved_at": 1.0,
        "original": str(original) if original else None,
    }
    copy.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return copy


def test_after_a_crash_the_recovery_copy_is_offered_and_opened_as_unsaved(main_window, tmp_path, monkeypatch):
    original = tmp_path / "mine.cnnproj"
    copy = _crashed_copy(autosave.recovery_dir(), original)
    found = autosave.pending_recoveries()
    assert [r.file for r in found] == [copy]
    asked = []
    monkeypatch.setattr(dialogs, "ask_recover", lambda parent, recovery: asked.append(recovery.name) or True)
    app.offer_recovery(main_window, autosave.pending_recoveries)
    assert asked == ["LeNet-5"]
    assert main_window.document.network.node("conv1").params["filters"] == 13
    assert main_window.document.path == original
    assert main_window.isWindowModified()
    assert not copy.exists()  # offered once, then cleared


def test_declining_recovery_keeps_the_project_and_clears_the_copy(main_window, monkeypatch):
    copy = _crashed_copy(autosave.recovery_dir(), None)
    monkeypatch.setattr(dialogs, "ask_recover", lambda parent, recovery: False)
    app.offer_recovery(main_window, autosave.pending_recoveries)
    assert main_window.document.network.node("conv1").params["filters"] == 6
    assert not copy.exists()


def test_a_running_sessions_copy_is_not_offered(main_window):
    from cnnstudio.ui.editor.commands import SetParamCommand

    document = main_window.document
    document.push(SetParamCommand(document.network, "conv1", "filters", 7))
    assert main_window.autosaver.save_now()
    assert all(r.file != main_window.autosaver.file for r in autosave.pending_recoveries())
    assert load_project(main_window.autosaver.file).network.node("conv1").params["filters"] == 7
