"""Spark's `header.code`s and handshake rejections → the HTTP status and retry decision they mean.

Codes from iFlytek's Spark Web API error table.
"""

from __future__ import annotations

from ..errors import UpstreamError, upstream_error

_STATUS_BY_CODE: dict[int, int] = {
    10000: 502,  # upgrading to ws failed
    10001: 502,  # reading the user's ws message failed
    10002: 502,  # sending to the user failed
    10003: 400,  # message format error
    10004: 400,  # message schema error
    10005: 400,  # parameter value error
    10006: 429,  # the same user is already connected
    10007: 429,  # the user's previous question is still being answered
    10008: 503,  # service capacity exhausted
    10009: 503,  # connecting to the engine failed
    10010: 503,  # receiving from the engine failed
    10011: 503,  # sending to the engine failed
    10012: 500,  # engine internal error
    10013: 400,  # input failed content review
    10014: 400,  # output failed content review
    10015: 403,  # appid blacklisted
    10016: 403,  # appid not authorised (feature, version, tokens, concurrency)
    10017: 500,  # clearing history failed
    10019: 400,  # the conversation tends toward a policy violation
    10021: 400,  # input failed review
    10110: 503,  # service busy
    10163: 400,  # engine parameter schema check failed
    10222: 502,  # engine network error
    10907: 400,  # too many tokens in history + question
    11200: 403,  # appid lacks authorisation, or volume over the limit
    11201: 429,  # daily limit exceeded
    11202: 429,  # per-second limit exceeded
    11203: 429,  # concurrency limit exceeded
}


def spark_error(code: int, message: str, sid: str = "") -> UpstreamError:
    """Unknown codes count as upstream faults (502): worth another channel."""
    status = _STATUS_BY_CODE.get(code, 502)
    where = f" (sid {sid})" if sid else ""
    return upstream_error(status, f"Spark error {code}: {message}{where}", code=f"spark_{code}")


def handshake_error(status: int, body: bytes) -> UpstreamError:
    """iFlytek's gateway refuses a bad signature (401) or a skewed date (403) before upgrading."""
    text = body.decode("utf-8", "replace")[:300]
    return upstream_error(status, f"Spark refused the connection (HTTP {status}): {text}")
