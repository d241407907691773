"""Qianfan's `error_code`s (sent inside a 200 body) → the HTTP status and retry decision they mean.

Codes from Baidu's Qianfan error table and its SDK (`qianfan/consts.py`, `APIErrorCode`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import UpstreamError, upstream_error

# 110 invalid / 111 expired access token: refused before the request ran, so the adapter
# fetches a new token and tries once more.
TOKEN_CODES = frozenset({110, 111})

_STATUS_BY_CODE: dict[int, int] = {
    1: 500,  # Unknown error
    2: 503,  # Service temporarily unavailable
    3: 404,  # Unsupported openapi method (no such endpoint)
    4: 429,  # Open api request limit reached (cluster)
    6: 403,  # No permission to access data
    13: 401,  # Get service token failed
    14: 401,  # IAM Certification failed
    15: 403,  # app not exists or create failed
    17: 429,  # daily request limit reached
    18: 429,  # QPS limit reached
    19: 429,  # total request limit reached
    100: 401,  # Invalid parameter (access_token)
    110: 401,
    111: 401,
    336000: 500,  # Internal error
    336001: 400,  # Invalid Argument
    336002: 400,  # Invalid JSON
    336003: 400,  # Invalid parameter
    336004: 403,  # Permission denied
    336005: 404,  # API name not exist
    336100: 503,  # try again later (server busy)
    336101: 400,  # Invalid HTTP method
    336104: 400,  # Invalid argument (system)
    336105: 400,  # Invalid argument (user setting)
    336501: 429,  # Rate limit reached for RPM
    336502: 429,  # Rate limit reached for TPM
}


def ernie_error(code: int, message: str) -> UpstreamError:
    """The error for a refusal in a 200 body; its status says whether to retry (429 and 5xx
    are). Unknown codes count as upstream faults (502): worth another channel."""
    status = _STATUS_BY_CODE.get(code, 502)
    return upstream_error(status, f"ERNIE error {code}: {message}", code=f"ernie_{code}")


def http_error(status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
    """A status other than 200 (rare: Qianfan reports most failures inside a 200 body)."""
    text = body.decode("utf-8", "replace").strip()[:300]
    return upstream_error(status, f"ERNIE answered HTTP {status}: {text}", headers=headers)
