"""Write a file beside its destination, check it, and only then move it into place."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnstudio.core.errors import UserError

from .formats import ExportItem, ItemResult


def write_checked(item: ExportItem, write: Callable[[Path], Any], check: Callable[[Path], str]) -> ItemResult:
    """`write(tmp)` then `check(tmp)` (the check's words, or UserError); a failure leaves no partial file
    and keeps whatever was at `item.path` before."""
    path = item.path
    if path.is_dir():
        raise UserError(f"{path} is a folder; choose another name")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: no such folder; choose another folder")
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}")
    try:
        write(tmp)
        detail = check(tmp)
        size = tmp.stat().st_size
        os.chmod(tmp, 0o644)  # a file to share, not a private temporary one
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"could not write {path}: {exc.strerror or exc}; nothing was written") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return ItemResult(item.key, path, True, size, detail)
