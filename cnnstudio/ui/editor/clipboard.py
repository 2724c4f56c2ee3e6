"""Copy and paste of layers and blocks: a fragment of the project format (core/fragments.py) on the clipboard."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QMimeData

from cnnstudio.core import fragments

LAYERS_MIME = "application/x-cnnstudio-layers"


def to_mime(data: dict[str, Any]) -> QMimeData:
    mime = QMimeData()
    text = json.dumps(data, indent=1)
    mime.setData(LAYERS_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def hand_over_clipboard() -> None:
    """Before Qt shuts down, leave copied layers on the clipboard as plain text owned by Qt.

    Mime data made in Python and still held by the clipboard would be destroyed after the
    interpreter has stopped, which crashes the program on exit; plain JSON text pastes the same.
    """
    from PySide6.QtGui import QGuiApplication

    board = QGuiApplication.clipboard()
    mime = board.mimeData()
    if mime is not None and mime.hasFormat(LAYERS_MIME):
        board.setText(mime.text())


def from_mime(mime: QMimeData | None) -> dict[str, Any] | None:
    """The fragment on the clipboard, also accepted as plain JSON text; None if there is none."""
    if mime is None:
        return None
    if mime.hasFormat(LAYERS_MIME):
        raw = bytes(mime.data(LAYERS_MIME)).decode("utf-8", "replace")
    elif mime.hasText():
        raw = mime.text()
    else:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return fragments.checked(data)
