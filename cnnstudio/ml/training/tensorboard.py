"""TensorBoard event files written without TensorFlow (so runs on JAX or PyTorch have them too).

An event file is a TFRecord file of `Event` protocol buffers; each epoch adds scalar
summaries (`simple_value`), which TensorBoard's Scalars tab shows. The whole file is
rewritten through the one atomic writer after every epoch (a few hundred bytes per
epoch), so it is never half-written and a resumed run keeps one file per folder.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

from .checkpoints import write_bytes


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord files use."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", _masked(crc32c(length))) + data
            + struct.pack("<I", _masked(crc32c(data))))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, kind: int) -> bytes:
    return _varint((number << 3) | kind)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def event(wall_time: float, step: int = 0, *, file_version: str | None = None,
          scalars: dict[str, float] | None = None) -> bytes:
    """An `Event` message: a file version header, or scalar summaries at a step."""
    out = _field(1, 1) + struct.pack("<d", wall_time) + _field(2, 0) + _varint(step)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if scalars:
        values = b"".join(_bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5) + struct.pack("<f", value))
                          for tag, value in scalars.items())
        out += _bytes_field(5, values)
    return out


class EventFile:
    """The event file of one TensorBoard folder (logs/train, logs/validation)."""

    def __init__(self, folder: Path, write=None) -> None:
        self.folder = Path(folder)
        self._put = write
        existing = sorted(self.folder.glob("events.out.tfevents.*")) if self.folder.is_dir() else []
        self.path = existing[0] if existing else \
            self.folder / f"events.out.tfevents.{int(time.time())}.{socket.gethostname() or 'cnnstudio'}"
        self._header = record(event(time.time(), file_version="brain.Event:2"))

    def write(self, epochs: list[tuple[int, dict[str, float]]]) -> None:
        """Rewrite the file with the scalars of every epoch so far: [(epoch, {tag: value})]."""
        body = b"".join(record(event(time.time(), step, scalars=values)) for step, values in epochs if values)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        data = self._header + body
        if self._put is None:
            write_bytes(self.path, data, "the TensorBoard logs")
        else:
            self._put(self.path, lambda: data, "the TensorBoard logs")
