"""RPM/TPM: the local and Redis limiters, the 429 envelope, and two replicas sharing Redis."""

from __future__ import annotations

import asyncio
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from modelport.accounting.gate import Gate
from modelport.accounting.keys import KeyStore
from modelport.accounting.ratelimit import LocalRateLimiter, RedisRateLimiter
from modelport.accounting.reservations import Reservations
from modelport.storage.db import Database
from tests.accounting.platform.conftest import REDIS_URL, Platform, settled_usage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_local_rpm_is_a_sliding_window() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock)
    assert (await limiter.admit("k", 2, None)).allowed
    clock.now += 30
    assert (await limiter.admit("k", 2, None)).allowed
    refused = await limiter.admit("k", 2, None)
    assert not refused.allowed and refused.limit == "requests"
    assert refused.retry_after == pytest.approx(30)
    clock.now += 30.5  # the first request left the window; the second has not
    assert (await limiter.admit("k", 2, None)).allowed
    assert not (await limiter.admit("k", 2, None)).allowed
    assert (await limiter.admit("other", 2, None)).allowed


async def test_local_tpm_counts_finished_tokens() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock)
    assert (await limiter.admit("k", None, 100)).allowed
    await limiter.add_tokens("k", 60)
    assert (await limiter.admit("k", None, 100)).allowed
    await limiter.add_tokens("k", 40)
    refused = await limiter.admit("k", None, 100)
    assert not refused.allowed and refused.limit == "tokens"
    clock.now += 61
    assert (await limiter.admit("k", None, 100)).allowed


async def test_redis_limiter_is_atomic_under_concurrency() -> None:
    limiter = RedisRateLimiter(REDIS_URL, prefix=f"modelport-test:{secrets.token_hex(4)}:")
    try:
        decisions = await asyncio.gather(*(limiter.admit("k", 5, None) for _ in range(20)))
        assert sum(d.allowed for d in decisions) == 5
        refused = [d for d in decisions if not d.allowed]
        assert all(d.limit == "requests" and 0 < d.retry_after <= 60 for d in refused)
        assert (await limiter.admit("k2", None, 50)).allowed
        await limiter.add_tokens("k2", 50)
        over = await limiter.admit("k2", None, 50)
        assert not over.allowed and over.limit == "tokens"
    finally:
        await limiter.aclose()


def test_429_envelope_and_retry_after(sqlite_platform: Platform, upstream_app: object) -> None:
    key = sqlite_platform.new_key(rpm=2)
    assert [sqlite_platform.chat(key["key"], max_tokens=1).status_code for _ in range(2)] == [
        200,
        200,
    ]
    calls = len(upstream_app.state.requests)  # type: ignore[attr-defined]
    refused = sqlite_platform.chat(key["key"], max_tokens=1)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
    assert len(upstream_app.state.requests) == calls  # type: ignore[attr-defined]


def test_tpm_limit_on_the_server(sqlite_platform: Platform) -> None:
    key = sqlite_platform.new_key(tpm=5)
    assert sqlite_platform.chat(key["key"], max_tokens=3).status_code == 200  # 5 tokens
    refused = sqlite_platform.chat(key["key"], max_tokens=3)
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "tokens"


def test_two_replicas_share_one_rpm_window(two_replicas: tuple[Platform, Platform]) -> None:
    a, b = two_replicas
    key = a.new_key(rpm=10)
    replicas = [a, b] * 10

    def send(i: int) -> int:
        return replicas[i].chat(key["key"], max_tokens=1).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(20)))
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 10, statuses
    # Each process writes its ledger in batches: wait for theirs, then check nothing more came.
    assert settled_usage(b, key["id"], 10)["requests"] == 10


async def test_unreachable_redis_fails_open(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", rpm=1, tpm=5)  # a TPM: settling counts tokens too
    limiter = RedisRateLimiter("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    gate = Gate(Reservations(db), limiter)
    caplog.set_level(logging.ERROR, logger="modelport.accounting")
    try:
        for _ in range(3):  # over the RPM, yet admitted (no APIError): the limiter cannot say
            await gate.admit(key, "m", [])
        await gate.settle(key, 10)  # over the TPM too: logged, not raised
    finally:
        await gate.aclose()
    # Each decision it could not make is logged, with the key, and its error.
    messages = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert messages == [(f"rate limiter unavailable; admitting {key.id} unchecked", True)] * 3 + [
        (f"could not count 10 tokens of {key.id} against its TPM", True)
    ]
