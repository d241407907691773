"""POST /v1/chat/completions."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from ..chat.service import Caller
from ..protocol.chat_response import ChatCompletion
from ..protocol.errors import ErrorResponse
from ..services import Services
from .chat_body import parse_chat_body
from .departure import ClientDeparture
from .deps import authenticate
from .sse_response import WATCH_AFTER, SSEResponse

router = APIRouter()
PATH = "/v1/chat/completions"
PARSE_ON_LOOP_BYTES = 256 * 1024


@router.post(
    PATH,
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
        504: {"model": ErrorResponse},
    },
)
async def create_chat_completion(request: Request) -> Response:
    """The body is `ChatCompletionRequest` (read by the route itself: `chat_body.py`)."""
    services: Services = request.app.state.services
    raw = await request.body()
    if len(raw) > PARSE_ON_LOOP_BYTES:  # a big body is validated off the event loop
        body, invalid = await asyncio.to_thread(parse_chat_body, raw)
    else:
        body, invalid = parse_chat_body(raw)
    key = await authenticate(services, request.headers.get("authorization", ""))
    request.state.key = key
    if body is None:
        assert invalid is not None
        raise invalid
    caller = Caller.of(key, request.state.request_id)
    # A client that leaves stops its answer: the embedded engine's prefill or a whole
    # non-stream answer (seconds of work), or an upstream call (the vendor sees the connection
    # close; the request is booked as abandoned, not as answered). For an upstream the watcher
    # starts WATCH_AFTER in: most proxied answers are over by then.
    after = 0.0 if services.chat.served_locally(body.model) else WATCH_AFTER
    departure = ClientDeparture(request.receive, after=after)
    try:
        if body.stream:
            stream = await services.chat.open_stream(body, caller)
            return SSEResponse(stream, departure=departure)  # it watches on, then stops
        answer = await services.chat.complete(body, caller)
    except asyncio.CancelledError:
        if not departure.absorb():
            raise
        departure.stop()
        return Response(status_code=499)  # nobody reads it; the service booked the request
    except BaseException:
        departure.stop()
        raise
    departure.stop()
    return Response(answer.model_dump_json(), media_type="application/json")
