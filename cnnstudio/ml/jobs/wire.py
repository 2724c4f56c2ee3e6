"""Whole messages over a socket between the window and its ML worker, large arrays without extra copies.

Each message is pickled with protocol 5; NumPy arrays (and other buffers) of `OUT_OF_BAND`
bytes or more are left out of the pickle and sent straight from their own memory, then
received straight into fresh, writable memory (`recv_into`). So a 100 MB stack of feature
maps is copied once by the kernel and never by Python. A frame is:

    count (4 bytes), count sizes (8 bytes each), the pickle, then each out-of-band buffer

No TensorFlow and no Qt: both sides import it.
"""

from __future__ import annotations

import io
import pickle
import socket
import struct
import threading
from typing import Any

OUT_OF_BAND = 64 * 1024  # buffers from this size travel outside the pickle
_COUNT = struct.Struct("!I")


class Channel:
    """One end of the link: `send` whole messages (from any thread), `receive` them (from one thread)."""

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self._sending = threading.Lock()

    def send(self, message: Any, refuse: frozenset[str] = frozenset()) -> int:
        """Send one message; the bytes it took. OSError when the other end is gone; TypeError when
        it holds an object of a package in `refuse` (unpickling it would import that package there)."""
        buffers: list[memoryview] = []

        def out_of_band(buffer: pickle.PickleBuffer) -> bool:
            raw = buffer.raw()
            if raw.nbytes < OUT_OF_BAND:
                return True  # small: inside the pickle
            buffers.append(raw)
            return False

        stream = io.BytesIO()
        _Pickler(stream, refuse, out_of_band).dump(message)
        data = stream.getbuffer()
        sizes = [len(data), *(b.nbytes for b in buffers)]
        head = _COUNT.pack(len(sizes)) + struct.pack(f"!{len(sizes)}Q", *sizes)
        with self._sending:
            if len(data) < OUT_OF_BAND:
                self.socket.sendall(head + data)  # one write for the usual small message
            else:
                self.socket.sendall(head)
                self.socket.sendall(data)
            for buffer in buffers:
                self.socket.sendall(buffer)
        return sum(sizes) + len(head)

    def receive(self) -> Any:
        """The next message; EOFError when the other end has closed (or died)."""
        (count,) = _COUNT.unpack(self._exactly(_COUNT.size))
        sizes = struct.unpack(f"!{count}Q", self._exactly(8 * count))
        data = self._exactly(sizes[0])
        buffers = [self._exactly(size) for size in sizes[1:]]
        return pickle.loads(data, buffers=buffers)

    def _exactly(self, size: int) -> bytearray:
        """`size` bytes read straight into a new, writable buffer."""
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            try:
                n = self.socket.recv_into(view[got:], min(size - got, 1 << 24))
            except (ConnectionResetError, ConnectionAbortedError) as exc:
                raise EOFError(str(exc)) from None
            if n == 0:
                raise EOFError("the other end closed the connection")
            got += n
        return buffer

    def close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()


class _Pickler(pickle.Pickler):
    """Protocol 5, out-of-band buffers, and a refusal of objects from the packages in `refuse`."""

    def __init__(self, stream: io.BytesIO, refuse: frozenset[str], buffer_callback) -> None:
        super().__init__(stream, protocol=5, buffer_callback=buffer_callback)
        self.refuse = refuse

    def reducer_override(self, obj: Any) -> Any:
        if self.refuse:
            named = obj if isinstance(obj, type) or callable(obj) else type(obj)
            package = (getattr(named, "__module__", None) or "").partition(".")[0]
            if package in self.refuse:
                raise TypeError(f"a {getattr(named, '__qualname__', named)!s} object of {package} cannot be "
                                "sent to the window; send NumPy arrays and plain values")
        return NotImplemented


def channel_pair() -> tuple[Channel, Channel]:
    """Two connected ends (the window's and the worker's)."""
    a, b = socket.socketpair()
    return Channel(a), Channel(b)
