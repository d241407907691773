"""A fake Anthropic Messages API (`POST /v1/messages`), strict the way the real one is.

Checks `x-api-key` (401 `authentication_error`) and `anthropic-version`, and rejects what
Anthropic rejects: a missing `max_tokens`, a `system` role inside `messages`, roles that do not
alternate or do not start with `user`, empty text blocks, a `tool_result` without its
`tool_use` in the previous turn, `temperature` above 1, `tool_choice` without tools.

Deterministic: the answer is "Echo: <last user text>"; with tools and "call" in the text (or a
forced tool_choice) it says "Let me check." and calls the tool (twice for "twice", unless
parallel tool use is disabled); after a tool_result it answers "Result: <content>". Words are
tokens. Bodies are recorded in `app.state.requests`.

Misbehaviour, by header `x-fake-fault` or `FAULT:<name>` in the last user text: `429`
(rate_limit_error with retry-after), `500` (api_error), `529` (overloaded_error), `garbage`,
`truncate` (no message_stop), `reset` (connection dropped), `stream-overloaded` (an `error`
event mid-stream, as Anthropic sends when it is overloaded after the 200).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_KEYS = frozenset({"sk-ant-test-1", "sk-ant-test-2"})
_FAULT = re.compile(r"FAULT:([\w-]+)")


class ConnectionReset(Exception):
    """Raised inside a streaming body so the server drops the connection mid-response."""


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _validate_messages(messages: Any, tools: list[Any]) -> None:
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: at least one message is required")
    previous: dict[str, Any] | None = None
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise Invalid(
                f'messages: Unexpected role "{role}". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if i == 0 and role != "user":
            raise Invalid('messages: first message must use the "user" role')
        if previous is not None and previous["role"] == role:
            raise Invalid(
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        blocks = _blocks(message.get("content"))
        for j, block in enumerate(blocks):
            if block.get("type") == "text" and not block.get("text"):
                raise Invalid(
                    f"messages.{i}.content.{j}.text: text content blocks must be non-empty"
                )
        asked = (
            {b["id"] for b in _blocks(previous["content"]) if b.get("type") == "tool_use"}
            if previous
            else set()
        )
        answered = [b for b in blocks if b.get("type") == "tool_result"]
        for j, block in enumerate(answered):
            if block.get("tool_use_id") not in asked:
                raise Invalid(
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                    "blocks. Each `tool_result` block must have a corresponding `tool_use` "
                    "block in the previous message."
                )
        if asked and {b.get("tool_use_id") for b in answered} != asked:
            raise Invalid(
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                "immediately after"
            )
        if answered and blocks[0].get("type") != "tool_result":
            raise Invalid(f"messages.{i}: tool_result blocks must come first in the content")
        if any(b.get("type") == "tool_use" for b in blocks) and not tools:
            raise Invalid("Requests which include `tool_use` blocks must define tools.")
        previous = message


def _validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise Invalid("Request body must be a JSON object")
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise Invalid(f"{name}: Field required")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        raise Invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        raise Invalid("temperature: range: 0 <= temperature <= 1")
    tools = body.get("tools") or []
    if body.get("tool_choice") is not None and not tools:
        raise Invalid("tool_choice may only be specified while providing tools.")
    for i, tool in enumerate(tools):
        if "name" not in tool or "input_schema" not in tool:
            raise Invalid(f"tools.{i}: name and input_schema are required")
    _validate_messages(body["messages"], tools)


def _text(message: dict[str, Any]) -> str:
    return " ".join(b["text"] for b in _blocks(message["content"]) if b.get("type") == "text")


def _answer(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str | None, int]:
    """(content blocks, stop_reason, stop_sequence, input tokens)."""
    last = body["messages"][-1]
    system = body.get("system") or ""
    system_text = system if isinstance(system, str) else " ".join(b["text"] for b in system)
    input_tokens = len(system_text.split()) + sum(len(_text(m).split()) for m in body["messages"])
    results = [b for b in _blocks(last["content"]) if b.get("type") == "tool_result"]
    text = _text(last) if last["role"] == "user" else ""
    tools = body.get("tools") or []
    choice = body.get("tool_choice") or {"type": "auto"}
    wants = choice["type"] in ("any", "tool") or "call" in text
    if tools and not results and choice["type"] != "none" and wants:
        name = choice.get("name") or tools[0]["name"]
        count = 2 if "twice" in text and not choice.get("disable_parallel_tool_use") else 1
        calls = [
            {
                "type": "tool_use",
                "id": f"toolu_fake{i}",
                "name": name,
                "input": {"query": text, "unit": "celsius", "limit": 3 + i},
            }
            for i in range(count)
        ]
        return [{"type": "text", "text": "Let me check."}, *calls], "tool_use", None, input_tokens
    if results:
        content = results[0].get("content")
        words = f"Result: {content if isinstance(content, str) else json.dumps(content)}".split()
    else:
        words = f"Echo: {text}".split()
    stop_reason, stop_sequence = "end_turn", None
    if len(words) > body["max_tokens"]:
        words, stop_reason = words[: body["max_tokens"]], "max_tokens"
    answer = " ".join(words)
    for stop in body.get("stop_sequences") or []:
        if stop in answer:
            answer, stop_reason, stop_sequence = answer[: answer.index(stop)], "stop_sequence", stop
    return [{"type": "text", "text": answer}], stop_reason, stop_sequence, input_tokens


def _output_tokens(blocks: list[dict[str, Any]]) -> int:
    return sum(
        len(b["text"].split()) if b["type"] == "text" else len(json.dumps(b["input"])) // 4
        for b in blocks
    )


async def messages(request: Request) -> Response:
    key = request.headers.get("x-api-key")
    if key not in request.app.state.keys:
        return _error(401, "authentication_error", "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return _error(400, "invalid_request_error", "anthropic-version: header is required")
    try:
        body = json.loads(await request.body())
        _validate(body)
    except ValueError:
        return _error(400, "invalid_request_error", "There was an issue with the JSON body")
    except Invalid as exc:
        return _error(400, "invalid_request_error", exc.message)
    request.app.state.requests.append({"key": key, "body": body, "headers": dict(request.headers)})
    match = _FAULT.search(_text(body["messages"][-1]))
    fault = request.headers.get("x-fake-fault") or (match.group(1) if match else None)
    if fault == "429":
        msg = "Number of request tokens has exceeded your per-minute rate limit"
        return _error(429, "rate_limit_error", msg, headers={"retry-after": "3"})
    if fault == "500":
        return _error(500, "api_error", "Internal server error")
    if fault == "529":
        return _error(529, "overloaded_error", "Overloaded")
    if fault == "garbage" and not body.get("stream"):
        return Response("upstream connect error or disconnect/reset", media_type="application/json")
    if fault == "reset" and not body.get("stream"):
        return StreamingResponse(_reset_body(), media_type="application/json")
    blocks, stop_reason, stop_sequence, input_tokens = _answer(body)
    message = {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": _output_tokens(blocks),
        },
    }
    if body.get("stream"):
        return StreamingResponse(_events(message, fault), media_type="text/event-stream")
    return JSONResponse(message)


async def _reset_body() -> AsyncIterator[bytes]:
    yield b'{"id": "msg_fake01", "type": "mess'
    raise ConnectionReset


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


async def _events(message: dict[str, Any], fault: str | None) -> AsyncIterator[str]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    yield _event("message_start", message={**start, "usage": {**usage, "output_tokens": 1}})
    if fault == "reset":
        raise ConnectionReset
    if fault == "garbage":
        yield "event: content_block_delta\ndata: {oops\n\n"
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield _event(
                "content_block_start", index=index, content_block={"type": "text", "text": ""}
            )
            if index == 0:
                yield _event("ping")
            for i, word in enumerate(block["text"].split(" ")):
                piece = word if i == 0 else " " + word
                yield _event(
                    "content_block_delta", index=index, delta={"type": "text_delta", "text": piece}
                )
                if fault == "truncate":
                    return
                if fault == "stream-overloaded":
                    error = {"type": "overloaded_error", "message": "Overloaded"}
                    yield _event("error", error=error)
                    return
        else:
            start_block = {
                "type": "tool_use",
                "id": block["id"],
                "name": block["name"],
                "input": {},
            }
            yield _event("content_block_start", index=index, content_block=start_block)
            arguments = json.dumps(block["input"])
            yield _event(
                "content_block_delta",
                index=index,
                delta={"type": "input_json_delta", "partial_json": ""},
            )
            for i in range(0, len(arguments), 6):
                delta = {"type": "input_json_delta", "partial_json": arguments[i : i + 6]}
                yield _event("content_block_delta", index=index, delta=delta)
        yield _event("content_block_stop", index=index)
    final = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    yield _event("message_delta", delta=final, usage={"output_tokens": usage["output_tokens"]})
    yield _event("message_stop")


def create_app(keys: frozenset[str] = DEFAULT_KEYS) -> Starlette:
    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
    app.state.keys = keys
    app.state.requests = []
    return app
