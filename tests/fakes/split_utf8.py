"""An OpenAI-compatible upstream whose bytes reach the network cut inside UTF-8 characters.

It always answers `ANSWER` (Chinese, an emoji, mixed scripts), streamed or whole, and writes
the body in pieces that each end one byte into a multi-byte character, pausing between them
so each piece arrives in its own network read: an adapter that decoded each read on its own
would show U+FFFD (or fail on the JSON). `app.state.pieces` records the pieces last sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

ANSWER = "春天🌸好 — naïve café, 春眠不觉晓 🌏!"
PAUSE = 0.02  # seconds between pieces: long enough for each to be its own read


def split_inside_characters(data: bytes) -> list[bytes]:
    """`data` cut one byte after the start of every multi-byte character."""
    cuts = [i + 1 for i, byte in enumerate(data) if byte >= 0xC0]
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-split",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 20, "total_tokens": 23},
    }


def _events(model: str) -> bytes:
    def event(data: dict[str, Any]) -> str:
        # ensure_ascii=False: the characters travel as raw UTF-8, not as \u escapes
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    base = {"id": "chatcmpl-split", "object": "chat.completion.chunk", "created": 1}
    words = ANSWER.split(" ")
    parts = [w if i == 0 else " " + w for i, w in enumerate(words)]
    out = []
    for i, part in enumerate(parts):
        delta: dict[str, Any] = {"content": part}
        if i == 0:
            delta["role"] = "assistant"
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        out.append(event({**base, "model": model, "choices": [choice]}))
    end = {"index": 0, "delta": {}, "finish_reason": "stop"}
    out.append(event({**base, "model": model, "choices": [end]}))
    usage = {"prompt_tokens": 3, "completion_tokens": 20, "total_tokens": 23}
    out.append(event({**base, "model": model, "choices": [], "usage": usage}))
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    model = str(body.get("model") or "split")
    if body.get("stream"):
        data, media = _events(model), "text/event-stream"
    else:
        data, media = (
            json.dumps(_completion(model), ensure_ascii=False).encode(),
            "application/json",
        )
    pieces = split_inside_characters(data)
    request.app.state.pieces = pieces

    async def paced() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece
            await asyncio.sleep(PAUSE)

    return StreamingResponse(paced(), media_type=media)


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
    app.state.pieces = []
    return app
