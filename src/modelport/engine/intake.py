"""What the lanes share, under one condition: the requests waiting and the spare cores.

Sharing the queue (instead of one per lane) keeps admission first-come first-served and
work-conserving: whichever lane has room first takes the next request. The spare cores go to
one lane at a time, for a prefill step while every other lane is idle ("wide" steps).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol

from .sequence import Sequence


class LaneLoad(Protocol):
    """What one lane tells the others when they decide who takes the next request."""

    @property
    def load(self) -> int: ...

    def can_take(self, leader: Sequence) -> bool: ...


class Intake:
    def __init__(
        self, max_queue: int, prefill_chunk: int, wide_threads: int, prefix_cache: bool = True
    ) -> None:
        self.cond = threading.Condition()
        self.pending: deque[Sequence] = deque()  # leaders of waiting requests
        self.stopping = False
        self.max_queue = max_queue
        self.prefill_chunk = prefill_chunk  # prompt tokens per lane step, at most
        self.wide_threads = wide_threads  # threads of a wide step: every core's
        self.prefix_cache = prefix_cache  # lanes keep finished prompts' cells for reuse
        self.wide: LaneLoad | None = None  # the lane running a wide step now
        self.lanes: list[LaneLoad] = []

    def others_idle(self, lane: LaneLoad) -> bool:
        return not self.pending and all(o.load == 0 for o in self.lanes if o is not lane)

    def less_loaded_lane_fits(self, lane: LaneLoad, leader: Sequence) -> bool:
        """True if another lane with fewer running sequences could take `leader` now.

        Read without the other lanes' cooperation, so only a hint: a lane that declines on
        that hint wakes the others, and idle lanes re-check on a short timeout.
        """
        return any(
            other is not lane and other.load < lane.load and other.can_take(leader)
            for other in self.lanes
        )
