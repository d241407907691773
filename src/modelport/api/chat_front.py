"""POST /v1/chat/completions answered straight from ASGI, before FastAPI's own stack.

On a proxied request FastAPI's handling (five middleware layers, route matching, dependency
solving, body validation through a TypeAdapter, `send` wrappers every SSE frame passes
through) cost more CPU than everything modelport itself does. This front takes the same
steps by hand, in FastAPI's order and with its answers: the body parsed as JSON when the
content type says so (400 `invalid_json`), the key (401), the body validated (400 naming the
field), then the chat service; every failure leaves as the OpenAI error envelope. The route
stays declared in `api/chat.py`, which the OpenAPI document describes and which serves the
path whenever this front does not (the app mounted under a prefix).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from ..chat.service import Caller
from ..protocol.chat import ChatCompletionRequest
from ..protocol.errors import APIError
from ..services import Services
from .departure import ClientDeparture
from .deps import authenticate
from .errors import error_response, validation_error_of
from .sse_response import WATCH_AFTER, SSEResponse

log = logging.getLogger("modelport.api")

PATH = "/v1/chat/completions"
_MISSING: Any = object()


class _ClientLeft(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _is_json(content_type: str) -> bool:
    """FastAPI's test: `application/json` or `application/*+json`, parameters ignored."""
    kind = content_type.partition(";")[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientLeft
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _parse(raw: bytes, content_type: str) -> Any:
    """The JSON body, or `_MISSING` when there is none to parse (FastAPI then validates the
    raw bytes, which no object model accepts)."""
    if not raw or not _is_json(content_type):
        return _MISSING
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "ctx": {"error": exc.msg}}
        raise validation_error_of([error]) from None


def _validate(data: Any) -> ChatCompletionRequest:
    if data is _MISSING:
        raise APIError(400, "The request body must be a JSON object.", code="invalid_json")
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise validation_error_of(errors) from None


class ChatFront:
    """The ASGI app for the route; `path` labels its metrics and access log lines."""

    path = PATH

    def __init__(self, app: FastAPI) -> None:
        self._app = app  # its `state.services` appear in the lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"], scope["route"] = self._app, self
        try:
            raw = await _read_body(receive)
        except _ClientLeft:
            return
        watch: list[ClientDeparture] = []  # set once the request is valid (see _answer)
        response: ASGIApp
        try:
            response = await self._answer(scope, raw, receive, watch)
        except asyncio.CancelledError:
            if watch and watch[0].absorb():
                watch[0].stop()
                scope["state"]["client_left"] = True
                return  # nobody to answer; the service booked the request as abandoned
            raise
        except APIError as exc:
            response = error_response(exc)
        except Exception:
            log.exception("unhandled error on POST %s", PATH)
            message = "The server had an error processing your request."
            response = error_response(APIError(500, message, type="server_error"))
        if isinstance(response, SSEResponse):  # a stream takes the watcher on (or makes one)
            await response(scope, receive, send)
            return
        departure = watch[0] if watch else None
        if departure is not None:
            departure.stop()
        try:
            await response(scope, receive, send)
        except asyncio.CancelledError:  # the client left just as its answer was ready
            if departure is None or not departure.absorb():
                raise

    async def _answer(
        self, scope: Scope, raw: bytes, receive: Receive, watch: list[ClientDeparture]
    ) -> ASGIApp:
        data = _parse(raw, _header(scope, b"content-type"))
        services: Services = self._app.state.services
        key = await authenticate(services, _header(scope, b"authorization"))
        state = scope["state"]
        state["key"] = key
        request = _validate(data)
        caller = Caller.of(key, state["request_id"])
        # A client that leaves stops its answer: the embedded engine's prefill or a whole
        # non-stream answer (seconds of work), or an upstream call (the vendor sees the
        # connection close; the request is booked as abandoned, not as answered). For an
        # upstream the watcher starts WATCH_AFTER in: most proxied answers are over by then,
        # and a watcher per request was a measurable share of their CPU.
        local = services.chat.served_locally(request.model)
        watch.append(ClientDeparture(receive, after=0.0 if local else WATCH_AFTER))
        if request.stream:
            stream = await services.chat.open_stream(request, caller)
            return SSEResponse(stream, departure=watch[0])
        return _JSONBody(await services.chat.complete_json(request, caller))


class _JSONBody:
    """A complete JSON answer in two ASGI messages (no Response object to set up)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self._body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self._body})
