"""A fake Baidu Qianfan v1 server: OAuth tokens, wenxinworkshop chat, SSE streams.

Follows Baidu's behaviour where it matters to an adapter: tokens expire (`expires_in`), errors
arrive as `error_code`/`error_msg` inside an HTTP 200 body (also for `stream: true`), messages
must alternate user|function / assistant with an odd count, `temperature` must lie in (0, 1], and
streamed `usage` is cumulative. Magic words in the last message make it misbehave:
ERNIE_RATE_LIMIT (error 18), ERNIE_BUSY (336100), ERNIE_GARBAGE (a non-JSON body or event),
ERNIE_DROP (the stream stops before `is_end`), ERNIE_UNSAFE (`need_clear_history`, no answer).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ENDPOINTS = {"completions", "completions_pro", "eb-instant", "ernie_speed"}


@dataclass
class FakeErnie:
    credentials: dict[str, str] = field(default_factory=lambda: {"test-ak": "test-sk"})
    expires_in: int = 2592000
    token_requests: int = 0
    token_rejections: int = 0
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token → expiry (epoch seconds)

    def reset(self) -> None:
        self.expires_in = 2592000
        self.token_requests = self.token_rejections = 0
        self.chat_requests.clear()
        self.tokens.clear()

    def expire_all_tokens(self) -> None:
        for token in self.tokens:
            self.tokens[token] = 0.0

    # --- routes ---------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        q = request.query_params
        if q.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "unsupported grant type"},
                status_code=400,
            )
        secret = self.credentials.get(q.get("client_id", ""))
        if secret is None:
            return _oauth_error("unknown client id")
        if q.get("client_secret") != secret:
            return _oauth_error("Client authentication failed")
        token = "24." + secrets.token_hex(16)
        self.tokens[token] = time.time() + self.expires_in
        return JSONResponse(
            {
                "refresh_token": "25." + secrets.token_hex(16),
                "expires_in": self.expires_in,
                "session_key": secrets.token_hex(8),
                "access_token": token,
                "scope": "public brain_all_scope wenxinworkshop_mgr",
                "session_secret": secrets.token_hex(8),
            }
        )

    async def chat(self, request: Request) -> Response:
        expiry = self.tokens.get(request.query_params.get("access_token", ""))
        if expiry is None:
            self.token_rejections += 1
            return _error(110, "Access token invalid or no longer valid")
        if expiry < time.time():
            self.token_rejections += 1
            return _error(111, "Access token expired")
        if request.path_params["endpoint"] not in ENDPOINTS:
            return _error(3, "Unsupported openapi method")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(336002, "Invalid JSON")
        self.chat_requests.append(body)
        problem = _check(body)
        if problem:
            return _error(336003, problem)
        last = body["messages"][-1].get("content", "")
        if "ERNIE_RATE_LIMIT" in last:
            return _error(18, "Open api qps request limit reached")
        if "ERNIE_BUSY" in last:
            return _error(336100, "try again later")
        if "ERNIE_GARBAGE" in last and not body.get("stream"):
            return Response("<html>502 Bad Gateway</html>", media_type="text/html")
        answer = _answer(body)
        if "ERNIE_UNSAFE" in last:
            answer = _Answer([], answer.prompt_tokens, unsafe=True)
        if body.get("stream"):
            return StreamingResponse(_events(answer, last), media_type="text/event-stream")
        return JSONResponse(answer.whole())

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/2.0/token", self.token, methods=["POST"]),
                Route(
                    "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{endpoint}",
                    self.chat,
                    methods=["POST"],
                ),
            ]
        )


def _oauth_error(description: str) -> Response:
    return JSONResponse({"error": "invalid_client", "error_description": description}, 401)


def _error(code: int, message: str) -> Response:
    return JSONResponse({"error_code": code, "error_msg": message})


def _check(body: dict[str, Any]) -> str | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages is empty"
    if len(messages) % 2 == 0:
        return "the length of messages must be an odd number"
    for i, m in enumerate(messages):
        role = m.get("role")
        if i % 2 == 0 and role not in ("user", "function"):
            return "the role of message with even index in the messages must be user or function"
        if i % 2 == 1 and role != "assistant":
            return "the role of message with odd index in the messages must be assistant"
        if role == "function" and not m.get("name"):
            return "the name of function message must not be empty"
        if not m.get("content") and not m.get("function_call"):
            return f"the content of message {i} must not be empty"
    if messages[0]["role"] == "function":
        return "the role of the first message must not be function"
    temperature = body.get("temperature")
    if temperature is not None and not 0 < temperature <= 1:
        return "temperature range is (0, 1.0]"
    penalty = body.get("penalty_score")
    if penalty is not None and not 1 <= penalty <= 2:
        return "penalty_score range is [1.0, 2.0]"
    max_out = body.get("max_output_tokens")
    if max_out is not None and not 2 <= max_out <= 2048:
        return "max_output_tokens range is [2, 2048]"
    for function in body.get("functions") or []:
        if not {"name", "description", "parameters"} <= function.keys():
            return "functions need name, description and parameters"
    return None


@dataclass
class _Answer:
    words: list[str]
    prompt_tokens: int
    truncated: bool = False
    function_call: dict[str, str] | None = None
    unsafe: bool = False

    def finish(self) -> str:
        if self.function_call:
            return "function_call"
        return "length" if self.truncated else "normal"

    def usage(self, completion: int) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }

    def whole(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": "as-" + secrets.token_hex(5),
            "object": "chat.completion",
            "created": int(time.time()),
            "result": " ".join(self.words),
            "is_truncated": self.truncated,
            "need_clear_history": self.unsafe,
            "finish_reason": self.finish(),
            "usage": self.usage(len(self.words)),
        }
        if self.unsafe:
            out["ban_round"] = -1
        if self.function_call:
            out["function_call"] = self.function_call
        return out


def _answer(body: dict[str, Any]) -> _Answer:
    """Deterministic replies; one word = one token, so tests can predict usage."""
    messages = body["messages"]
    prompt_text = " ".join([body.get("system", "")] + [m.get("content", "") for m in messages])
    prompt_tokens = len(prompt_text.split())
    last = messages[-1]
    functions = body.get("functions") or []
    if last["role"] == "function":
        words = f"The function {last['name']} said: {last['content']}".split()
    elif functions:
        call = {
            "name": functions[0]["name"],
            "thoughts": "I should call a function.",
            "arguments": json.dumps({"query": last["content"]}),
        }
        return _Answer([], prompt_tokens, function_call=call)
    else:
        words = f"You said: {last['content']}".split()
    limit = body.get("max_output_tokens")
    if limit is not None and len(words) > limit:
        return _Answer(words[:limit], prompt_tokens, truncated=True)
    return _Answer(words, prompt_tokens)


async def _events(answer: _Answer, prompt: str) -> AsyncIterator[bytes]:
    base = {"id": "as-" + secrets.token_hex(5), "object": "chat.completion", "created": 0}
    if answer.function_call:
        pieces: list[list[str]] = [[]]
    else:
        pieces = [answer.words[i : i + 2] for i in range(0, len(answer.words), 2)] or [[]]
    sent = 0
    for n, piece in enumerate(pieces):
        if "ERNIE_GARBAGE" in prompt and n == 1:
            yield b'data: {"id": "as-1", "result": \n\n'
            return
        if "ERNIE_DROP" in prompt and n == 1:
            return
        sent += len(piece)
        is_end = n == len(pieces) - 1
        event: dict[str, Any] = {
            **base,
            "sentence_id": n,
            "is_end": is_end,
            "is_truncated": answer.truncated and is_end,
            "result": (" " if n else "") + " ".join(piece),
            "need_clear_history": answer.unsafe,
            "finish_reason": answer.finish() if is_end else "normal",
            "usage": answer.usage(sent),  # cumulative, as Baidu sends it
        }
        if answer.function_call and is_end:
            event["function_call"] = answer.function_call
        yield f"data: {json.dumps(event)}\n\n".encode()
        await asyncio.sleep(0)
