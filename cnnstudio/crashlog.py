"""Where CNN Studio writes the details of an internal fault (shared by the CLI and the GUI)."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path
from types import TracebackType

from .core.files import atomic_write_text


def log_dir() -> Path:
    """The user's data folder for CNN Studio's logs (``CNNSTUDIO_LOG_DIR`` overrides it)."""
    override = os.environ.get("CNNSTUDIO_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_path

    return user_data_path("cnnstudio", appauthor=False) / "logs"


def write_crash_log(
    exc_type: type[BaseException] | None = None,
    exc: BaseException | None = None,
    tb: TracebackType | None = None,
) -> Path:
    """Write the traceback (the current exception by default) and return the file's path."""
    if exc is None:
        exc_type, exc, tb = sys.exc_info()
    details = "".join(traceback.format_exception(exc_type, exc, tb)) if exc is not None else "no exception\n"
    header = (
        f"CNN Studio crash report {datetime.datetime.now().isoformat(timespec='seconds')}\n"
        f"command: {' '.join(sys.argv)}\n"
        f"python {platform.python_version()} on {platform.platform()}\n\n"
    )
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"crash-{stamp}.log"
    atomic_write_text(path, header + details, durable=False)
    return path


def internal_error_message(exc: BaseException) -> str:
    """For a fault that is a bug, not the user's input: log the details, and say briefly where."""
    try:
        log = write_crash_log(type(exc), exc, exc.__traceback__)
    except Exception:  # logging must never make things worse
        log = None
    where = f"; details were written to {log}" if log else ""
    return f"something went wrong ({type(exc).__name__}: {exc}){where}"
