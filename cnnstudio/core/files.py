"""The one way CNN Studio writes and reads users' files: atomic, durable, size-checked.

Every file the program writes goes through ``atomic_write_*``: the data goes to a
hidden temporary file beside the destination, is flushed and fsync'ed, gets the
permissions a plain new file would have, and is renamed over the destination; the
folder is fsync'ed too. A crash or a full disk leaves either the old file or the
new one, never half of one, and no temporary file behind.

    atomic_write_text(path, text)
    atomic_write_bytes(path, data)
    atomic_write_with(path, lambda tmp: model.save(tmp))   # for writers that need a path

Reading a user's file goes through ``read_user_file``: only regular files (not a
FIFO, a device such as /dev/zero or a folder), and never more than a limit.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import UserError

TEMP_SUFFIX = ".tmp"
MAX_PROJECT_BYTES = 64 * 1024 * 1024  # a 20,000-layer project is about 3 MB


def new_file_mode(path: Path) -> int:
    """The permissions a plain new file gets (the old file's, if it exists): temporary files start
    owner-only, which a saved file must not inherit."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _temporary_beside(path: Path, suffix: str = TEMP_SUFFIX) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    os.close(fd)
    return Path(tmp)


def _fsync_path(path: Path) -> None:
    if path.is_dir():
        for child in path.rglob("*"):
            if child.is_file():
                _fsync_file(child)
        return
    _fsync_file(path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        dir_fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def remove_quietly(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], Any], *,
                      suffix: str | None = None, durable: bool = True, folder: bool = False) -> None:
    """Call ``write(tmp)`` for a temporary path beside ``path``, then rename it over ``path``.

    ``suffix`` is the temporary file's ending (e.g. ``.keras`` for writers that check it).
    ``folder``: ``write`` fills an empty temporary folder (a SavedModel, say); a folder already at
    ``path`` is swapped for it and then removed, so the caller must have made sure it may go.
    An exception from ``write`` or a failed rename leaves ``path`` as it was and removes
    the temporary file.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=suffix if suffix is not None else TEMP_SUFFIX,
                                    dir=parent))
    else:
        tmp = _temporary_beside(path, suffix if suffix is not None else TEMP_SUFFIX)
    try:
        write(tmp)
        if hasattr(os, "chmod") and tmp.is_file():
            os.chmod(tmp, new_file_mode(path))
        elif hasattr(os, "chmod") and tmp.is_dir():
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it owner-only
        if durable:
            _fsync_path(tmp)
        if folder and path.is_dir() and not path.is_symlink():
            _swap_folder(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    if durable:
        fsync_folder(parent)


def _swap_folder(new: Path, path: Path) -> None:
    """Put folder ``new`` where folder ``path`` is: the old one is renamed aside, then removed."""
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old" + TEMP_SUFFIX, dir=path.parent))
    os.rmdir(aside)
    os.replace(path, aside)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(aside, path)
        raise
    remove_quietly(aside)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if hasattr(os, "fchmod"):  # not on Windows, where files have no such modes
                os.fchmod(handle.fileno(), new_file_mode(path))
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(Path(tmp))
        raise
    if durable:
        fsync_folder(folder)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the hidden temporary files (and export folders) an interrupted save of ``path`` left
    beside it: ``.NAME.XXXXXXXX.tmp`` (or ``.tmp.keras`` ...), the names only these writers create;
    returns what was removed."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    ours = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}(\.old)?{re.escape(TEMP_SUFFIX)}(\.[A-Za-z0-9]+)?")
    removed = []
    try:
        candidates = [c for c in folder.glob(f".{_glob_escape(path.name)}.*") if ours.fullmatch(c.name)]
    except OSError:
        return removed
    for candidate in candidates:
        if candidate.is_symlink():
            continue
        try:
            if candidate.is_dir():
                shutil.rmtree(candidate)
            else:
                candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def write_error(exc: OSError, path: Path, what: str = "the file") -> UserError:
    """A plain message for a failed write: the disk is full, no permission, a read-only disk."""
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
        try:
            free = shutil.disk_usage(path.parent if str(path.parent) else ".").free
            reason += f" ({free / 2**20:,.1f} MiB free)"
        except OSError:
            pass
    elif exc.errno in (errno.EACCES, errno.EPERM):
        reason = "there is no permission to write there"
    elif exc.errno == errno.EROFS:
        reason = "the disk is read-only"
    else:
        reason = exc.strerror or str(exc)
    return UserError(f"could not write {what} to {path}: {reason}")


def read_user_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_PROJECT_BYTES,
                   what: str = "file") -> bytes:
    """The bytes of a regular file, refusing devices, FIFOs, folders and anything over ``max_bytes``."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    import stat

    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: is not a regular file (a device, a pipe or a socket), so it is not a {what}")
    if info.st_size > max_bytes:
        raise UserError(f"{path}: is {info.st_size / 2**20:,.1f} MiB, more than the {max_bytes / 2**20:,.0f} MiB "
                        f"a {what} may have")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise UserError(f"{path}: is more than the {max_bytes / 2**20:,.0f} MiB a {what} may have")
    return data


class WriteBehind:
    """Runs file writes on one background thread, in the order they were given, so that a
    training loop does not wait for the disk (each write still goes through this module's
    atomic, durable writers).

    Writes are keyed by the file they replace: a newer version of a file whose write has not
    started yet takes the older one's turn away (only the newest is written, after the others).
    The first exception a write raises is kept and raised again, on the caller's thread, by the
    next `submit`, `check` or `finish`; the writes after it are dropped, so what is on disk is
    whole and no newer than the failure. A process killed meanwhile loses only the writes still
    waiting: the files written before stay whole.
    """

    def __init__(self, name: str = "file writer") -> None:
        import threading
        from collections import OrderedDict

        self._jobs: OrderedDict[str, Callable[[], None]] = OrderedDict()
        self._lock = threading.Condition()
        self._error: BaseException | None = None
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, key: str | os.PathLike[str], job: Callable[[], None]) -> None:
        """Run `job` (a write of the file `key`) after the writes already given."""
        with self._lock:
            self._raise_error()
            if self._closed:
                raise RuntimeError("this writer has finished")
            self._jobs.pop(str(key), None)
            self._jobs[str(key)] = job
            self._lock.notify_all()

    def check(self) -> None:
        """Raise the failure of an earlier write, if one failed."""
        with self._lock:
            self._raise_error()

    def wait(self) -> None:
        """Block until every write given so far is done; raise the first failure."""
        with self._lock:
            while (self._jobs or self._busy) and self._error is None:
                self._lock.wait()
            self._raise_error()

    def finish(self, *, raise_error: bool = True) -> None:
        """Write what is waiting, stop the thread, and (unless told not to) raise the first failure."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._thread.join()
        if raise_error:
            with self._lock:
                self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._jobs.clear()
            raise error

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._jobs and not self._closed:
                    self._lock.wait()
                if not self._jobs:  # finished, and nothing waits
                    return
                _, job = self._jobs.popitem(last=False)
                self._busy = True
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                with self._lock:
                    if self._error is None:
                        self._error = exc
                    self._jobs.clear()
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()
