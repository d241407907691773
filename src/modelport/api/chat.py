"""POST /v1/chat/completions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..chat.service import Caller
from ..protocol.chat_response import ChatCompletion
from ..protocol.errors import ErrorResponse
from ..services import Services
from .answer import answer, read_body
from .chat_body import parse_chat_body

router = APIRouter()
PATH = "/v1/chat/completions"
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 429, 502, 503, 504)
}


@router.post(
    PATH,
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def create_chat_completion(request: Request) -> Response:
    """The body is `ChatCompletionRequest` (read by the route itself: `chat_body.py`)."""
    services: Services = request.app.state.services
    body, key = await read_body(request, parse_chat_body)
    caller = Caller.of(key, request.state.request_id)
    chat = services.chat
    return await answer(
        request,
        local=chat.served_locally(body.model),
        stream=(lambda: chat.open_stream(body, caller)) if body.stream else None,
        complete=lambda: chat.complete(body, caller),
    )
