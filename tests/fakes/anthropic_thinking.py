"""A fake Anthropic Messages API that thinks, shaped as Anthropic's extended thinking is.

With `thinking: {"type": "enabled", "budget_tokens": N}` (checked as Anthropic checks it:
N >= 1024 and N < max_tokens, else a 400), the answer opens with a `thinking` block
("Thinking about <last user text>." and a `signature`) and a `redacted_thinking` block, then
the text "Answer: <last user text>". Streamed, the thinking comes as `thinking_delta`s (one a
word) and a `signature_delta`. Without `thinking`, only the text. Usage: 4 `input_tokens`,
6 `cache_read_input_tokens`, 2 `cache_creation_input_tokens`, and words as output tokens
(thinking included, as Anthropic bills it). Bodies are recorded in `app.state.requests`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

USAGE_IN = {"input_tokens": 4, "cache_read_input_tokens": 6, "cache_creation_input_tokens": 2}


def _invalid(message: str) -> Response:
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    return JSONResponse(body, status_code=400)


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    content = body["messages"][-1]["content"]
    last = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    blocks: list[dict[str, Any]] = []
    if body.get("thinking"):
        blocks.append(
            {"type": "thinking", "thinking": f"Thinking about {last}.", "signature": "c2ln"}
        )
        blocks.append({"type": "redacted_thinking", "data": "ZW5jcnlwdGVk"})
    blocks.append({"type": "text", "text": f"Answer: {last}"})
    return blocks


def _output_tokens(blocks: list[dict[str, Any]]) -> int:
    return sum(len(str(b.get("text") or b.get("thinking") or "").split()) for b in blocks)


async def messages(request: Request) -> Response:
    body = json.loads(await request.body())
    request.app.state.requests.append(body)
    thinking = body.get("thinking")
    if thinking is not None:
        budget = int(thinking.get("budget_tokens") or 0)
        if budget < 1024:
            return _invalid("thinking.budget_tokens: must be greater than or equal to 1024")
        if budget >= int(body["max_tokens"]):
            return _invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    blocks = _blocks(body)
    usage = {**USAGE_IN, "output_tokens": _output_tokens(blocks)}
    message = {
        "id": "msg_think",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if body.get("stream"):
        return StreamingResponse(_events(message), media_type="text/event-stream")
    return JSONResponse(message)


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


async def _events(message: dict[str, Any]) -> AsyncIterator[str]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None}
    yield _event("message_start", message={**start, "usage": {**usage, "output_tokens": 1}})
    for index, block in enumerate(message["content"]):
        if block["type"] == "thinking":
            yield _event(
                "content_block_start",
                index=index,
                content_block={"type": "thinking", "thinking": "", "signature": ""},
            )
            for i, word in enumerate(block["thinking"].split()):
                delta = {"type": "thinking_delta", "thinking": word if i == 0 else " " + word}
                yield _event("content_block_delta", index=index, delta=delta)
            signature = {"type": "signature_delta", "signature": block["signature"]}
            yield _event("content_block_delta", index=index, delta=signature)
        elif block["type"] == "redacted_thinking":
            yield _event("content_block_start", index=index, content_block=block)
        else:
            yield _event(
                "content_block_start", index=index, content_block={"type": "text", "text": ""}
            )
            delta = {"type": "text_delta", "text": block["text"]}
            yield _event("content_block_delta", index=index, delta=delta)
        yield _event("content_block_stop", index=index)
    final = {"stop_reason": "end_turn", "stop_sequence": None}
    yield _event("message_delta", delta=final, usage={"output_tokens": usage["output_tokens"]})
    yield _event("message_stop")


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.requests = []
    return app
