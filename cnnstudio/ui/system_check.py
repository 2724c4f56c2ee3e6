"""Before Qt starts: are the system libraries and the display it needs there?

Qt aborts with a misleading message when a library of its X11 plugin is missing
(it names ``libxcb-cursor0`` whatever is missing) or when there is no display. This
module finds out first, with ``ctypes``, and says in one sentence what to install.
It uses the standard library only, so ``make`` can run it with the system Python
before anything is installed: ``python3 -I cnnstudio/ui/system_check.py window``.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping

# What Qt's own libraries need on any platform, offscreen included (the DT_NEEDED entries of
# PySide6's libQt6Core, libQt6Gui, libQt6DBus and libQt6Widgets that the wheel does not bundle),
# and the Debian/Ubuntu package that provides each.
QT_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libGL.so.1", "libgl1"),
    ("libEGL.so.1", "libegl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libX11.so.6", "libx11-6"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libgthread-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libz.so.1", "zlib1g"),
    ("libzstd.so.1", "libzstd1"),
)

# What the X11 platform plugin needs besides (DT_NEEDED of plugins/platforms/libqxcb.so and
# lib/libQt6XcbQpa.so.6 in the PySide6 wheel; tests/ui/test_system_check.py reads them again).
XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
)

# Platforms that draw into memory or straight to a device: no X server, no xcb libraries.
NO_WINDOW_SYSTEM = {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
COMMANDS_WITHOUT_WINDOW = "the commands summary, train, export and import work without one"


def loads(soname: str) -> bool:
    """True when the dynamic loader finds and loads ``soname``."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(
    libraries: Iterable[tuple[str, str]], can_load: Callable[[str], bool] = loads
) -> list[tuple[str, str]]:
    """The (library, package) pairs the loader cannot find."""
    return [(soname, package) for soname, package in libraries if not can_load(soname)]


def install_hint(missing: list[tuple[str, str]]) -> str:
    """'the system libraries A, B ... are missing; install them with: sudo apt-get install a b'."""
    names = ", ".join(soname for soname, _ in missing)
    packages = " ".join(dict.fromkeys(package for _, package in missing))
    one = len(missing) == 1
    what = f"the system librar{'y' if one else 'ies'} {names} that Qt needs {'is' if one else 'are'} missing"
    command = f"sudo apt-get install {packages}"
    if shutil.which("apt-get") or not sys.platform.startswith("linux"):
        return f"{what}; install {'it' if one else 'them'} with: {command}"
    return f"{what}; install the packages of your distribution that provide {'it' if one else 'them'} (on Debian/Ubuntu: {command})"


def planned_platforms(environ: Mapping[str, str]) -> list[str]:
    """The Qt platform plugins Qt will try, in order (as QGuiApplication chooses them)."""
    explicit = environ.get("QT_QPA_PLATFORM", "")
    if explicit:
        return [part.split(":")[0].strip() for part in explicit.split(";") if part.strip()]
    if "wayland" in environ.get("XDG_SESSION_TYPE", "").split(";") and environ.get("WAYLAND_DISPLAY"):
        return ["wayland", "xcb"]
    return ["xcb"]


def display_reachable(name: str) -> bool:
    """True when an X server answers at ``name`` (``libxcb`` is asked, as Qt will)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(name.encode(), None)
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def window_problem(
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    can_load: Callable[[str], bool] = loads,
    reachable: Callable[[str], bool] = display_reachable,
) -> str | None:
    """Why Qt could not open a window here (what to install or set), or None when it can."""
    if not platform.startswith("linux"):
        return None  # the wheels for macOS and Windows bring everything Qt needs
    environ = os.environ if environ is None else environ
    platforms = planned_platforms(environ)
    missing = missing_libraries(QT_LIBRARIES, can_load)
    if platforms[0] in NO_WINDOW_SYSTEM:
        return f"Qt cannot start: {install_hint(missing)}" if missing else None
    if platforms[0] != "xcb":
        return f"Qt cannot start: {install_hint(missing)}" if missing else None  # Wayland: Qt falls back itself
    missing += missing_libraries(XCB_LIBRARIES, can_load)
    if missing:
        return f"CNN Studio cannot open its window: {install_hint(missing)}"
    display = environ.get("DISPLAY", "")
    if not display:
        return (
            "CNN Studio cannot open its window: there is no display (DISPLAY is not set); start it from a "
            f"desktop session, over 'ssh -X', or with 'xvfb-run cnnstudio' ({COMMANDS_WITHOUT_WINDOW})"
        )
    if not reachable(display):
        return (
            f"CNN Studio cannot open its window: the display '{display}' (DISPLAY) does not answer; check that "
            f"its X server is running and lets you in ({COMMANDS_WITHOUT_WINDOW})"
        )
    return None


def setup_problem(purpose: str, environ: Mapping[str, str] | None = None) -> str | None:
    """What this machine lacks to create the virtual environment (``venv``), open the window
    (``window``, ``make run``) or run the tests headless (``offscreen``, ``make test``), or None."""
    if sys.version_info < (3, 11):  # noqa: UP036 (run by the system Python, which may be older)
        found = sys.version.split()[0]
        return f"CNN Studio needs Python 3.11 or newer and this is {found}; install python3.11 (or newer) and run make PYTHON=python3.11"
    if purpose == "venv":
        if importlib.util.find_spec("ensurepip") is None:
            return "Python cannot make a virtual environment with pip here; install it with: sudo apt-get install python3-venv"
        return None
    environ = dict(os.environ if environ is None else environ)
    if purpose == "offscreen":
        environ["QT_QPA_PLATFORM"] = "offscreen"
    return window_problem(environ)


def main(argv: list[str]) -> int:
    """``system_check.py venv|window|offscreen``: exit 2 with one ``error:`` line when something is missing."""
    purpose = argv[0] if argv else "window"
    if purpose not in ("venv", "window", "offscreen"):
        print("usage: system_check.py venv|window|offscreen", file=sys.stderr)
        return 2
    problem = setup_problem(purpose)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
