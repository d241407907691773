"""A fake OpenAI-compatible `POST /v1/chat/completions` that returns log probabilities.

Shaped as OpenAI publishes them: with `"logprobs": true`, each choice carries
`logprobs: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}], "refusal": null}`
(`top_logprobs` entries up to the `top_logprobs` asked for); streamed, each chunk's choice
carries the logprobs of the tokens its delta holds. Deterministic: the answer is
"Echo: <last user text>" cut to `max_tokens` words; each word (with its leading space) is a
token whose logprob is `-0.25 * position`, and its alternatives are the same word in upper case
then with a "!", each less likely. Bodies are recorded in `app.state.requests`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "gpt-logprobs-upstream"


def _tokens(body: dict[str, Any]) -> list[str]:
    last = str(body["messages"][-1].get("content") or "")
    words = f"Echo: {last}".split()
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        words = words[: int(limit)]
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _entry(token: str, position: int, top: int) -> dict[str, Any]:
    logprob = -0.25 * position
    alternatives = [(token, logprob), (token.upper(), logprob - 1.0), (token + "!", logprob - 2.0)]
    alternatives += [(f"{token}#{k}", logprob - 3.0 - k) for k in range(max(0, top - 3))]
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode()),
        "top_logprobs": [
            {"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in alternatives[:top]
        ],
    }


def _logprobs(body: dict[str, Any], tokens: list[str], start: int) -> dict[str, Any] | None:
    if not body.get("logprobs"):
        return None
    top = int(body.get("top_logprobs") or 0)
    content = [_entry(t, start + i, top) for i, t in enumerate(tokens)]
    return {"content": content, "refusal": None}


async def chat_completions(request: Request) -> Response:
    body = json.loads(await request.body())
    request.app.state.requests.append(body)
    tokens = _tokens(body)
    usage = {"prompt_tokens": 3, "completion_tokens": len(tokens), "total_tokens": 3 + len(tokens)}
    if body.get("stream"):
        return StreamingResponse(_events(body, tokens, usage), media_type="text/event-stream")
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
        "logprobs": _logprobs(body, tokens, 0),
        "finish_reason": "stop",
    }
    base = {"id": "chatcmpl-lp", "object": "chat.completion", "created": 1700000000}
    return JSONResponse({**base, "model": MODEL, "choices": [choice], "usage": usage})


async def _events(
    body: dict[str, Any], tokens: list[str], usage: dict[str, int]
) -> AsyncIterator[str]:
    base = {"id": "chatcmpl-lp", "object": "chat.completion.chunk", "created": 1700000000}
    base["model"] = MODEL

    def chunk(delta: dict[str, Any], logprobs: Any, finish: str | None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"

    yield chunk({"role": "assistant", "content": ""}, None, None)
    for i in range(0, len(tokens), 2):  # two tokens a chunk
        pair = tokens[i : i + 2]
        yield chunk({"content": "".join(pair)}, _logprobs(body, pair, i), None)
    yield chunk({}, None, "stop")
    yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
    app.state.requests = []
    return app
