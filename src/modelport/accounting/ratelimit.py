"""Requests and tokens per minute, per key, over a sliding 60-second window.

Two implementations of one protocol: `LocalRateLimiter` keeps the windows in this process (one
replica, one worker); `RedisRateLimiter` keeps them in Redis, checked and updated by one Lua
script per request, so that every replica sees the same window and the same clock (Redis's).

RPM is exact: a request is admitted only while fewer than `rpm` were admitted in the last 60 s.
TPM counts the tokens of finished requests: a request is refused while the last 60 s already
used `tpm` tokens (a request in flight may take a key past its TPM once).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until a slot frees up
    limit: Literal["requests", "tokens"] | None = None


ADMITTED = Decision(True)


class RateLimiter(Protocol):
    async def admit(self, key_id: str, rpm: int | None, tpm: int | None) -> Decision: ...

    async def add_tokens(self, key_id: str, tokens: int) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class _Window:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    token_sum: int = 0

    def prune(self, floor: float) -> None:
        while self.requests and self.requests[0] <= floor:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= floor:
            self.token_sum -= self.tokens.popleft()[1]


class LocalRateLimiter:
    """Sliding windows in this process. With several workers or replicas each has its own:
    set `MODELPORT_REDIS_URL` for limits that hold across them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    async def admit(self, key_id: str, rpm: int | None, tpm: int | None) -> Decision:
        now = self._clock()
        window = self._windows.setdefault(key_id, _Window())
        window.prune(now - WINDOW_SECONDS)
        if tpm is not None and window.token_sum >= tpm:
            return Decision(False, window.tokens[0][0] + WINDOW_SECONDS - now, "tokens")
        if rpm is not None:
            if len(window.requests) >= rpm:
                return Decision(False, window.requests[0] + WINDOW_SECONDS - now, "requests")
            window.requests.append(now)
        return ADMITTED

    async def add_tokens(self, key_id: str, tokens: int) -> None:
        if tokens <= 0:
            return
        window = self._windows.setdefault(key_id, _Window())
        window.tokens.append((self._clock(), tokens))
        window.token_sum += tokens

    async def aclose(self) -> None:
        self._windows.clear()


# KEYS: requests zset, tokens zset. ARGV: window ms, rpm (0: none), tpm (0: none), member.
# Returns {0, 0} when admitted, {1, retry ms} over RPM, {2, retry ms} over TPM.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
if tpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local used = 0
  for i = 1, #entries, 2 do
    used = used + tonumber(string.match(entries[i], ':(%d+)$'))
  end
  if used >= tpm then
    return {2, tonumber(entries[2]) + window - now}
  end
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {1, tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return {0, 0}
"""

# KEYS: tokens zset. ARGV: window ms, member ("<unique>:<tokens>").
_ADD_TOKENS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


class RedisRateLimiter:
    """Sliding windows in Redis, shared by every replica; one atomic script per decision."""

    def __init__(self, url: str, prefix: str = "modelport:rl:") -> None:
        import redis.asyncio as redis  # only needed when MODELPORT_REDIS_URL is set

        self._redis: Any = redis.from_url(url)
        self._prefix = prefix
        self._admit = self._redis.register_script(_ADMIT)
        self._add = self._redis.register_script(_ADD_TOKENS)
        self._window_ms = int(WINDOW_SECONDS * 1000)

    def _keys(self, key_id: str) -> list[str]:
        base = f"{self._prefix}{{{key_id}}}"  # one hash slot per key on a Redis cluster
        return [base + ":req", base + ":tok"]

    async def admit(self, key_id: str, rpm: int | None, tpm: int | None) -> Decision:
        member = uuid.uuid4().hex
        args: list[str | int] = [self._window_ms, rpm or 0, tpm or 0, member]
        verdict, retry_ms = await self._admit(keys=self._keys(key_id), args=args)
        if int(verdict) == 0:
            return ADMITTED
        limit: Literal["requests", "tokens"] = "requests" if int(verdict) == 1 else "tokens"
        return Decision(False, max(int(retry_ms), 0) / 1000, limit)

    async def add_tokens(self, key_id: str, tokens: int) -> None:
        if tokens <= 0:
            return
        member = f"{uuid.uuid4().hex}:{tokens}"
        await self._add(keys=self._keys(key_id)[1:], args=[self._window_ms, member])

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else LocalRateLimiter()
