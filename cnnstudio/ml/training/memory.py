"""Will the model fit in memory? Estimated before anything is built, from the analysis alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ...core.analysis import Analysis
from ...core.errors import UserError


def available_memory_bytes() -> int | None:
    """Memory this process can still use (free RAM, within a container's limit); None if unknown."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    if not found and sys.platform == "win32":
        found.extend(_windows_available())
    limit = _cgroup_room()
    if limit is not None:
        found.append(limit)
    return min(found) if found else None


def _cgroup_room() -> int | None:
    """Room left under a cgroup v2 (or v1) memory limit, when one is set."""
    pairs = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
             ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"))
    for limit_file, usage_file in pairs:
        try:
            text = Path(limit_file).read_text().strip()
            if text == "max":
                return None
            limit, usage = int(text), int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 1 << 60:  # "no limit" in cgroup v1
            return None
        return max(0, limit - usage)
    return None


def _windows_available() -> list[int]:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return [int(status.ullAvailPhys)]
    return []


def gigabytes(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_memory(analysis: Analysis, batch_size: int, available: int | None = None) -> int:
    """The estimated training memory in bytes; UserError when it exceeds what is free."""
    needed = analysis.estimated_memory_bytes(batch_size)
    free = available_memory_bytes() if available is None else available
    if free is not None and needed > free:
        raise UserError(
            f"this network is too large to train here: it needs about {gigabytes(needed)} of memory "
            f"({analysis.total_params:,} parameters, {analysis.activation_values():,} activation values per "
            f"image, batch size {batch_size}) but only {gigabytes(free)} is free; use a smaller batch size, "
            "fewer units or filters, or smaller images"
        )
    return needed
