"""What several benchmark scripts measure the same way (imported by them; not a benchmark itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    """Resident memory of this process in MB (psutil where installed, else /proc/self/status; nan elsewhere)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2 ** 20
    except ImportError:
        pass
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int | None = None) -> float:
    """Processor time (user + system) of process `pid` so far, in seconds (None: this process). Another
    process's is read from /proc (Linux); nan where it cannot be."""
    if pid is None or pid == os.getpid():
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def older_program(revision: str, folder: Path) -> Path:
    """The program as it was at a git revision, unpacked into ``folder`` (to be measured side by side)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def child_figures(arguments: list[str], **options) -> dict | None:
    """Run this Python with `arguments` in a fresh process (`options` as subprocess.run takes them); the
    JSON object it printed last, or None when it failed."""
    child = subprocess.run([sys.executable, *arguments], capture_output=True, text=True, **options)
    lines = child.stdout.strip().splitlines()
    if child.returncode or not lines:
        return None
    return json.loads(lines[-1])
