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
# No account holds 10^15 of anything: a larger "balance" is a hostile or broken answer (and
# its exponent would overflow Decimal arithmetic). Finer than 10^-10 is noise.
_DIGITS = 15
_PLACES = 10


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
    """GET `url` with the channel's first key and decode the JSON answer (BalanceError with
    the channel's secrets removed otherwise)."""
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
        said = _said(body)
        if status in (401, 403):
            text = f"{vendor} refused the channel's API key (HTTP {status}): {said}"
        else:
            text = f"{vendor} answered HTTP {status}: {said}"
        raise BalanceError(redact(text, secrets))
    try:
        return parse_json(body, vendor)
    except UpstreamError:
        raise BalanceError(f"{vendor} sent a balance that is not JSON") from None


def _said(body: bytes) -> str:
    """The vendor's error message: `error.message` or `message` of a JSON body, else the
    start of the text."""
    try:
        data = parse_json(body, "")
    except UpstreamError:
        data = None
    message: Any = None
    if isinstance(data, dict):
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or data.get("message")
    text = message if isinstance(message, str) else body.decode("utf-8", "replace")
    return " ".join(text.split())[:300] or "(no message)"


def amount(value: Any, vendor: str, name: str) -> Decimal:
    """A number the vendor sent as a string or a JSON number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BalanceError(f"{vendor} sent no readable `{name}`")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BalanceError(f"{vendor} sent no readable `{name}`") from None
    # adjusted(): the power of ten of the first digit, read without context arithmetic
    if number.is_zero():  # 0E+999999 too
        return Decimal(0)
    if not number.is_finite() or number.adjusted() >= _DIGITS:
        raise BalanceError(f"{vendor} sent no readable `{name}`")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_PLACES:  # 1e-999999: no sum could hold it
        number = number.quantize(Decimal(1).scaleb(-_PLACES))
    return number


def field_of(data: Any, *path: str, vendor: str) -> Any:
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise BalanceError(f"{vendor} sent a balance without `{'.'.join(path)}`")
        data = data[name]
    return data
