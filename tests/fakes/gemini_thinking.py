"""A fake Gemini `generateContent` / `streamGenerateContent` of a thinking model.

Shaped as Google documents thinking: `generationConfig.thinkingConfig.thinkingBudget` (an
integer, checked to be within 0..24576 like 2.5 Flash's) and `includeThoughts`; with
`includeThoughts`, the candidate's parts open with a thought summary part
(`{"text": "Thinking about <last user text>.", "thought": true}`), then the answer
"Answer: <last user text>". Streamed (`alt=sse`), the thought and the answer come as separate
events, the last with `finishReason`. `usageMetadata`: `promptTokenCount` 10 of which
`cachedContentTokenCount` 6, `candidatesTokenCount` the answer's words and
`thoughtsTokenCount` the thought's words. Bodies are recorded in `app.state.requests`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _last_text(body: dict[str, Any]) -> str:
    parts = body["contents"][-1]["parts"]
    return "".join(str(p.get("text") or "") for p in parts)


def _usage(thought: str, answer: str) -> dict[str, int]:
    thoughts, said = len(thought.split()), len(answer.split())
    usage = {"promptTokenCount": 10, "cachedContentTokenCount": 6, "candidatesTokenCount": said}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["totalTokenCount"] = 10 + said + thoughts
    return usage


async def generate(request: Request) -> Response:
    _, _, method = request.path_params["target"].partition(":")
    body = json.loads(await request.body())
    request.app.state.requests.append(body)
    thinking = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    budget = thinking.get("thinkingBudget", -1)
    if not isinstance(budget, int) or not -1 <= budget <= 24576:
        status = {
            "code": 400,
            "message": "thinking budget out of range",
            "status": "INVALID_ARGUMENT",
        }
        return JSONResponse({"error": status}, status_code=400)
    last = _last_text(body)
    thought = f"Thinking about {last}." if thinking.get("includeThoughts") else ""
    answer = f"Answer: {last}"
    usage = _usage(thought, answer)
    thought_parts = [{"text": thought, "thought": True}] if thought else []
    if method == "streamGenerateContent":
        return StreamingResponse(
            _events(thought_parts, answer, usage), media_type="text/event-stream"
        )
    candidate = {
        "content": {"role": "model", "parts": [*thought_parts, {"text": answer}]},
        "finishReason": "STOP",
        "index": 0,
    }
    return JSONResponse({"candidates": [candidate], "usageMetadata": usage, "modelVersion": "g"})


async def _events(
    thought_parts: list[dict[str, Any]], answer: str, usage: dict[str, int]
) -> AsyncIterator[str]:
    def event(parts: list[dict[str, Any]], finish: str | None) -> str:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return f"data: {json.dumps({'candidates': [candidate], 'usageMetadata': usage})}\n\n"

    if thought_parts:
        yield event(thought_parts, None)
    yield event([{"text": answer}], "STOP")


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1beta/models/{target:path}", generate, methods=["POST"])])
    app.state.requests = []
    return app
