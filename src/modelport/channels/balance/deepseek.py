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
    first = infos[0]  # the account's main currency (CNY, or USD for international ones)
    detail = {
        name: str(amount(first[name], VENDOR, name))
        for name in ("granted_balance", "topped_up_balance")
        if name in first
    }
    detail["is_available"] = str(bool(data.get("is_available"))).lower()
    currency = _currency(first.get("currency"))
    for other in infos[1:4]:  # a balance held in a second currency, shown beside
        if isinstance(other, dict) and _currency(other.get("currency")) != currency:
            name = f"total_balance_{_currency(other.get('currency'))}"
            detail[name] = str(amount(other.get("total_balance"), VENDOR, "total_balance"))
    return Balance(
        amount(first.get("total_balance"), VENDOR, "total_balance"),
        currency,
        "deepseek",
        detail,
    )


def _currency(value: object) -> str:
    return value[:16] if isinstance(value, str) and value.isalpha() else "CNY"
