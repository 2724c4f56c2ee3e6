"""A small synchronous event emitter: models emit, views subscribe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Emitter:
    """Calls every connected callback with the emitted keyword arguments.

    A copy sent elsewhere (pickled for another process, say) has no subscribers: they
    belong to the views of this process.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0
        self._muted: list[Callable[..., Any]] = []  # callbacks skipped for now (see `blocker`)

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
            if callback not in self._muted:
                callback(**kwargs)

    @contextmanager
    def blocker(self, callback: Callable[..., Any] | None = None) -> Iterator[None]:
        """Suppress emission inside the block: to every subscriber, or only to ``callback`` (a view
        writing its own edit into the model need not hear about it again)."""
        if callback is None:
            self._blocked += 1
        else:
            self._muted.append(callback)
        try:
            yield
        finally:
            if callback is None:
                self._blocked -= 1
            else:
                self._muted.remove(callback)

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()
