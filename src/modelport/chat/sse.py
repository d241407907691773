"""SSE framing, in one place: `data: {json}\\n\\n` events, errors as events, `[DONE]` last."""

from __future__ import annotations

from pydantic import BaseModel

from ..protocol.errors import APIError

DONE = b"data: [DONE]\n\n"


def event(payload: BaseModel) -> bytes:
    return b"data: " + payload.model_dump_json().encode() + b"\n\n"


def error_event(error: APIError) -> bytes:
    """A mid-stream failure as an event an OpenAI client can read (the SDK raises on it)."""
    return event(error.body())
