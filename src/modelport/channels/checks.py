"""Looking at a channel from outside: a test request, its balance, and the periodic probe
that turns a channel the platform switched off back on once its upstream answers again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from ..providers.http_client import UpstreamHTTP
from ..providers.registry import ProviderRegistry
from ..storage.tables import utcnow
from .admin import ChannelAdmin
from .balance import Balance, fetch_balance
from .probe import ProbeResult, probe_channel
from .records import StoredChannel

log = logging.getLogger("modelport.channels")


class ChannelChecks:
    def __init__(
        self,
        admin: ChannelAdmin,
        providers: ProviderRegistry,
        http: UpstreamHTTP,
        *,
        probe_seconds: float = 300.0,
        timeout: float = 30.0,
    ) -> None:
        self._admin = admin
        self._providers = providers
        self._http = http
        self._probe_seconds = probe_seconds
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None

    async def test(self, channel: StoredChannel, model: str | None = None) -> ProbeResult:
        """A small real request through the channel; the outcome is kept on the channel."""
        model = model or channel.models[0]
        result = await probe_channel(
            channel.config(model), model, self._providers, timeout=self._timeout
        )
        await self._admin.store.record_test(
            channel.id, result.latency_ms, None if result.ok else result.error
        )
        return result

    async def balance(self, channel: StoredChannel) -> tuple[Balance, datetime]:
        """The upstream account's balance, where the vendor tells it (BalanceError if not),
        and when it was read (as kept on the channel)."""
        config = channel.config(channel.models[0])
        kind = channel.balance_kind or None
        balance = await fetch_balance(config, self._http, kind)
        fetched_at = utcnow()
        await self._admin.store.record_balance(
            channel.id,
            str(balance.amount) if balance.amount is not None else None,
            balance.currency,
            fetched_at,
        )
        return balance, fetched_at

    def start(self) -> None:
        if self._probe_seconds > 0:
            self._task = asyncio.create_task(self._probe_loop(), name="channels-probe")

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self._probe_seconds)
            try:
                await self.probe_switched_off()
            except Exception:
                log.exception("the channel probe failed")

    async def probe_switched_off(self) -> list[str]:
        """Test every channel the platform switched off that asked for the probe; turn back
        on those that answer. The ids turned on."""
        back: list[str] = []
        for channel in await self._admin.store.list():
            if channel.status != "auto_disabled" or not channel.auto_probe:
                continue
            result = await self.test(channel)
            if result.ok and await self._admin.reenable(channel.id):
                log.info("channel %s answers again: switched back on", channel.id)
                back.append(channel.id)
        return back

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
