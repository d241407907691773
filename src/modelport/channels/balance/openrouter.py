"""OpenRouter: `GET /api/v1/key`, the key's credit limit and what it has used (USD)."""

from __future__ import annotations

from ...providers.http_client import UpstreamHTTP
from ...settings import ChannelConfig
from .base import Balance, amount, field_of, get_json, root_of

VENDOR = "OpenRouter"


async def fetch(channel: ChannelConfig, http: UpstreamHTTP) -> Balance:
    url = root_of(channel, "https://openrouter.ai/api") + "/v1/key"
    data = field_of(await get_json(http, channel, url, VENDOR), "data", vendor=VENDOR)
    usage = amount(field_of(data, "usage", vendor=VENDOR), VENDOR, "usage")
    detail = {"usage": str(usage)}
    if isinstance(data.get("is_free_tier"), bool):
        detail["is_free_tier"] = str(data["is_free_tier"]).lower()
    if isinstance(data.get("limit_reset"), str):  # the limit renews (daily, weekly, monthly)
        detail["limit_reset"] = data["limit_reset"][:16]
    if data.get("limit") is None:  # a key without a credit limit
        return Balance(None, "USD", "openrouter", {**detail, "limit": "none"})
    limit = amount(data["limit"], VENDOR, "limit")
    remaining = data.get("limit_remaining")
    left = limit - usage if remaining is None else amount(remaining, VENDOR, "limit_remaining")
    return Balance(left, "USD", "openrouter", {**detail, "limit": str(limit)})
