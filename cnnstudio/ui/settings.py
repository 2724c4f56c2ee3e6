"""What the program remembers between sessions (QSettings): recent files, appearance, layout."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def settings() -> QSettings:
    """The user's settings for CNN Studio (organisation and application name set by app.py)."""
    return QSettings()


def recent_files() -> list[str]:
    value = settings().value("recentFiles", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or [] if v]


def add_recent(path: str | Path) -> None:
    path = str(Path(path).resolve())
    files = [path] + [p for p in recent_files() if p != path]
    settings().setValue("recentFiles", files[:MAX_RECENT])


def remove_recent(path: str | Path) -> None:
    settings().setValue("recentFiles", [p for p in recent_files() if p != str(path)])


def clear_recent() -> None:
    settings().setValue("recentFiles", [])


def appearance() -> str:
    return str(settings().value("appearance", "system"))


def set_appearance(value: str) -> None:
    settings().setValue("appearance", value)


def flag(name: str, default: bool) -> bool:
    value = settings().value(name, default)
    return value in (True, "true", "1", 1) if not isinstance(value, bool) else value


def set_flag(name: str, value: bool) -> None:
    settings().setValue(name, bool(value))
