"""POST /v1/chat/completions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion
from ..protocol.errors import ErrorResponse
from .deps import ServicesAndKeyDep, caller_of
from .sse_response import SSEResponse

router = APIRouter()


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def create_chat_completion(
    body: ChatCompletionRequest, request: Request, auth: ServicesAndKeyDep
) -> Response:
    services, key = auth
    caller = caller_of(request, key)
    if body.stream:
        return SSEResponse(await services.chat.open_stream(body, caller))
    return Response(await services.chat.complete_json(body, caller), media_type="application/json")
