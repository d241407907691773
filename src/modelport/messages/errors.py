"""Our errors in Anthropic's envelope: `{"type": "error", "error": {"type", "message"}}`.

The status stays the one the pipeline chose; the error type is Anthropic's for that status
(https://docs.anthropic.com/en/api/errors), so the Anthropic SDK raises the class a client
expects (`AuthenticationError`, `RateLimitError`, ...). An engine or upstream at capacity
(503, 529) is `overloaded_error`.
"""

from __future__ import annotations

import json

from fastapi.responses import JSONResponse

from ..protocol.anthropic_messages import ErrorDetail, ErrorEnvelope, ErrorType
from ..protocol.errors import APIError

_TYPES: dict[int, ErrorType] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(error: APIError) -> ErrorType:
    if error.code in ("engine_overloaded", "upstream_overloaded"):
        return "overloaded_error"
    known = _TYPES.get(error.status)
    if known is not None:
        return known
    return "api_error" if error.status >= 500 else "invalid_request_error"


def envelope(error: APIError) -> ErrorEnvelope:
    return ErrorEnvelope(error=ErrorDetail(type=error_type(error), message=error.message))


def error_response(error: APIError) -> JSONResponse:
    headers = {
        k: v
        for k, v in error.headers.items()
        if k.isascii() and v.isascii() and "\n" not in v and "\r" not in v
    }
    return JSONResponse(envelope(error).model_dump(), status_code=error.status, headers=headers)


def error_event(error: APIError) -> bytes:
    """A failure after the stream began: Anthropic's `error` event."""
    data = json.dumps(envelope(error).model_dump(), ensure_ascii=False)
    return f"event: error\ndata: {data}\n\n".encode()
