"""Errors raised by providers, carrying what routing needs to decide on a retry."""

from __future__ import annotations

from ..protocol.errors import APIError


class UpstreamError(APIError):
    """An upstream (or engine) failure, in the OpenAI envelope.

    `retryable` says another channel might succeed (connect error, timeout, 429, 5xx);
    a client error that the upstream rejected (400, 404 for a bad field) is not retryable.
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


def status_is_retryable(status: int) -> bool:
    return status == 429 or status == 408 or status >= 500


def client_status_for_upstream(status: int) -> int:
    """The status we answer with when an upstream fails: its own 4xx, or 502 for its 5xx."""
    if status in (400, 401, 403, 404, 413, 422, 429):
        return 400 if status in (401, 403) else status  # our key is fine; theirs is not
    return 502
