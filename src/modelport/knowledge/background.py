"""Background work yields the CPU to requests: ingestion runs at a lower scheduling priority.

On a machine with few cores a file being parsed and embedded competes with the event loop
and the engine for the same cores; at equal priority a tenant's upload slows every other
tenant's chat. Linux keeps a nice value per thread, so the ingestion thread (and the parse
children it starts) can yield without touching the server's other threads.
"""

from __future__ import annotations

import contextlib
import os
import threading

NICENESS = 10  # a weight of about a tenth of a normal thread's under contention


def lower_this_thread() -> None:
    """Lowers the calling thread's priority (threads and processes it starts inherit it);
    where the platform has no per-thread nice value, nothing changes."""
    with contextlib.suppress(OSError, AttributeError):
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, NICENESS))
