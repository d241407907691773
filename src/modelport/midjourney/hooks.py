"""Calls a client's `notifyHook` with its task on every change.

The hook is the client's URL, so it is dialled only at public addresses (or inside the
configured `hook_networks`), through the same guarded connector web search fetches with, and
never followed through redirects. Delivery is best effort: three tries, then a log line.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpcore
import orjson

from ..search.guard import AddressPolicy, FetchFailed, GuardedBackend

log = logging.getLogger("modelport.midjourney")
_DELAYS = (0.0, 1.0, 3.0)


def hook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a notify hook, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "notifyHook must be an http:// or https:// URL"
    if parts.username or parts.password:
        return "notifyHook must not carry credentials"
    return None


class HookSender:
    def __init__(self, networks: list[str], timeout: float) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=GuardedBackend(AddressPolicy(networks)), max_connections=16
        )
        self._timeout = timeout
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, url: str, payload: dict[str, object]) -> None:
        """Delivers in the background; the caller never waits on a client's server."""
        task = asyncio.create_task(self._deliver(url, orjson.dumps(payload)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        limit = self._timeout
        timeouts = {"connect": limit, "read": limit, "write": limit, "pool": limit}
        headers = [(b"content-type", b"application/json"), (b"user-agent", b"modelport-mj")]
        for delay in _DELAYS:
            await asyncio.sleep(delay)
            try:
                response = await self._pool.request(
                    "POST", url, headers=headers, content=body, extensions={"timeout": timeouts}
                )
            except FetchFailed as exc:  # a refused address: trying again will not help
                log.warning("notifyHook %s refused: %s", url, exc)
                return
            except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError):
                continue
            if response.status < 500:
                return
        log.warning("notifyHook %s was not delivered", url)

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self._pool.aclose()
