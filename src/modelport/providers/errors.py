"""Errors raised by providers, carrying what routing needs to decide on a retry."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from ..protocol.errors import APIError


class UpstreamError(APIError):
    """An upstream (or engine) failure, in the OpenAI envelope.

    `retryable` says another channel may be tried: only when the request provably never
    reached this upstream (it could not be connected to) or the upstream answered with a
    status that routing retries (429, 408, 5xx). Once a request was written, a dropped
    connection or a timeout is final: the vendor may have run, and billed, it.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "upstream_error",
        param: str | None = None,
        code: str | None = None,
        retryable: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, type=type, param=param, code=code, headers=headers)
        self.retryable = retryable
        self.upstream_status: int | None = None  # the vendor's own HTTP status, when it sent one


def status_is_retryable(status: int) -> bool:
    return status == 429 or status == 408 or status >= 500


def client_status_for_upstream(status: int) -> int:
    """The status we answer with when an upstream fails: its own 4xx, or 502 for its 5xx."""
    if status in (400, 401, 403, 404, 413, 422, 429):
        return 400 if status in (401, 403) else status  # our key is fine; theirs is not
    return 502


def upstream_error(
    status: int,
    message: str,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
    retryable: bool | None = None,
) -> UpstreamError:
    """An error for an upstream HTTP status: our status, retryability and Retry-After."""
    out_headers: dict[str, str] = {}
    retry_after = (headers or {}).get("retry-after")
    if retry_after and _is_retry_after(retry_after):
        out_headers["Retry-After"] = retry_after.strip()
    if type is None:
        type = (
            "invalid_request_error" if 400 <= status < 500 and status != 429 else "upstream_error"
        )
    error = UpstreamError(
        client_status_for_upstream(status),
        message,
        type=type,
        code=code,
        param=param,
        retryable=status_is_retryable(status) if retryable is None else retryable,
        headers=out_headers,
    )
    error.upstream_status = status
    return error


def _is_retry_after(value: str) -> bool:
    """A Retry-After we may pass on: delay-seconds or an HTTP date (anything else, such as
    text a header cannot carry, is dropped rather than breaking the answer)."""
    value = value.strip()
    if not value.isascii() or len(value) > 64:
        return False
    if value.isdigit():
        return True
    try:
        return parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False


def malformed(vendor: str, detail: str) -> UpstreamError:
    """An answer we cannot read. Not retried: the upstream ran the request."""
    return UpstreamError(
        502, f"{vendor} sent a malformed response: {detail}", code="upstream_malformed_response"
    )


def unreachable(vendor: str, detail: str) -> UpstreamError:
    """The upstream could not be reached, so nothing was sent: another channel may be tried."""
    return UpstreamError(
        502,
        f"{vendor} could not be reached: {detail}",
        code="upstream_connection_error",
        retryable=True,
    )


def misconfigured(message: str) -> UpstreamError:
    """A channel that cannot be called as configured (another channel may be fine)."""
    return UpstreamError(
        500, message, type="server_error", code="channel_misconfigured", retryable=True
    )
