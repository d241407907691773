"""The circuit breaker's state machine, on a hand-driven clock."""

from __future__ import annotations

from modelport.routing.health import ChannelHealth, CircuitBreaker
from modelport.settings import RoutingSettings


def state(breaker: CircuitBreaker) -> str:
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_n_failures_of_last_m() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, window=5, cooldown=10, clock=clock)
    for outcome in (True, False, True, False):  # 2 failures in the window: still closed
        breaker.failure() if outcome else breaker.success()
    assert state(breaker) == "closed" and breaker.available()
    breaker.failure()
    assert state(breaker) == "open" and not breaker.available() and not breaker.acquire()
    assert breaker.snapshot("m#0").opened_for == 10.0


def test_old_failures_leave_the_window() -> None:
    breaker = CircuitBreaker(failures=3, window=5, cooldown=10, clock=Clock())
    breaker.failure()
    breaker.failure()
    for _ in range(5):
        breaker.success()
    breaker.failure()
    assert state(breaker) == "closed"


def test_half_open_allows_one_probe_and_a_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=1, cooldown=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert state(breaker) == "half_open" and breaker.available()
    assert breaker.acquire()
    assert not breaker.acquire() and not breaker.available()  # the probe is out
    breaker.success()
    assert state(breaker) == "closed" and breaker.acquire() and breaker.acquire()


def test_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=2, window=5, cooldown=10, clock=clock)
    breaker.failure()
    breaker.failure()
    clock.now += 11
    assert breaker.acquire()
    breaker.failure()
    assert state(breaker) == "open"
    clock.now += 9.9
    assert state(breaker) == "open"
    clock.now += 0.2
    assert state(breaker) == "half_open"


def test_release_frees_the_probe_without_judging() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=1, cooldown=1, clock=clock)
    breaker.failure()
    clock.now += 1
    assert breaker.acquire()
    breaker.release()
    assert state(breaker) == "half_open" and breaker.acquire()


def test_health_keeps_one_breaker_per_channel() -> None:
    health = ChannelHealth(RoutingSettings(breaker_failures=1))
    health.breaker("a#0").failure()
    assert health.breaker("a#0") is health.breaker("a#0")
    assert [(s.channel, s.state) for s in health.snapshots()] == [("a#0", "open")]
    assert health.breaker("a#1").state == "closed"
