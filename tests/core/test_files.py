"""The one writer: atomic files and folders, leftovers of interrupted saves cleaned, regular files read."""

from __future__ import annotations

import os

import pytest

from cnnstudio.core.errors import UserError
from cnnstudio.core.files import (
    atomic_write_text,
    atomic_write_with,
    read_user_file,
    remove_stale_temporaries,
)


def test_stale_temporaries_of_a_killed_save_are_removed_and_nothing_else(tmp_path):
    path = tmp_path / "p.cnnproj"
    atomic_write_text(path, "saved")
    stale = [tmp_path / ".p.cnnproj.abcd1234.tmp", tmp_path / ".p.cnnproj.zz_9yy8x.tmp.keras"]
    for leftover in stale:
        leftover.write_text("half")
    folder = tmp_path / ".p.cnnproj.q1w2e3r4.tmp"
    folder.mkdir()
    (folder / "saved_model.pb").write_text("half")
    kept = [tmp_path / ".p.cnnproj.notes.txt", tmp_path / "p.cnnproj.bak", tmp_path / ".p.cnnproj.tmp",
            tmp_path / ".other.cnnproj.abcd1234.tmp"]
    for other in kept:
        other.write_text("the user's")
    removed = remove_stale_temporaries(path)
    assert sorted(removed) == sorted([*stale, folder])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.cnnproj", *(k.name for k in kept)])


def test_a_folder_is_written_beside_and_swapped_in_whole(tmp_path):
    out = tmp_path / "export"

    def write(version):
        def fill(tmp):
            assert tmp.is_dir() and tmp.parent == tmp_path and tmp.name.startswith(".export.")
            (tmp / "data.txt").write_text(version)
        return fill

    atomic_write_with(out, write("one"), folder=True)
    atomic_write_with(out, write("two"), folder=True)
    assert (out / "data.txt").read_text() == "two"

    def broken(tmp):
        (tmp / "data.txt").write_text("three")
        raise RuntimeError("the converter failed")

    with pytest.raises(RuntimeError):
        atomic_write_with(out, broken, folder=True)
    assert (out / "data.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        read_user_file(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        read_user_file("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(UserError, match="more than"):
        read_user_file(big, max_bytes=1000)


# -- writing behind: a training loop hands its files to one background thread ----------------------
def test_written_behind_in_order_and_only_the_newest_version_of_a_waiting_file(tmp_path):
    import threading

    from cnnstudio.core.files import WriteBehind, atomic_write_bytes

    gate, order = threading.Event(), []
    writer = WriteBehind()

    def write(name: str, text: str, wait: bool = False):
        def job():
            if wait:
                gate.wait()
            atomic_write_bytes(tmp_path / name, text.encode())
            order.append((name, text))
        return job

    writer.submit(tmp_path / "first", write("first", "1", wait=True))  # holds the thread until the gate opens
    writer.submit(tmp_path / "run.json", write("run.json", "epoch 1"))
    writer.submit(tmp_path / "metrics", write("metrics", "a"))
    writer.submit(tmp_path / "run.json", write("run.json", "epoch 2"))  # replaces epoch 1, which had not started
    gate.set()
    writer.wait()
    assert order == [("first", "1"), ("metrics", "a"), ("run.json", "epoch 2")]
    assert (tmp_path / "run.json").read_text() == "epoch 2"
    writer.finish()


def test_a_failed_write_behind_is_raised_on_the_callers_thread_and_later_writes_are_dropped(tmp_path):
    import threading

    from cnnstudio.core.files import WriteBehind

    gate, written = threading.Event(), []
    writer = WriteBehind()

    def fail():
        gate.wait()
        raise OSError(28, "No space left on device")

    writer.submit("a", fail)
    writer.submit("b", lambda: written.append("b"))
    gate.set()
    with pytest.raises(OSError, match="No space"):
        writer.wait()
    assert written == []  # nothing newer than the failure reaches the disk
    writer.submit("c", lambda: written.append("c"))  # the caller decides what to do next
    writer.finish()
    assert written == ["c"]
