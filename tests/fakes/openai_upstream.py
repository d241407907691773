"""A fake OpenAI-compatible `POST /v1/chat/completions` server (OpenAI, vLLM, DeepSeek...).

Deterministic: it answers "Echo: <last user text>", or calls the first (or the forced)
function when tools are declared and the user text contains "call". Words are tokens, so
`max_tokens` and usage are predictable. Every request body is recorded in `app.state.requests`.

Misbehaviour, by header `x-fake-fault: <name>` or `FAULT:<name>` in the last user text:
`429` (with retry-after), `quota` (429 `insufficient_quota`), `500`, `503`, `garbage` (a
body or event that is not JSON), `truncate` (the stream stops without a finish or [DONE]),
`reset` (the connection drops after the first bytes), `midstream-error` (an
`{"error": ...}` event inside the stream),
`slow` (a five-second stream that records in `app.state.abandoned` if the client left early),
`stall` (nothing for `app.state.stall_seconds`: before the response, or for a stream after
its headers). `app.state.key_faults` maps an API key to a fault every request with that key
gets, so one fake can play a healthy and a failing channel at once.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_KEYS = frozenset({"sk-test-1", "sk-test-2"})
_FAULT = re.compile(r"FAULT:([\w-]+)")


class ConnectionReset(Exception):
    """Raised inside a streaming body so the server drops the connection mid-response."""


def fault_of(request: Request, text: str) -> str | None:
    match = _FAULT.search(text)
    return request.headers.get("x-fake-fault") or (match.group(1) if match else None)


def _error(status: int, message: str, type: str, code: str | None = None, **kw: Any) -> Response:
    body = {"error": {"message": message, "type": type, "param": kw.get("param"), "code": code}}
    return JSONResponse(body, status_code=status, headers=kw.get("headers"))


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    """What the model 'says': content or a function call, finish reason and token counts."""
    messages = body["messages"]
    last_user = next((_text_of(m) for m in reversed(messages) if m.get("role") == "user"), "")
    prompt_tokens = sum(len(_text_of(m).split()) for m in messages)
    functions = [t["function"] for t in body.get("tools") or [] if t.get("type") == "function"]
    legacy = body.get("functions") or []
    choice = body.get("tool_choice", body.get("function_call"))
    forced = None
    if isinstance(choice, dict):
        forced = (choice.get("function") or choice).get("name")
    declared = functions or legacy
    if declared and choice != "none" and (forced or choice == "required" or "call" in last_user):
        name = forced or declared[0]["name"]
        arguments = json.dumps({"query": last_user, "unit": "celsius", "limit": 3})
        return {
            "call": {"name": name, "arguments": arguments},
            "legacy": bool(legacy),
            "finish": "function_call" if legacy else "tool_calls",
            "usage": (prompt_tokens, max(1, len(arguments) // 4)),
        }
    words = f"Echo: {last_user}".split()
    finish = "stop"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None and len(words) > limit:
        words, finish = words[:limit], "length"
    content = " ".join(words)
    stops = body.get("stop")
    for stop in [stops] if isinstance(stops, str) else stops or []:
        if stop in content:
            content, finish = content[: content.index(stop)], "stop"
    return {"content": content, "finish": finish, "usage": (prompt_tokens, len(content.split()))}


def _usage(answer: dict[str, Any], n: int) -> dict[str, int]:
    prompt, completion = answer["usage"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion * n,
        "total_tokens": prompt + completion * n,
    }


def _message(answer: dict[str, Any], index: int) -> dict[str, Any]:
    call = answer.get("call")
    message: dict[str, Any] = {"role": "assistant", "content": answer.get("content")}
    if call and answer["legacy"]:
        message["function_call"] = call
    elif call:
        message["tool_calls"] = [{"id": f"call_fake{index}", "type": "function", "function": call}]
    return message


def _validate(body: Any) -> Response | None:
    if not isinstance(body, dict):
        return _error(
            400, "We could not parse the JSON body of your request.", "invalid_request_error"
        )
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _error(
            400, "you must provide a model parameter", "invalid_request_error", param="model"
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        msg = "[] is too short - 'messages'"
        return _error(400, msg, "invalid_request_error", param="messages")
    roles = {"system", "developer", "user", "assistant", "tool", "function"}
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in roles:
            msg = f"Invalid value for 'messages[{i}].role'"
            return _error(400, msg, "invalid_request_error", param=f"messages[{i}].role")
    return None


async def chat_completions(request: Request) -> Response:
    keys: frozenset[str] = request.app.state.keys
    auth = request.headers.get("authorization", "")
    key = auth.removeprefix("Bearer ").strip()
    if not auth.startswith("Bearer ") or key not in keys:
        msg = f"Incorrect API key provided: {key[:6]}***. You can find your API key at ..."
        return _error(401, msg, "invalid_request_error", "invalid_api_key")
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    invalid = _validate(body)
    if invalid is not None:
        return invalid
    peer = request.client.port if request.client else None  # shows connection reuse
    request.app.state.requests.append({"key": key, "body": body, "peer": peer})
    messages = body["messages"]
    last_user = next((_text_of(m) for m in reversed(messages) if m.get("role") == "user"), "")
    fault = fault_of(request, last_user) or request.app.state.key_faults.get(key)
    if fault == "stall" and not body.get("stream"):
        await asyncio.sleep(request.app.state.stall_seconds)
    if fault == "429":
        msg = "Rate limit reached for requests"
        return _error(429, msg, "requests", "rate_limit_exceeded", headers={"retry-after": "2"})
    if fault == "quota":  # OpenAI's answer once an account's credit is spent
        msg = (
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return _error(429, msg, "insufficient_quota", "insufficient_quota")
    if fault in ("500", "503"):
        return _error(
            int(fault), "The server had an error while processing your request.", "server_error"
        )
    if fault == "garbage" and not body.get("stream"):
        return Response("<html>502 Bad Gateway</html>", media_type="application/json")
    if fault == "reset" and not body.get("stream"):
        return StreamingResponse(_reset_body(), media_type="application/json")
    answer = _answer(body)
    n = int(body.get("n") or 1)
    if body.get("stream"):
        events = _slow_events(request.app.state.abandoned) if fault == "slow" else None
        events = events or _events(body, answer, n, fault)
        if fault == "stall":
            events = _stalled(events, request.app.state.stall_seconds)
        return StreamingResponse(events, media_type="text/event-stream")
    return JSONResponse(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "service_tier": "default",  # a field our wire types do not declare
            "choices": [
                {
                    "index": i,
                    "message": {**_message(answer, i), "refusal": None},
                    "logprobs": None,
                    "finish_reason": answer["finish"],
                }
                for i in range(n)
            ],
            "usage": {**_usage(answer, n), "prompt_tokens_details": {"cached_tokens": 0}},
        }
    )


async def _reset_body() -> AsyncIterator[bytes]:
    yield b'{"id": "chatcmpl-fake", "choi'
    raise ConnectionReset


def _sse(data: Any) -> str:
    return f"data: {json.dumps(data)}\n\n"


async def _events(
    body: dict[str, Any], answer: dict[str, Any], n: int, fault: str | None
) -> AsyncIterator[str]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000}
    base["model"] = body["model"]

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice]})

    for index in range(n):
        yield chunk(index, {"role": "assistant", "content": ""})
        if fault == "reset":
            raise ConnectionReset
        if fault == "garbage":
            yield "data: {this is not json\n\n"
        if fault == "midstream-error":
            yield _sse({"error": {"message": "The server had an error", "type": "server_error"}})
        call = answer.get("call")
        if call is None:
            for i, word in enumerate(answer["content"].split(" ")):
                yield chunk(index, {"content": word if i == 0 else " " + word})
                if fault == "truncate":
                    return
        else:
            args = call["arguments"]
            fragments = [args[i : i + 7] for i in range(0, len(args), 7)]
            if answer["legacy"]:
                yield chunk(index, {"function_call": {"name": call["name"], "arguments": ""}})
                for fragment in fragments:
                    yield chunk(index, {"function_call": {"arguments": fragment}})
            else:
                first = {"index": 0, "id": f"call_fake{index}", "type": "function"}
                first["function"] = {"name": call["name"], "arguments": ""}
                yield chunk(index, {"tool_calls": [first]})
                for fragment in fragments:
                    yield chunk(
                        index, {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}
                    )
                    if fault == "truncate":
                        return
        yield chunk(index, {}, answer["finish"])
    if (body.get("stream_options") or {}).get("include_usage"):
        yield _sse({**base, "choices": [], "usage": _usage(answer, n)})
    yield "data: [DONE]\n\n"


async def _stalled(events: AsyncIterator[str], seconds: float) -> AsyncIterator[str]:
    await asyncio.sleep(seconds)
    async for item in events:
        yield item


async def _slow_events(abandoned: list[bool]) -> AsyncIterator[str]:
    """A long stream that notes whether the client walked away before its end."""
    finished = False
    try:
        for _ in range(500):
            yield _sse(
                {"id": "chatcmpl-slow", "choices": [{"index": 0, "delta": {"content": "."}}]}
            )
            await asyncio.sleep(0.01)
        finished = True
    finally:
        abandoned.append(not finished)


def create_app(keys: frozenset[str] = DEFAULT_KEYS) -> Starlette:
    app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
    app.state.keys = keys
    app.state.requests = []
    app.state.abandoned = []
    app.state.key_faults = {}
    app.state.stall_seconds = 3.0
    return app
