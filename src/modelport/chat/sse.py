"""SSE framing, in one place: `data: {json}\\n\\n` events, errors as events, `[DONE]` last."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from ..protocol.errors import APIError

DONE = b"data: [DONE]\n\n"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(payload: BaseModel) -> bytes:
    try:
        return payload.__pydantic_serializer__.to_json(payload)  # bytes, no str between
    except PydanticSerializationError:
        # Text with lone surrogates (an upstream's JSON may carry them as escapes) has no
        # UTF-8 form: they become U+FFFD, so the frame still parses and the stream goes on.
        text = json.dumps(
            payload.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")
        )
        return _LONE_SURROGATE.sub("\ufffd", text).encode()


def event(payload: BaseModel) -> bytes:
    return b"data: " + _json(payload) + b"\n\n"


def error_event(error: APIError) -> bytes:
    """A mid-stream failure as an event an OpenAI client can read (the SDK raises on it)."""
    return event(error.body())
