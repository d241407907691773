"""A fake OpenAI-compatible `POST /v1/completions` (the legacy text completions endpoint),
added to the fake chat upstream (`openai_upstream.py`) with `install(app)`.

Shaped as OpenAI publishes it: `text_completion` objects, `choices[].text`, `logprobs: null`,
`finish_reason`; a stream of `text_completion` events, a usage-only event when
`stream_options.include_usage` asks, then `[DONE]`. Deterministic: the text is
" continued: <prompt>", words are tokens (so `max_tokens` and usage are predictable), `stop`
cuts the text, `echo` puts the prompt first. Bodies are recorded in `app.state.completions`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

BASE = {"id": "cmpl-fake", "object": "text_completion", "created": 1700000000}


def _text(prompt: str, body: dict[str, Any]) -> tuple[str, str]:
    words = f" continued: {prompt}".split(" ")
    finish = "stop"
    limit = int(body.get("max_tokens") or 16)
    if len(words) - 1 > limit:
        words, finish = words[: limit + 1], "length"
    text = " ".join(words)
    stops = body.get("stop")
    for stop in [stops] if isinstance(stops, str) else stops or []:
        if stop in text:
            text, finish = text[: text.index(stop)], "stop"
    if body.get("echo"):
        text = prompt + text
    return text, finish


def _usage(prompts: list[str], texts: list[str]) -> dict[str, int]:
    prompt = sum(len(p.split()) for p in prompts)
    completion = sum(len(t.split()) for t in texts)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def completions(request: Request) -> Response:
    if (
        request.headers.get("authorization", "").removeprefix("Bearer ")
        not in request.app.state.keys
    ):
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        return JSONResponse({"error": {**error, "code": "invalid_api_key"}}, status_code=401)
    body = json.loads(await request.body())
    request.app.state.completions.append(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, (str, list)) or not prompt:
        error = {
            "message": "prompt is required",
            "type": "invalid_request_error",
            "param": "prompt",
        }
        return JSONResponse({"error": error}, status_code=400)
    prompts = [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]
    n = int(body.get("n") or 1)
    answers = [_text(p, body) for p in prompts for _ in range(n)]
    usage = _usage(prompts, [text for text, _ in answers])
    base = {**BASE, "model": body["model"]}
    if body.get("stream"):
        return StreamingResponse(
            _events(base, body, answers, usage), media_type="text/event-stream"
        )
    choices = [
        {"text": text, "index": i, "logprobs": None, "finish_reason": finish}
        for i, (text, finish) in enumerate(answers)
    ]
    return JSONResponse({**base, "choices": choices, "usage": usage})


def _sse(data: Any) -> str:
    return f"data: {json.dumps(data)}\n\n"


async def _events(
    base: dict[str, Any], body: dict[str, Any], answers: list[tuple[str, str]], usage: Any
) -> AsyncIterator[str]:
    for index, (text, finish) in enumerate(answers):
        for i, word in enumerate(text.split(" ")):
            piece = word if i == 0 else " " + word
            choice = {"text": piece, "index": index, "logprobs": None, "finish_reason": None}
            yield _sse({**base, "choices": [choice]})
        choice = {"text": "", "index": index, "logprobs": None, "finish_reason": finish}
        yield _sse({**base, "choices": [choice]})
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _sse({**base, "choices": [], "usage": usage})
    yield "data: [DONE]\n\n"


def install(app: Starlette) -> Starlette:
    """Serve `/v1/completions` on the fake chat upstream too (its keys are the same)."""
    app.router.routes.append(Route("/v1/completions", completions, methods=["POST"]))
    app.state.completions = []
    return app
