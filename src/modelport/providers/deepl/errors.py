"""DeepL's HTTP statuses → our errors (DeepL's error body is `{"message": "..."}`)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from ..errors import UpstreamError, upstream_error

VENDOR = "DeepL"
QUOTA_EXCEEDED = 456  # DeepL: the account's character quota is used up


def deepl_error(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """403 a wrong key (400 to our client: our key is fine), 456 the quota used up (a 429
    worth another channel), 429 too many requests, 413 too large, 5xx an upstream fault."""
    detail = _message(raw)
    if status == QUOTA_EXCEEDED:
        return upstream_error(
            429,
            f"DeepL quota exceeded on this channel: {detail or 'HTTP 456'}",
            type="insufficient_quota",
            code="upstream_quota_exceeded",
            headers=headers,
            retryable=True,
        )
    if status == 403:
        message = f"DeepL refused the channel's authentication key: {detail or 'HTTP 403'}"
        return upstream_error(403, message, code="upstream_auth_failed", headers=headers)
    return upstream_error(status, f"DeepL answered HTTP {status}: {detail}", headers=headers)


def _message(raw: bytes) -> str:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace").strip()[:200]
    if isinstance(data, dict):
        text = data.get("message") or data.get("detail") or ""
        return str(text)[:200]
    return ""
