"""What the chat and the legacy completions routes share: reading the body before the key
(its syntax is a 400 even without one), and answering while watching for a client that
leaves (a stream as SSE, an answer as JSON)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from ..accounting.keys import KeyRecord
from ..protocol.errors import APIError
from ..services import Services
from .departure import ClientDeparture
from .deps import require_key
from .sse_response import WATCH_AFTER, ClosableByteStream, SSEResponse

T = TypeVar("T")
PARSE_ON_LOOP_BYTES = 256 * 1024


async def read_body(
    request: Request, parse: Callable[[bytes], tuple[T | None, APIError | None]]
) -> tuple[T, KeyRecord]:
    """The parsed body and the caller's key; a body that does not fit its model is refused
    after the key is checked (FastAPI's order)."""
    services: Services = request.app.state.services
    raw = await request.body()
    if len(raw) > PARSE_ON_LOOP_BYTES:  # a big body is validated off the event loop
        body, invalid = await asyncio.to_thread(parse, raw)
    else:
        body, invalid = parse(raw)
    # As every other route: a Bearer key, or a signed-in console's session cookie (CSRF-checked).
    key = await require_key(request, services)
    if body is None:
        assert invalid is not None
        raise invalid
    return body, key


async def answer(
    request: Request,
    *,
    local: bool,
    stream: Callable[[], Awaitable[ClosableByteStream]] | None,
    complete: Callable[[], Awaitable[BaseModel]],
) -> Response:
    """Run the request (`stream` when the client asked for one) and send its answer.

    A client that leaves stops its answer: the embedded engine's prefill or a whole non-stream
    answer (seconds of work), or an upstream call (the vendor sees the connection close; the
    request is booked as abandoned, not as answered). For an upstream the watcher starts
    WATCH_AFTER in: most proxied answers are over by then.
    """
    departure = ClientDeparture(request.receive, after=0.0 if local else WATCH_AFTER)
    try:
        if stream is not None:
            events = await stream()
            return SSEResponse(events, departure=departure)  # it watches on, then stops
        result = await complete()
    except asyncio.CancelledError:
        if not departure.absorb():
            raise
        departure.stop()
        return Response(status_code=499)  # nobody reads it; the service booked the request
    except BaseException:
        departure.stop()
        raise
    departure.stop()
    return Response(result.model_dump_json(), media_type="application/json")
