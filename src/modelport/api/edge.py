"""The one ASGI layer every HTTP request passes first: request id, observation, body limit.

- Request id: accept a valid `X-Request-ID` or make one, keep it in the scope's state and in
  `request_id_var` (every log line of the request carries it), echo it in the response.
- Observation: latency, time to the first event of a stream, status; one JSON access log line.
- Body limit: refuse bodies over the configured size with 413, before anything parses them.
- JSON by default: a body without `Content-Type`, or urlencoded (curl's `-d` default), is
  JSON to every route but file uploads.

One layer instead of three: each ASGI wrapper costs a coroutine per request and a `send`
closure per streamed event, a measurable share of a proxied request.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..observability.logs import request_id_var
from ..observability.metrics import Metrics
from ..protocol.ids import hex_id

log = logging.getLogger("modelport.access")

_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_EVENT_STREAM = b"text/event-stream"


def _too_large(limit: int) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": f"The request body exceeds the limit of {limit} bytes.",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_too_large",
            }
        }
    )


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"  # bounded label values


def _declared(value: bytes) -> int:
    """A Content-Length header's value; 0 when it is not a number (the body is counted)."""
    try:
        return int(value)
    except ValueError:
        return 0


_FORM = b"application/x-www-form-urlencoded"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_UPLOADS = "/v1/files"  # the one route that reads forms (multipart, never urlencoded)


def _json_by_default(scope: Scope, content_type: bytes | None) -> bool:
    """Whether a body is to be read as JSON whatever its missing or default type says: every
    route but uploads takes JSON, and `curl -d` sends JSON as urlencoded unless told."""
    if scope["method"] not in _WITH_BODY or scope.get("path", "").startswith(_UPLOADS):
        return False
    return content_type is None or content_type.split(b";")[0].strip().lower() == _FORM


def _as_json(scope: Scope) -> Scope:
    headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class _BodyTooLarge(Exception):
    pass


class EdgeMiddleware:
    """`max_bytes` for every body, except under the path prefixes in `overrides`, which
    have their own limit (file uploads are larger than any JSON request)."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_bytes: int,
        overrides: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.overrides = dict(overrides or {})

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        given = b""
        too_large = False
        content_type: bytes | None = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value
            elif name == b"content-length":
                too_large = too_large or _declared(value) > max_bytes
            elif name == b"content-type":
                content_type = value
        if _json_by_default(scope, content_type):
            scope = _as_json(scope)
        text = given.decode("latin-1")
        request_id = text if _VALID.match(text) else "req_" + hex_id(16)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        streaming = False
        ttft: float | None = None
        received = 0

        async def edge_send(message: Message) -> None:
            nonlocal status, streaming, ttft
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                for name, value in headers:
                    if name == b"content-type":
                        streaming = value.startswith(_EVENT_STREAM)
                headers.append(id_header)
                message["headers"] = headers
            elif streaming and ttft is None and message.get("body"):
                ttft = time.perf_counter() - started
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            if too_large:
                await self._reject(edge_send, max_bytes)
            else:
                try:
                    await self.app(scope, counting_receive, edge_send)
                except _BodyTooLarge:
                    await self._reject(edge_send, max_bytes)
        finally:
            self._done(scope, status, time.perf_counter() - started, ttft)
            request_id_var.reset(token)

    @staticmethod
    async def _reject(send: Send, max_bytes: int) -> None:
        body = _too_large(max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _done(self, scope: Scope, status: int, seconds: float, ttft: float | None) -> None:
        route = _route(scope)
        if route != "/metrics":
            self.metrics.observe_request(scope["method"], route, status, seconds, ttft)
        if log.isEnabledFor(logging.INFO):
            # What `log.info` does, minus its walk up the stack for the caller's file and
            # line (no formatter of ours shows them): this runs once per request.
            extra = {"status": status, "duration_ms": round(seconds * 1000, 1), "route": route}
            args = (scope["method"], scope["path"], status)
            log.handle(
                log.makeRecord(
                    log.name, logging.INFO, __file__, 0, "%s %s %d", args, None, extra=extra
                )
            )
