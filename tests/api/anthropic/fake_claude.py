"""The Anthropic fake (`tests/fakes/anthropic.py`) plus extended thinking and prompt caching.

A request with `thinking: {"type": "enabled"}` is answered with a `thinking` block (its
signature "sig-" and the words of the last user text joined by dashes) before the text; a
request with any `cache_control` reports cache usage (`cache_creation_input_tokens` 11,
`cache_read_input_tokens` 7). Streams carry `thinking_delta`s and a `signature_delta`, as
Anthropic's do. Everything else is the base fake's answer; every body is recorded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes import anthropic as base

CACHE = {"cache_creation_input_tokens": 11, "cache_read_input_tokens": 7}


def _cached(body: Any) -> bool:
    return "cache_control" in json.dumps(body)


def _last_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if b.get("type") == "text")


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


async def _stream(message: dict[str, Any]) -> AsyncIterator[str]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    yield _event("message_start", message={**start, "usage": {**usage, "output_tokens": 1}})
    for index, block in enumerate(message["content"]):
        if block["type"] == "thinking":
            opening = {"type": "thinking", "thinking": "", "signature": ""}
            yield _event("content_block_start", index=index, content_block=opening)
            for word in block["thinking"].split(" "):
                delta = {"type": "thinking_delta", "thinking": word + " "}
                yield _event("content_block_delta", index=index, delta=delta)
            signature = {"type": "signature_delta", "signature": block["signature"]}
            yield _event("content_block_delta", index=index, delta=signature)
        else:
            yield _event(
                "content_block_start", index=index, content_block={"type": "text", "text": ""}
            )
            yield _event("ping")
            delta = {"type": "text_delta", "text": block["text"]}
            yield _event("content_block_delta", index=index, delta=delta)
        yield _event("content_block_stop", index=index)
    final = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield _event("message_delta", delta=final, usage={"output_tokens": usage["output_tokens"]})
    yield _event("message_stop")


async def messages(request: Request) -> Response:
    body = json.loads(await request.body())
    thinking = (body.get("thinking") or {}).get("type") == "enabled"
    if not thinking or request.headers.get("x-api-key") not in request.app.state.keys:
        return await base.messages(request)
    request.app.state.requests.append({"body": body, "headers": dict(request.headers)})
    text = _last_text(body)
    words = text.split()
    blocks = [
        {
            "type": "thinking",
            "thinking": f"The user said {text}.",
            "signature": "sig-" + "-".join(words),
        },
        {"type": "text", "text": f"Echo: {text}"},
    ]
    usage = {"input_tokens": 9, "output_tokens": 4 + len(words) * 2}
    usage.update(
        CACHE if _cached(body) else {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    )
    message = {
        "id": "msg_fakethinking",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if body.get("stream"):
        return StreamingResponse(_stream(message), media_type="text/event-stream")
    return JSONResponse(message)


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.keys = base.DEFAULT_KEYS
    app.state.requests = []
    return app
