"""What several benchmark scripts measure the same way (imported by them; not a benchmark itself)."""

from __future__ import annotations

from pathlib import Path


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
