"""Running a function over many images in batches, with progress and cancelling."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from cnnstudio.core.errors import UserError

T = TypeVar("T")
Progress = Callable[[int, int], "bool | None"]


class Cancelled(UserError):
    """The person stopped a long inspection job (its progress callback returned False)."""


def check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"batch size {batch_size!r} is not valid; use a whole number of 1 or more, e.g. 64")
    return batch_size


def in_batches(
    x: np.ndarray, batch_size: int, run: Callable[[np.ndarray], T], progress: Progress | None = None
) -> list[T]:
    """`run` on consecutive slices of `x`; `progress(done, total)` after each, False cancels."""
    check_batch_size(batch_size)
    results: list[T] = []
    total = len(x)
    for start in range(0, total, batch_size):
        results.append(run(x[start:start + batch_size]))
        if progress is not None and progress(min(start + batch_size, total), total) is False:
            raise Cancelled("stopped before all images were done")
    return results
