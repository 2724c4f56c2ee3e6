"""The start-up check names the system libraries Qt lacks, and a missing display, in one line."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

from cnnstudio.ui.system_check import (
    QT_LIBRARIES,
    XCB_LIBRARIES,
    planned_platforms,
    setup_problem,
    window_problem,
)

QT_DIR = Path(PySide6.__file__).parent / "Qt"
# Always there on any Linux system (libc6, libstdc++6, libgcc-s1) or shipped inside the wheel.
BASE_SYSTEM = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libstdc++.so.6",
               "libgcc_s.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED entries of an ELF64 little-endian shared library (what ``ldd`` starts from)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{path} is not a 64-bit little-endian ELF file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strings_offset = sections[dynamic[6]][4]
    names = []
    for entry in range(dynamic[5] // 16):
        tag, value = struct.unpack_from("<qQ", data, dynamic[4] + entry * 16)
        if tag == 1:  # DT_NEEDED
            end = data.index(b"\0", strings_offset + value)
            names.append(data[strings_offset + value:end].decode())
    return names


def _unbundled(paths: list[Path]) -> set[str]:
    bundled = {p.name for p in (QT_DIR / "lib").iterdir()}
    return {name for path in paths for name in needed_libraries(path)} - bundled - BASE_SYSTEM


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the wheels for macOS and Windows bring every library")
def test_the_lists_are_what_the_installed_qt_libraries_need():
    core = [QT_DIR / "lib" / f"libQt6{name}.so.6" for name in ("Core", "Gui", "DBus", "Widgets")]
    xcb = [QT_DIR / "plugins" / "platforms" / "libqxcb.so", QT_DIR / "lib" / "libQt6XcbQpa.so.6"]
    assert _unbundled(core) == {soname for soname, _ in QT_LIBRARIES}
    assert _unbundled(xcb) - _unbundled(core) == {soname for soname, _ in XCB_LIBRARIES}


def test_missing_xcb_libraries_are_named_with_the_line_that_installs_them():
    hidden = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    problem = window_problem({"DISPLAY": ":0"}, "linux", can_load=lambda soname: soname not in hidden,
                             reachable=lambda _d: True)
    assert problem is not None and "\n" not in problem
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in problem
    assert problem.endswith("apt-get install libxcb-icccm4 libxcb-keysyms1")


def test_headless_needs_no_xcb_library_and_no_display():
    no_xcb = {soname for soname, _ in XCB_LIBRARIES}
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", can_load=lambda s: s not in no_xcb) is None
    problem = window_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", can_load=lambda s: s != "libGL.so.1")
    assert problem is not None and problem.endswith("apt-get install libgl1")


def test_no_display_and_a_display_that_does_not_answer_say_what_to_do():
    def everything(_soname):
        return True

    no_display = window_problem({}, "linux", can_load=everything, reachable=lambda _d: True)
    assert no_display is not None and "no display (DISPLAY is not set)" in no_display and "xvfb-run" in no_display
    silent = window_problem({"DISPLAY": ":77"}, "linux", can_load=everything, reachable=lambda _d: False)
    assert silent is not None and "the display ':77' (DISPLAY) does not answer" in silent
    assert window_problem({"DISPLAY": ":0"}, "linux", can_load=everything, reachable=lambda _d: True) is None
    assert window_problem({}, "darwin", can_load=lambda _s: False) is None


def test_platforms_are_chosen_as_qt_chooses_them():
    assert planned_platforms({}) == ["xcb"]
    assert planned_platforms({"QT_QPA_PLATFORM": "offscreen"}) == ["offscreen"]
    assert planned_platforms({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]
    assert planned_platforms({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]


def test_make_checks_run_with_the_system_python_before_anything_is_installed():
    script = Path(__file__).parents[2] / "cnnstudio" / "ui" / "system_check.py"
    done = subprocess.run([sys.executable, "-I", str(script), "offscreen"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert setup_problem("venv") is None


def _launch(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnstudio"], capture_output=True, text=True, env=env,
                          timeout=120)


def test_the_program_explains_a_missing_display_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = _launch(env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: CNN Studio cannot open its window: ")


def test_a_platform_plugin_qt_cannot_start_ends_in_one_plain_line_not_an_abort():
    done = _launch(dict(os.environ, QT_QPA_PLATFORM="no-such-platform"))
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: CNN Studio cannot open its window: Qt could not start its display plugin")
    assert "no-such-platform" in last
