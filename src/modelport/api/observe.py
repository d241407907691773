"""Per-request observation: latency, time to first event of a stream, status; one JSON access
log line; the request id put where every log line of the request can find it."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..observability.logs import request_id_var
from ..observability.metrics import Metrics

log = logging.getLogger("modelport.access")


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"  # bounded label values


class ObserveMiddleware:
    """Sits inside `RequestIdMiddleware`, so the request id is already in the scope's state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        streaming = False
        ttft: float | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, streaming, ttft
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers", []))
                streaming = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            elif streaming and ttft is None and message.get("body"):
                ttft = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._done(scope, status, time.perf_counter() - started, ttft)
            request_id_var.reset(token)

    def _done(self, scope: Scope, status: int, seconds: float, ttft: float | None) -> None:
        route = _route(scope)
        app = scope.get("app")
        services = getattr(getattr(app, "state", None), "services", None)
        metrics = getattr(services, "metrics", None)
        if isinstance(metrics, Metrics) and route != "/metrics":
            metrics.observe_request(scope["method"], route, status, seconds, ttft)
        log.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={"status": status, "duration_ms": round(seconds * 1000, 1), "route": route},
        )
