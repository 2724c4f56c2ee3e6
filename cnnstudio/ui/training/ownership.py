"""pyqtgraph makes its context menus without a parent; give them one so they go when their plot goes.

A parentless menu outlives the window that showed it (and the tests count it as a
leaked window), so the plots built inside `menus_owned_by(widget)` hand theirs to `widget`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtWidgets import QApplication, QMenu, QWidget


@contextmanager
def menus_owned_by(owner: QWidget) -> Iterator[None]:
    """Every parentless menu created inside the block becomes a child of `owner` (still a popup)."""
    before = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMenu)}
    try:
        yield
    finally:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMenu) and widget.parent() is None and id(widget) not in before:
                widget.setParent(owner, widget.windowFlags())
