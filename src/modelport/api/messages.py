"""POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API
(`messages/service.py`), for every catalogue model.

The key comes in `x-api-key` (the Anthropic SDK's way) or as `Authorization: Bearer`;
`anthropic-version` and `anthropic-beta` are read and passed on to an Anthropic channel (an
absent version is taken as 2023-06-01). Every error leaves in Anthropic's envelope.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from ..accounting.keys import KeyRecord
from ..chat.service import Caller
from ..messages.errors import error_response
from ..messages.request import to_chat
from ..messages.service import MessagesService
from ..protocol.anthropic_messages import (
    CountTokensRequest,
    CountTokensResponse,
    ErrorEnvelope,
    Message,
    MessagesRequest,
)
from ..protocol.errors import APIError
from ..protocol.messages_chat import MessagesChat
from ..services import Services
from .answer import PARSE_ON_LOOP_BYTES, answer
from .chat_body import body_errors, parse_json_body
from .deps import authenticate
from .errors import validation_error_of

router = APIRouter()
PATH = "/v1/messages"
COUNT_PATH = "/v1/messages/count_tokens"
T = TypeVar("T")
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorEnvelope} for code in (400, 401, 403, 404, 413, 429, 500, 502, 503)
}
log = logging.getLogger("modelport.api")


def key_header(request: Request) -> str:
    """The caller's key as an `Authorization` value: `x-api-key` first, else the header."""
    key = request.headers.get("x-api-key")
    header = request.headers.get("authorization", "")
    if key is not None and key.strip():
        return "Bearer " + key.strip()
    if not header:
        raise APIError(401, "x-api-key header is required", code="missing_api_key")
    return header


async def read_messages_body(
    request: Request, parse: Callable[[bytes], tuple[T | None, APIError | None]]
) -> tuple[T, KeyRecord]:
    """As `answer.read_body`: JSON syntax is a 400 before the key, the rest after it."""
    services: Services = request.app.state.services
    raw = await request.body()
    if len(raw) > PARSE_ON_LOOP_BYTES:
        body, invalid = await asyncio.to_thread(parse, raw)
    else:
        body, invalid = parse(raw)
    key = await authenticate(services, key_header(request))
    request.state.key = key
    if body is None:
        assert invalid is not None
        raise invalid
    return body, key


def parse_message_body(
    raw: bytes, beta: str | None = None, version: str | None = None
) -> tuple[MessagesChat | None, APIError | None]:
    body, invalid = parse_json_body(raw, MessagesRequest)
    if body is None:
        return None, invalid
    try:  # the chat request's own rules, on what the translation made of the body
        return to_chat(body, beta=beta, version=version), None
    except ValidationError as exc:
        return None, validation_error_of(body_errors(exc))


def _unexpected(request: Request) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(APIError(500, "The server had an error processing your request."))


@router.post(
    PATH,
    response_model=Message,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def create_message(request: Request) -> Response:
    """The body is Anthropic's Messages request (`MessagesRequest`, read by the route)."""
    services: Services = request.app.state.services
    headers = request.headers
    beta, version = headers.get("anthropic-beta"), headers.get("anthropic-version")
    try:
        body, key = await read_messages_body(
            request, lambda raw: parse_message_body(raw, beta, version)
        )
        caller = Caller.of(key, request.state.request_id)
        messages = MessagesService(services.chat)
        return await answer(
            request,
            local=messages.served_locally(body.model),
            stream=(lambda: messages.open_stream(body, caller)) if body.stream else None,
            complete=lambda: messages.complete(body, caller),
        )
    except APIError as exc:
        return error_response(exc)
    except Exception:
        return _unexpected(request)


@router.post(COUNT_PATH, response_model=CountTokensResponse, responses=ERRORS)
async def count_tokens(request: Request) -> Response:
    """The body is a Messages request without `max_tokens` (`CountTokensRequest`)."""
    services: Services = request.app.state.services
    try:
        body, key = await read_messages_body(
            request, lambda raw: parse_json_body(raw, CountTokensRequest)
        )
        if key.allowed_models is not None and body.model not in key.allowed_models:
            raise APIError(
                403, f"This key is not allowed to use the model `{body.model}`.", param="model"
            )
        tokens = await MessagesService(services.chat).count_tokens(body)
        result = CountTokensResponse(input_tokens=tokens)
        return Response(result.model_dump_json(), media_type="application/json")
    except APIError as exc:
        return error_response(exc)
    except Exception:
        return _unexpected(request)
