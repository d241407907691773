"""A fake iFlytek Spark chat server over WebSocket.

Authenticates the way iFlytek's gateway does before upgrading: the `authorization`, `date` and
`host` query parameters, an HMAC-SHA256 signature over `host`, `date` and the request line
(401 when it does not match), and a date within 300 s of the server clock (403 otherwise).
Then it checks `header.app_id`, that `parameter.chat.domain` matches the version path, and the
parameter ranges, answering with frames whose `header.status`/`payload.choices.status` run
0 → 1 → 2 with usage on the last. Magic words in the last user message make it misbehave:
SPARK_RATE_LIMIT (11202), SPARK_BUSY (10110), SPARK_AUDIT (10013), SPARK_GARBAGE (a non-JSON
frame mid-answer), SPARK_DROP (the connection closes mid-answer).

`scripted` is a bare Spark-like server for what the fake cannot stage: it answers with the
frames, silences and closes it is given, without checking anything.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.server import ServerConnection, serve

DOMAINS = {
    "/v1.1/chat": "lite",
    "/v2.1/chat": "generalv2",
    "/v3.1/chat": "generalv3",
    "/v3.5/chat": "generalv3.5",
    "/v4.0/chat": "4.0Ultra",
    "/chat/pro-128k": "pro-128k",
    "/chat/max-32k": "max-32k",
}
MAX_SKEW_SECONDS = 300
_PAIR = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class FakeSpark:
    app_id: str = "app12345"
    api_key: str = "test-api-key"
    api_secret: str = "test-api-secret"
    handshakes: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.handshakes = 0
        self.requests.clear()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                WebSocketRoute("/{version}/chat", self.chat),
                WebSocketRoute("/chat/{name}", self.chat),
            ]
        )

    async def chat(self, ws: WebSocket) -> None:
        self.handshakes += 1
        denial = self._authenticate(ws)
        if denial is not None:
            await ws.send_denial_response(denial)
            return
        await ws.accept()
        try:
            body = json.loads(await asyncio.wait_for(ws.receive_text(), 60))
        except ValueError:
            await _fail(ws, 10003, "user message format error")
            return
        self.requests.append(body)
        problem = self._check(body, DOMAINS[ws.url.path])
        if problem is not None:
            await _fail(ws, *problem)
            return
        await _answer(ws, body)

    def _authenticate(self, ws: WebSocket) -> JSONResponse | None:
        q = ws.query_params
        authorization, date, host = q.get("authorization"), q.get("date"), q.get("host")
        if not (authorization and date and host):
            return JSONResponse({"message": "Unauthorized"}, 401)
        if ws.url.path not in DOMAINS:
            return JSONResponse({"message": "no Route matched with those values"}, 404)
        try:
            skew = abs(time.time() - parsedate_to_datetime(date).timestamp())
        except (TypeError, ValueError):
            skew = float("inf")
        if skew > MAX_SKEW_SECONDS:
            return JSONResponse(
                {
                    "message": "HMAC signature cannot be verified, a valid date or x-date header "
                    "is required for HMAC Authentication"
                },
                403,
            )
        try:
            fields = dict(_PAIR.findall(base64.b64decode(authorization).decode()))
        except ValueError:
            fields = {}
        if fields.get("api_key") != self.api_key:
            return JSONResponse({"message": "HMAC signature cannot be verified"}, 401)
        origin = f"host: {host}\ndate: {date}\nGET {ws.url.path} HTTP/1.1"
        digest = hmac.new(self.api_secret.encode(), origin.encode(), hashlib.sha256).digest()
        if (
            fields.get("algorithm") != "hmac-sha256"
            or fields.get("headers") != "host date request-line"
            or host != ws.headers.get("host")
            or not hmac.compare_digest(
                fields.get("signature", ""), base64.b64encode(digest).decode()
            )
        ):
            return JSONResponse({"message": "HMAC signature does not match"}, 401)
        return None

    def _check(self, body: dict[str, Any], domain: str) -> tuple[int, str] | None:
        try:
            app_id = body["header"]["app_id"]
            chat = body["parameter"]["chat"]
            text = body["payload"]["message"]["text"]
        except (KeyError, TypeError):
            return 10004, "user data schema error"
        if app_id != self.app_id:
            return 11200, "auth error: this appId has no authorisation for the feature"
        if chat.get("domain") != domain:
            return 10005, f"parameter.chat.domain must be {domain} on this path"
        if not isinstance(text, list) or not text or text[-1].get("role") != "user":
            return 10004, "payload.message.text must end with a user message"
        for i, m in enumerate(text):
            if m.get("role") not in ("system", "user", "assistant") or (
                m["role"] == "system" and i != 0
            ):
                return 10004, f"invalid role in payload.message.text[{i}]"
        temperature = chat.get("temperature")
        if temperature is not None and not 0 < temperature <= 1:
            return 10005, "temperature must be in (0, 1]"
        top_k = chat.get("top_k")
        if top_k is not None and not 1 <= top_k <= 6:
            return 10005, "top_k must be in [1, 6]"
        max_tokens = chat.get("max_tokens")
        if max_tokens is not None and not 1 <= max_tokens <= 8192:
            return 10005, "max_tokens must be in [1, 8192]"
        return None


async def _fail(ws: WebSocket, code: int, message: str) -> None:
    sid = "cht" + secrets.token_hex(8)
    await ws.send_text(
        json.dumps({"header": {"code": code, "message": message, "sid": sid, "status": 2}})
    )
    await ws.close()


async def _answer(ws: WebSocket, body: dict[str, Any]) -> None:
    text = body["payload"]["message"]["text"]
    last = text[-1]["content"]
    for word, code, message in (
        ("SPARK_RATE_LIMIT", 11202, "auth error: per-second flow limit exceeded"),
        ("SPARK_BUSY", 10110, "service busy, try again later"),
        ("SPARK_AUDIT", 10013, "input failed content review"),
    ):
        if word in last:
            await _fail(ws, code, message)
            return
    functions = (body["payload"].get("functions") or {}).get("text") or []
    prompt_tokens = sum(len(m["content"].split()) for m in text)
    sid = "cht" + secrets.token_hex(8)
    if functions and "returned]" not in last:
        call = {"name": functions[0]["name"], "arguments": json.dumps({"query": last})}
        items = [{"content": "", "role": "assistant", "index": 0, "function_call": call}]
        usage = _usage(last, prompt_tokens, 0)
        await ws.send_text(json.dumps(_frame(sid, 2, 0, items, usage)))
        await ws.close()
        return
    words = (f"Got it: {last}" if functions else f"You said: {last}").split()
    pieces = [words[i : i + 2] for i in range(0, len(words), 2)]
    for seq, piece in enumerate(pieces):
        if seq == 1 and "SPARK_GARBAGE" in last:
            await ws.send_text("{this is not json")
            await ws.close()
            return
        if seq == 1 and "SPARK_DROP" in last:
            await ws.close()
            return
        status = 2 if seq == len(pieces) - 1 else (0 if seq == 0 else 1)
        items = [
            {"content": (" " if seq else "") + " ".join(piece), "role": "assistant", "index": 0}
        ]
        totals = _usage(last, prompt_tokens, len(words)) if status == 2 else None
        await ws.send_text(json.dumps(_frame(sid, status, seq, items, totals)))
        await asyncio.sleep(0)
    await ws.close()


def _usage(question: str, prompt: int, completion: int) -> dict[str, Any]:
    return {
        "text": {
            "question_tokens": len(question.split()),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    }


def _frame(
    sid: str, status: int, seq: int, items: list[dict[str, Any]], usage: dict[str, Any] | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"choices": {"status": status, "seq": seq, "text": items}}
    if usage is not None:
        payload["usage"] = usage
    return {
        "header": {"code": 0, "message": "Success", "sid": sid, "status": status},
        "payload": payload,
    }


@asynccontextmanager
async def scripted(
    *replies: str | float | None, hung_up: asyncio.Event | None = None
) -> AsyncIterator[str]:
    """A WebSocket server (its ws:// URL) that takes the request frame, then for each reply
    sends a text frame (str), keeps silent for some seconds (float) or closes the connection
    (None). A client that hangs up while it is silent ends the script and sets `hung_up`."""

    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        for reply in replies:
            if reply is None:
                return await ws.close()
            if isinstance(reply, float):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ws.wait_closed(), reply)
                    if hung_up is not None:
                        hung_up.set()
                    return
            else:
                await ws.send(reply)

    async with serve(handler, "127.0.0.1", 0) as server:
        yield f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"


def text_frame(status: int, content: str) -> str:
    """A Spark answer frame that reports no usage."""
    items = [{"content": content, "role": "assistant", "index": 0}]
    return json.dumps(_frame("cht0", status, 0, items, None))
