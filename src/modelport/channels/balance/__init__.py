"""Upstream account balances, where the vendor tells them: one file per vendor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, get_args
from urllib.parse import urlsplit

from ...providers.http_client import UpstreamHTTP
from ...settings import ChannelConfig
from . import deepseek, openai_billing, openrouter, siliconflow
from .base import Balance, BalanceError, BalanceUnsupported

BalanceKind = Literal["deepseek", "openai_billing", "siliconflow", "openrouter"]
KINDS: tuple[str, ...] = get_args(BalanceKind)
_FETCHERS: dict[str, Callable[[ChannelConfig, UpstreamHTTP], Awaitable[Balance]]] = {
    "deepseek": deepseek.fetch,
    "openai_billing": openai_billing.fetch,
    "siliconflow": siliconflow.fetch,
    "openrouter": openrouter.fetch,
}
_HOSTS = {
    "api.deepseek.com": "deepseek",
    "api.siliconflow.cn": "siliconflow",
    "api.siliconflow.com": "siliconflow",
    "openrouter.ai": "openrouter",
}

__all__ = ["KINDS", "Balance", "BalanceError", "BalanceKind", "BalanceUnsupported"]


def detect_kind(channel: ChannelConfig) -> str | None:
    host = urlsplit(channel.base_url or "").hostname or ""
    return _HOSTS.get(host.lower())


async def fetch_balance(
    channel: ChannelConfig, http: UpstreamHTTP, kind: str | None = None
) -> Balance:
    """The channel's balance: by `kind`, else by its base URL's host (BalanceUnsupported
    when neither says which vendor's endpoint to ask)."""
    chosen = kind or detect_kind(channel)
    if chosen is None:
        raise BalanceUnsupported(
            "this channel's vendor has no known balance endpoint; set `balance_kind` to one "
            f"of {', '.join(KINDS)}"
        )
    fetcher = _FETCHERS.get(chosen)
    if fetcher is None:
        raise BalanceUnsupported(f"unknown balance kind {chosen!r} ({', '.join(KINDS)})")
    return await fetcher(channel, http)
