"""What a balance looks like, and reading a vendor's balance endpoint safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ...providers.errors import UpstreamError
from ...providers.http_client import UpstreamHTTP, parse_json
from ...providers.redact import channel_secrets, redact
from ...settings import ChannelConfig

BODY_LIMIT = 256 * 1024  # a balance answer is a few hundred bytes


class BalanceError(Exception):
    """The vendor's balance could not be read (the message has no secret in it)."""


class BalanceUnsupported(BalanceError):
    """The channel's vendor has no balance endpoint we know."""


@dataclass(frozen=True)
class Balance:
    """What is left on the upstream account. `amount` is None when the vendor sets no limit
    (an OpenRouter key without one): there is nothing to run out of, not zero."""

    amount: Decimal | None
    currency: str
    kind: str
    detail: dict[str, str] = field(default_factory=dict)  # the vendor's breakdown, as text


def root_of(channel: ChannelConfig, default: str) -> str:
    """The vendor's address without a trailing `/v1`: channels store OpenAI-style base URLs
    (`https://api.deepseek.com/v1`), balance endpoints hang off the root."""
    base = (channel.base_url or default).rstrip("/")
    return base.removesuffix("/v1")


async def get_json(http: UpstreamHTTP, channel: ChannelConfig, url: str, vendor: str) -> Any:
    keys = channel.keys()
    if not keys:
        raise BalanceError("the channel has no API key to ask its balance with")
    headers = {"Authorization": f"Bearer {keys[0]}", "Accept": "application/json"}
    secrets = channel_secrets(channel)
    try:
        status, body, _ = await http.get(
            url, headers=headers, channel=channel, vendor=vendor, limit=BODY_LIMIT
        )
    except UpstreamError as exc:
        raise BalanceError(redact(exc.message, secrets)) from None
    if status != 200:
        text = body.decode("utf-8", "replace").strip()[:300]
        raise BalanceError(redact(f"{vendor} answered HTTP {status}: {text}", secrets))
    try:
        return parse_json(body, vendor)
    except UpstreamError:
        raise BalanceError(f"{vendor} sent a balance that is not JSON") from None


def amount(value: Any, vendor: str, name: str) -> Decimal:
    """A number the vendor sent as a string or a JSON number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BalanceError(f"{vendor} sent no readable `{name}`")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BalanceError(f"{vendor} sent no readable `{name}`") from None
    if not number.is_finite():
        raise BalanceError(f"{vendor} sent no readable `{name}`")
    return number


def field_of(data: Any, *path: str, vendor: str) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise BalanceError(f"{vendor} sent a balance without `{'.'.join(path)}`")
        data = data[name]
    return data
