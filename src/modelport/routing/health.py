"""Per-channel circuit breakers: a channel that keeps failing is skipped for a cool-down.

A breaker is closed while fewer than `failures` of its last `window` calls failed. Then it
opens: the channel is not offered for `cooldown` seconds. After that it is half-open: one
request at a time may probe it; a success closes the breaker, a failure opens it again.
Only channel faults count (connect errors, timeouts, 429, 5xx); a client's bad request
says nothing about the channel's health.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..settings import RoutingSettings

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class BreakerSnapshot:
    """What the admin API shows for one channel."""

    channel: str
    state: State
    recent_failures: int
    recent_calls: int
    opened_for: float  # seconds left before a probe is allowed (0 unless open)
    total_failures: int
    total_successes: int


class CircuitBreaker:
    def __init__(
        self,
        failures: int,
        window: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures
        self._recent: deque[bool] = deque(maxlen=max(window, failures))
        self._cooldown = cooldown
        self._clock = clock
        self._opened_at: float | None = None
        self._probing = False
        self.total_failures = 0
        self.total_successes = 0

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self._cooldown:
            return "open"
        return "half_open"

    def available(self) -> bool:
        """Whether the channel may be offered now (half-open: only if no probe is out)."""
        state = self.state
        return state == "closed" or (state == "half_open" and not self._probing)

    def acquire(self) -> bool:
        """Take the right to call: always when closed, once at a time when half-open."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self.total_successes += 1
        self._probing = False
        if self._opened_at is not None:  # the probe worked: start afresh
            self._opened_at = None
            self._recent.clear()
        self._recent.append(False)

    def failure(self) -> None:
        self.total_failures += 1
        self._recent.append(True)
        if self._probing or (self._opened_at is None and sum(self._recent) >= self._threshold):
            self._opened_at = self._clock()
        self._probing = False

    def release(self) -> None:
        """A call that says nothing about health (the client's error): free the probe slot."""
        self._probing = False

    def snapshot(self, channel: str) -> BreakerSnapshot:
        left = 0.0
        if self.state == "open" and self._opened_at is not None:
            left = self._cooldown - (self._clock() - self._opened_at)
        return BreakerSnapshot(
            channel=channel,
            state=self.state,
            recent_failures=sum(self._recent),
            recent_calls=len(self._recent),
            opened_for=round(max(left, 0.0), 3),
            total_failures=self.total_failures,
            total_successes=self.total_successes,
        )


class ChannelHealth:
    """The breakers of every channel, keyed by channel id (`model#index`)."""

    def __init__(
        self, settings: RoutingSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, channel_id: str) -> CircuitBreaker:
        breaker = self._breakers.get(channel_id)
        if breaker is None:
            s = self._settings
            breaker = CircuitBreaker(
                s.breaker_failures, s.breaker_window, s.breaker_cooldown, self._clock
            )
            self._breakers[channel_id] = breaker
        return breaker

    def snapshots(self) -> list[BreakerSnapshot]:
        return [b.snapshot(cid) for cid, b in sorted(self._breakers.items())]
