"""Resellers' OpenAI-style billing endpoints (one-api and its kind answer them), asked as
one-api asks them: the hard limit from `/v1/dashboard/billing/subscription`, minus what
`/v1/dashboard/billing/usage` says was used (in cents) this month, or over the last 100
days for an account without a payment method."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ...providers.http_client import UpstreamHTTP
from ...settings import ChannelConfig
from .base import Balance, amount, field_of, get_json, root_of

VENDOR = "the upstream's billing API"


async def fetch(channel: ChannelConfig, http: UpstreamHTTP, now: datetime | None = None) -> Balance:
    root = root_of(channel, "https://api.openai.com")
    subscription = await get_json(
        http, channel, root + "/v1/dashboard/billing/subscription", VENDOR
    )
    limit = amount(
        field_of(subscription, "hard_limit_usd", vendor=VENDOR), VENDOR, "hard_limit_usd"
    )
    start, end = usage_window((now or datetime.now(UTC)).date(), subscription)
    usage_url = f"{root}/v1/dashboard/billing/usage?start_date={start}&end_date={end}"
    usage = await get_json(http, channel, usage_url, VENDOR)
    cents = amount(field_of(usage, "total_usage", vendor=VENDOR), VENDOR, "total_usage")
    used = cents / Decimal(100)
    detail = {"hard_limit_usd": str(limit), "used_usd": str(used), "since": str(start)}
    return Balance(limit - used, "USD", "openai_billing", detail)


def usage_window(today: date, subscription: dict[str, object]) -> tuple[date, date]:
    """one-api's window: from the month's first day for a paying account, else 100 days
    back; to today."""
    if subscription.get("has_payment_method") is True:
        return today.replace(day=1), today
    return today - timedelta(days=100), today
