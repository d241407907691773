"""Which upstream answers speak against the channel itself (its key, its account), so that
the platform switches it off rather than sending it more requests to refuse.

Rate limits and server errors are passing trouble: they only open the circuit breaker.
"""

from __future__ import annotations

import re

from ..providers.errors import UpstreamError

# Codes vendors (and our adapters) give a refused credential.
_AUTH_CODES = frozenset(
    {
        "invalid_api_key",
        "authentication_error",
        "permission_error",
        "upstream_auth_failed",
        "account_deactivated",
        "ernie_110",  # access token invalid
        "ernie_111",  # access token expired
        "spark_10015",  # appid blacklisted
        "spark_10016",  # appid not authorised
        "spark_11200",  # appid lacks authorisation, or its volume is used up
    }
)
_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "billing_not_active",
        "ernie_19",  # total request limit reached
        "spark_11200",
    }
)
# Vendors' fixed wording. In a 400 (whose text may quote what the tenant sent) only a
# message that *starts* with it counts, so no prompt can switch a channel off.
_AUTH_TEXT = re.compile(
    r"incorrect api key|invalid api key|invalid x-api-key|api key not valid|api key expired"
    r"|authentication fails|无效的\s*(?:api\s*)?key|令牌无效",
    re.IGNORECASE,
)
_QUOTA_TEXT = re.compile(
    r"insufficient[ _](?:balance|quota|credit)|you exceeded your current quota"
    r"|your credit balance is too low|quota (?:exceeded|exhausted)"
    r"|余额不足|额度不足|额度已用尽|账户已欠费",
    re.IGNORECASE,
)


def disabling_reason(error: UpstreamError) -> str | None:
    """A short reason to switch the channel off, or None when the error is the request's
    or passing (rate limits, 5xx)."""
    status = error.upstream_status
    code = error.code or ""
    text = error.message.strip()
    if status is not None and (status >= 500 or status == 408):
        return None
    said = _said(_QUOTA_TEXT, text, status)
    if code in _QUOTA_CODES or status == 402 or said:
        return f"the upstream says the account's quota or balance is spent ({_short(text)})"
    if status in (401, 403) or code in _AUTH_CODES or _said(_AUTH_TEXT, text, status):
        return f"the upstream refused authentication ({_short(text)})"
    return None


def _said(pattern: re.Pattern[str], text: str, status: int | None) -> bool:
    if status in (401, 402, 403, 429):
        return pattern.search(text) is not None
    return status == 400 and pattern.match(text) is not None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
