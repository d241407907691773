"""SiliconFlow: `GET /v1/user/info`, whose `data` holds the balances as strings (CNY on
api.siliconflow.cn, USD on the international api.siliconflow.com)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ...providers.http_client import UpstreamHTTP
from ...providers.redact import channel_secrets, redact
from ...settings import ChannelConfig
from .base import Balance, BalanceError, amount, field_of, get_json, root_of

VENDOR = "SiliconFlow"


async def fetch(channel: ChannelConfig, http: UpstreamHTTP) -> Balance:
    root = root_of(channel, "https://api.siliconflow.cn")
    data = await get_json(http, channel, root + "/v1/user/info", VENDOR)
    if isinstance(data, dict) and data.get("status") is False:  # `code` says why, not HTTP
        said = " ".join(str(data.get("message"))[:200].split())
        raise BalanceError(redact(f"{VENDOR} refused: {said}", channel_secrets(channel)))
    info = field_of(data, "data", vendor=VENDOR)
    total = amount(field_of(info, "totalBalance", vendor=VENDOR), VENDOR, "totalBalance")
    detail = {
        name: str(amount(info[name], VENDOR, name))
        for name in ("balance", "chargeBalance")
        if name in info
    }
    international = (urlsplit(root).hostname or "").endswith("siliconflow.com")
    return Balance(total, "USD" if international else "CNY", "siliconflow", detail)
