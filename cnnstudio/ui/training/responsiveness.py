"""Keep the window first in line for the CPU while TensorFlow trains.

TensorFlow's worker threads fill every core; the GUI thread then waits its turn and
the window stutters. On Linux each thread has its own nice value, so lowering the
priority of every thread but the GUI thread (and, by inheritance, the threads they
start later) lets drawing and input go first, while training still gets all the CPU
the window does not use. Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

WORKER_NICE = 5  # a little below normal: enough for the window to win a core when it needs one


def favour_the_window() -> int:
    """Lower every other thread of this process to `WORKER_NICE`; how many were changed."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return 0
    gui = threading.main_thread().native_id
    changed = 0
    try:
        threads = [int(name) for name in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        return 0
    for tid in threads:
        if tid == gui:
            continue
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
                os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
                changed += 1
        except OSError:  # the thread has ended, or the system says no: nothing lost
            continue
    return changed
