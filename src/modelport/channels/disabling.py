"""Which upstream answers speak against the channel itself (its key, its account), so that
the platform switches it off rather than sending it more requests to refuse.

Rate limits and server errors are passing trouble: they only open the circuit breaker.
Google words some rate limits as quota ("Resource has been exhausted (e.g. check quota)",
"Quota exceeded for ... per minute"), so a 429 that reads like a rate limit never counts.
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
        "upstream_auth_failed",  # Anthropic authentication_error, Gemini API_KEY_INVALID
        "account_deactivated",
        "ernie_110",  # access token invalid
        "ernie_111",  # access token expired
        "ernie_13",  # getting the service token failed
        "ernie_14",  # IAM certification failed
        "spark_10015",  # appid blacklisted
        "spark_10016",  # appid not authorised
    }
)
_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "billing_not_active",
        "upstream_billing",  # Anthropic billing_error
        "ernie_19",  # total request limit reached
        "spark_11200",  # appid lacks authorisation, or its volume is used up
    }
)
# Codes our adapters give a rate limit (Gemini's RESOURCE_EXHAUSTED among them).
_RATE_CODES = frozenset({"rate_limit_exceeded", "requests", "tokens", "upstream_overloaded"})
_RATE_TEXT = re.compile(
    r"rate.?limit|per[ _](?:second|minute|hour|day)|(?:requests?|tokens?)[ _]per"
    r"|\b(?:rpm|tpm|qps)\b|too many requests|try again (?:in|later)|resource has been exhausted"
    r"|\bdaily\b|请求过于频繁|限流|并发|每日|今日",
    re.IGNORECASE,
)
# Vendors' fixed wording. In a 400 (whose text may quote what the tenant sent) only a
# message that *starts* with it counts, so no prompt can switch a channel off.
_AUTH_TEXT = re.compile(
    r"incorrect api key|invalid api key|invalid x-api-key|api key not valid|api key expired"
    r"|authentication fails|account has been (?:disabled|deactivated|suspended)"
    r"|organization has been disabled|无效的\s*(?:api\s*)?key|令牌无效|无效的令牌",
    re.IGNORECASE,
)
_QUOTA_TEXT = re.compile(
    r"insufficient[ _](?:account[ _])?(?:balance|quota|credit)|balance is insufficient"
    r"|your credit balance is too low"
    r"|quota (?:exceeded|exhausted)|(?:exceeded|exhausted) (?:your|the) quota"
    r"|余额不足|额度不足|额度已用尽|额度已耗尽|账户已欠费|已欠费",
    re.IGNORECASE,
)


def disabling_reason(error: UpstreamError) -> str | None:
    """A short reason to switch the channel off, or None when the error is the request's
    or passing (rate limits, 5xx, timeouts)."""
    status = error.upstream_status
    code = error.code or ""
    text = error.message.strip()
    if code in _QUOTA_CODES or status == 402:
        return _quota(text)
    if status == 403 and text.startswith("<"):  # a CDN's or firewall's page: maybe the prompt
        return None
    if status in (401, 403):  # resellers refuse a spent key with 401/403 too
        return _quota(text) if _QUOTA_TEXT.search(text) else _auth(text)
    if code in _AUTH_CODES:
        return _auth(text)
    if status is None or status >= 500 or status == 408:
        return None
    if status == 429 and (code in _RATE_CODES or _RATE_TEXT.search(text)):
        return None
    if _said(_QUOTA_TEXT, text, status):
        return _quota(text)
    if _said(_AUTH_TEXT, text, status):
        return _auth(text)
    return None


def _said(pattern: re.Pattern[str], text: str, status: int) -> bool:
    if status in (401, 402, 403, 429):
        return pattern.search(text) is not None
    return status == 400 and pattern.match(text) is not None


def _quota(text: str) -> str:
    return f"the upstream says the account's quota or balance is spent ({_short(text)})"


def _auth(text: str) -> str:
    return f"the upstream refused authentication ({_short(text)})"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
