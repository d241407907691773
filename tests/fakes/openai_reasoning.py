"""A fake OpenAI-compatible `POST /v1/chat/completions` of a reasoning model.

Two published spellings of the reasoning, chosen by the upstream model name: a model whose
name starts with `deepseek` answers as DeepSeek does (`reasoning_content` in the message and
in the stream's deltas); any other answers as vLLM does since it renamed the field
(`reasoning`). The reasoning is "Thinking about <last user text>." and the answer
"Answer: <last user text>"; streamed, each word is one delta, reasoning first.

Usage carries OpenAI's breakdowns: `prompt_tokens` 10 of which `prompt_tokens_details.
cached_tokens` 6, and `completion_tokens` the words of reasoning and answer, of which
`completion_tokens_details.reasoning_tokens` the reasoning's. Bodies are recorded in
`app.state.requests`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PROMPT_TOKENS = 10
CACHED_TOKENS = 6


def _texts(body: dict[str, Any]) -> tuple[str, str]:
    last = str(body["messages"][-1].get("content") or "")
    return f"Thinking about {last}.", f"Answer: {last}"


def _field(body: dict[str, Any]) -> str:
    return "reasoning_content" if str(body["model"]).startswith("deepseek") else "reasoning"


def _usage(reasoning: str, answer: str) -> dict[str, Any]:
    thought, said = len(reasoning.split()), len(answer.split())
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": thought + said,
        "total_tokens": PROMPT_TOKENS + thought + said,
        "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": thought, "audio_tokens": 0},
    }


async def chat_completions(request: Request) -> Response:
    body = json.loads(await request.body())
    request.app.state.requests.append(body)
    reasoning, answer = _texts(body)
    usage = _usage(reasoning, answer)
    if body.get("stream"):
        events = _events(body, reasoning, answer, usage)
        return StreamingResponse(events, media_type="text/event-stream")
    message = {"role": "assistant", "content": answer, _field(body): reasoning}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    base = {"id": "chatcmpl-think", "object": "chat.completion", "created": 1700000000}
    return JSONResponse({**base, "model": body["model"], "choices": [choice], "usage": usage})


async def _events(
    body: dict[str, Any], reasoning: str, answer: str, usage: dict[str, Any]
) -> AsyncIterator[str]:
    base = {"id": "chatcmpl-think", "object": "chat.completion.chunk", "created": 1700000000}
    base["model"] = body["model"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for i, word in enumerate(reasoning.split()):
        yield chunk({_field(body): word if i == 0 else " " + word, "content": None})
    for i, word in enumerate(answer.split()):
        yield chunk({"content": word if i == 0 else " " + word})
    yield chunk({}, "stop")
    yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"


def create_app() -> Starlette:
    app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
    app.state.requests = []
    return app
