"""DeepSeek: `GET /user/balance` (per-currency total, granted and topped-up balances)."""

from __future__ import annotations

from ...providers.http_client import UpstreamHTTP
from ...settings import ChannelConfig
from .base import Balance, BalanceError, amount, field_of, get_json, root_of

VENDOR = "DeepSeek"


async def fetch(channel: ChannelConfig, http: UpstreamHTTP) -> Balance:
    url = root_of(channel, "https://api.deepseek.com") + "/user/balance"
    data = await get_json(http, channel, url, VENDOR)
    infos = field_of(data, "balance_infos", vendor=VENDOR)
    if not isinstance(infos, list) or not infos or not isinstance(infos[0], dict):
        raise BalanceError(f"{VENDOR} sent no balance")
    first = infos[0]  # accounts hold one currency (CNY, or USD for international ones)
    detail = {
        name: str(amount(first[name], VENDOR, name))
        for name in ("granted_balance", "topped_up_balance")
        if name in first
    }
    detail["is_available"] = str(bool(data.get("is_available"))).lower()
    currency = first.get("currency")
    return Balance(
        amount(first.get("total_balance"), VENDOR, "total_balance"),
        currency[:16] if isinstance(currency, str) and currency else "CNY",
        "deepseek",
        detail,
    )
