"""Watching the one runs folder a list shows (the runs history, the experiments list)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher


def watch_only(watcher: QFileSystemWatcher, folder: Path) -> None:
    """Make `watcher` follow `folder` alone (once it exists), dropping a folder it followed before."""
    watched = watcher.directories()
    if watched and watched != [str(folder)]:
        watcher.removePaths(watched)
    if folder.is_dir() and str(folder) not in watcher.directories():
        watcher.addPath(str(folder))
