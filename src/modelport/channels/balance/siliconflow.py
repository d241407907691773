"""SiliconFlow: `GET /v1/user/info`, whose `data` holds the balances as strings."""

from __future__ import annotations

from ...providers.http_client import UpstreamHTTP
from ...settings import ChannelConfig
from .base import Balance, BalanceError, amount, field_of, get_json, root_of

VENDOR = "SiliconFlow"


async def fetch(channel: ChannelConfig, http: UpstreamHTTP) -> Balance:
    url = root_of(channel, "https://api.siliconflow.cn") + "/v1/user/info"
    data = await get_json(http, channel, url, VENDOR)
    if isinstance(data, dict) and data.get("status") is False:
        raise BalanceError(f"{VENDOR} refused: {str(data.get('message'))[:200]}")
    info = field_of(data, "data", vendor=VENDOR)
    total = amount(field_of(info, "totalBalance", vendor=VENDOR), VENDOR, "totalBalance")
    detail = {
        name: str(amount(info[name], VENDOR, name))
        for name in ("balance", "chargeBalance")
        if name in info
    }
    return Balance(total, "CNY", "siliconflow", detail)
