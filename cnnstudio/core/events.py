"""A small synchronous event emitter: models emit, views subscribe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Emitter:
    """Calls every connected callback with the emitted keyword arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, **kwargs: Any) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(**kwargs)

    @contextmanager
    def blocker(self) -> Iterator[None]:
        """Suppress emission inside the block (a view applying a model change)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1
