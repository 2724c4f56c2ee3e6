"""Recovery copies: the unsaved project is written aside every little while, and offered
back after a crash. A clean exit (or a save) removes the copy."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from cnnstudio.core.errors import ProjectError
from cnnstudio.core.files import remove_stale_temporaries
from cnnstudio.core.project import Project, atomic_write_text, dumps, load_project

from .document import ProjectDocument

INTERVAL_MS = 30_000


def recovery_dir() -> Path:
    override = os.environ.get("CNNSTUDIO_RECOVERY_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".cnnstudio") / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A recovery copy left behind by a session that did not end cleanly."""

    file: Path
    name: str
    original: Path | None
    saved_at: float

    def load(self) -> Project:
        project = load_project(self.file)
        project.path = self.original
        return project

    def discard(self) -> None:
        for path in (self.file, self.file.with_suffix(".json")):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def pending_recoveries() -> list[Recovery]:
    """Copies whose program is no longer running, newest first."""
    found = []
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    _remove_stale_temporaries(folder)
    for meta_path in folder.glob("*.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            file = meta_path.with_suffix(".cnnproj")
            if _alive(int(meta.get("pid", 0))) or not file.exists():
                continue
            original = Path(meta["original"]) if meta.get("original") else None
            found.append(
                Recovery(file, str(meta.get("name", file.stem)), original, float(meta.get("saved_at", 0)))
            )
        except (ValueError, OSError, TypeError, KeyError):
            continue
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _remove_stale_temporaries(folder: Path) -> None:
    """Hidden temporary files of recovery copies whose program was killed while writing them."""
    for hidden in folder.glob(".recovery-*"):
        name = hidden.name[1:].split(".cnnproj")[0].split(".json")[0]
        try:
            pid = int(name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            for target in (folder / f"{name}.cnnproj", folder / f"{name}.json"):
                remove_stale_temporaries(target)


class Autosaver(QObject):
    """Writes the document aside while it has unsaved changes."""

    def __init__(
        self, document: ProjectDocument, parent: QObject | None = None, interval_ms: int = INTERVAL_MS
    ) -> None:
        super().__init__(parent)
        self.document = document
        stamp = f"{os.getpid()}-{int(time.time() * 1000) % 10_000_000}"
        self.file = recovery_dir() / f"recovery-{stamp}.cnnproj"
        self._saved_generation = -1
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.modifiedChanged.connect(self._on_modified)

    def save_now(self) -> bool:
        """Write the recovery copy if there is something new to keep; True if written."""
        document = self.document
        if not document.is_modified or document.generation == self._saved_generation:
            return False
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.file, dumps(document.project))
            meta = {
                "pid": os.getpid(),
                "name": document.name,
                "saved_at": time.time(),
                "original": str(document.path) if document.path else None,
            }
            atomic_write_text(self.file.with_suffix(".json"), json.dumps(meta))
        except (OSError, ProjectError):
            return False
        self._saved_generation = document.generation
        return True

    def discard(self) -> None:
        for path in (self.file, self.file.with_suffix(".json")):
            path.unlink(missing_ok=True)
        self._saved_generation = -1

    def stop(self) -> None:
        self.timer.stop()
        self.discard()

    def _on_modified(self, modified: bool) -> None:
        if not modified:
            self.discard()
