"""Pausing Python's cycle collector while a large network is read or analysed.

A 20,000-layer project allocates hundreds of thousands of small dicts, lists and
tuples; each burst of allocations makes the collector walk every object alive,
which took about a third of the time of `cnnstudio summary`. Nothing built here
forms reference cycles that need it (plain reference counting frees the rest),
so it is paused for the duration and restored after.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cycle collector off (as it was before afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
