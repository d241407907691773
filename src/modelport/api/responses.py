"""POST /v1/responses, GET and DELETE /v1/responses/{id}: OpenAI's Responses API
(`responses/`), served by the chat pipeline."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..chat.service import Caller
from ..protocol.errors import APIError, ErrorResponse
from ..protocol.response_objects import DeletedResponse, ResponseObject
from ..protocol.responses import ResponseCreateRequest
from ..responses.service import ResponseService
from ..responses.store import ResponseStore, not_found
from ..services import Services
from .answer import answer, read_body
from .chat import ERRORS
from .chat_body import parse_json_body
from .deps import KeyDep, ServicesDep

router = APIRouter()
PATH = "/v1/responses"
_LOOKUP_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (401, 404)
}


def parse_response_body(raw: bytes) -> tuple[ResponseCreateRequest | None, APIError | None]:
    return parse_json_body(raw, ResponseCreateRequest)


@router.post(
    PATH,
    response_model=ResponseObject,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def create_response(request: Request) -> Response:
    """The body is `ResponseCreateRequest` (read by the route itself, as the chat route's)."""
    services: Services = request.app.state.services
    body, key = await read_body(request, parse_response_body)
    caller = Caller.of(key, request.state.request_id)
    responses = ResponseService(services.chat, ResponseStore(services.db))
    return await answer(
        request,
        local=responses.served_locally(body.model),
        stream=(lambda: responses.open_stream(body, caller)) if body.stream else None,
        complete=lambda: responses.create(body, caller),
    )


@router.get(PATH + "/{response_id}", response_model=ResponseObject, responses=_LOOKUP_ERRORS)
async def get_response(response_id: str, key: KeyDep, services: ServicesDep) -> Response:
    """A stored response of the caller's owner (404 for anyone else's, or `store: false`)."""
    stored = await ResponseStore(services.db).get(key.owner, response_id)
    if stored is None:
        raise not_found(response_id)
    return Response(stored.response, media_type="application/json")


@router.delete(PATH + "/{response_id}", response_model=DeletedResponse, responses=_LOOKUP_ERRORS)
async def delete_response(response_id: str, key: KeyDep, services: ServicesDep) -> DeletedResponse:
    if not await ResponseStore(services.db).delete(key.owner, response_id):
        raise not_found(response_id)
    return DeletedResponse(id=response_id)
