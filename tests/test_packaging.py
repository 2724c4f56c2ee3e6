"""The packaged application builds and starts (slow: run by `make test-all`, not by CI)."""

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_packaged_app_builds_launches_on_the_default_project_and_exits_cleanly():
    subprocess.run(["make", "package"], cwd=ROOT, check=True, timeout=3600)
    launcher = ROOT / "dist" / "cnnstudio" / "cnnstudio"
    assert launcher.exists()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNSTUDIO_QUIT_AFTER_MS="1500",
               CNNSTUDIO_LAUNCHED_AT=str(time.time()))
    done = subprocess.run([str(launcher)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "LeNet-5" in done.stderr and "CNN Studio" in done.stderr
