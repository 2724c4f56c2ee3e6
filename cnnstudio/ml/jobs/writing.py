"""Writing an exported file whole and checked, or not at all (shared by the export job and the
window's diagram export, which draws on the GUI thread)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError
from cnnstudio.core.files import atomic_write_with, write_error

from .requests import ExportItem
from .results import ItemResult


def write_checked(item: ExportItem, write: Callable[[Path], Any], check: Callable[[Path], str]) -> ItemResult:
    """`write(tmp)` then `check(tmp)` (the check's words, or UserError) beside the destination, then
    moved into place; a failure leaves no partial file and keeps whatever was at `item.path` before."""
    path = item.path
    if path.is_dir():
        raise UserError(f"{path} is a folder; choose another name")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: no such folder; choose another folder")
    outcome: list[tuple[str, int]] = []

    def write_and_check(tmp: Path) -> None:
        write(tmp)
        outcome.append((check(tmp), tmp.stat().st_size))

    try:
        atomic_write_with(path, write_and_check, suffix=path.suffix)
    except OSError as exc:
        raise UserError(f"{write_error(exc, path)}; nothing was written") from None
    detail, size = outcome[0]
    return ItemResult(item.key, path, True, size, detail)
