"""POST /v1/completions: OpenAI's legacy text completions (`chat/completions.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from ..chat.completions import CompletionService
from ..chat.service import Caller
from ..protocol.completions import CompletionRequest, PromptedChat, TextCompletion
from ..protocol.errors import APIError
from ..services import Services
from .answer import answer, read_body
from .chat import ERRORS
from .chat_body import body_errors, parse_json_body
from .errors import validation_error_of

router = APIRouter()
PATH = "/v1/completions"


def parse_completion_body(raw: bytes) -> tuple[PromptedChat | None, APIError | None]:
    """The request as the chat pipeline runs it, or the 400 it gets."""
    body, invalid = parse_json_body(raw, CompletionRequest)
    if body is None:
        return None, invalid
    try:  # the chat request's own rules (`stop`, `logit_bias`) under the same names
        return body.as_chat(), None
    except ValidationError as exc:
        return None, validation_error_of(body_errors(exc))


@router.post(
    PATH,
    response_model=TextCompletion,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def create_completion(request: Request) -> Response:
    """The body is `CompletionRequest` (read by the route itself, as the chat route's)."""
    services: Services = request.app.state.services
    body, key = await read_body(request, parse_completion_body)
    caller = Caller.of(key, request.state.request_id)
    completions = CompletionService(services.chat)
    return await answer(
        request,
        local=completions.served_locally(body.model),
        stream=(lambda: completions.open_stream(body, caller)) if body.stream else None,
        complete=lambda: completions.complete(body, caller),
    )
