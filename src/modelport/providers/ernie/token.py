"""Qianfan's OAuth access tokens: fetched from AK/SK, cached per credentials, refreshed early.

Baidu hands out a token for `expires_in` seconds (30 days); it is renewed once most of that
has passed, and at once when the vendor rejects it (the adapter calls `forget`). Concurrent
requests for the same credentials share one token request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...settings import ChannelConfig
from ..driver import convert
from ..errors import UpstreamError, malformed, upstream_error
from ..http_client import UpstreamHTTP, parse_json
from .options import Credentials
from .wire import ErnieTokenResponse

VENDOR = "ERNIE"
TOKEN_PATH = "/oauth/2.0/token"
# Refresh once this share of a token's lifetime has passed, well before Baidu expires it.
REFRESH_AT = 0.9


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: float  # time.monotonic()


class TokenCache:
    def __init__(self, http: UpstreamHTTP) -> None:
        self._http = http
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def token(self, channel: ChannelConfig, base: str, credentials: Credentials) -> str:
        """A valid token for `credentials` at `base`, from the cache while it is fresh."""
        key = (base, credentials.ak, credentials.sk)
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if cached is not None and time.monotonic() < cached.refresh_at:
                return cached.value
            token = await self._fetch(channel, base, credentials)
            self._tokens[key] = token
            return token.value

    def forget(self, rejected: str) -> None:
        """Drop a token the vendor refused (unless it was already replaced)."""
        for key, token in list(self._tokens.items()):
            if token.value == rejected:
                del self._tokens[key]

    def forget_for(self, base: str, credentials: Credentials) -> None:
        """Drop the cached token of `credentials` at `base` (the vendor refused it)."""
        self._tokens.pop((base, credentials.ak, credentials.sk), None)

    def clear(self) -> None:
        self._tokens.clear()

    async def _fetch(self, channel: ChannelConfig, base: str, credentials: Credentials) -> _Token:
        params = {
            "grant_type": "client_credentials",
            "client_id": credentials.ak,
            "client_secret": credentials.sk,
        }
        started = time.monotonic()  # the lifetime counts from the request, to be safe
        status, raw, headers = await self._http.post(
            base + TOKEN_PATH,
            body=b"",
            headers={"accept": "application/json"},
            channel=channel,
            vendor=VENDOR,
            params=params,
        )
        data = parse_json(raw, VENDOR) if status == 200 else _lenient_json(raw)
        if status != 200 or not isinstance(data, dict) or "error" in data:
            raise _token_error(status, raw, data, headers)
        token = convert(ErnieTokenResponse.model_validate, data, VENDOR)
        return _Token(token.access_token, started + token.expires_in * REFRESH_AT)


def _lenient_json(raw: bytes) -> Any:
    """An error body's JSON, or None when it is not JSON (a proxy's HTML page)."""
    try:
        return parse_json(raw, VENDOR)
    except UpstreamError:
        return None


def _token_error(status: int, raw: bytes, data: Any, headers: Mapping[str, str]) -> UpstreamError:
    if status == 200 and not isinstance(data, dict):
        return malformed(VENDOR, "the token answer is not a JSON object")
    detail: Any = None
    if isinstance(data, dict):
        detail = data.get("error_description") or data.get("error")
    text = str(detail) if detail else raw.decode("utf-8", "replace").strip()[:200]
    # Baidu refuses bad credentials with 401; an `error` inside a 200 means the same.
    return upstream_error(
        status if status != 200 else 401,
        f"ERNIE access token request failed: {text or f'HTTP {status}'}",
        code="ernie_token_failed",
        headers=headers,
    )
