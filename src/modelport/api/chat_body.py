"""The chat request body: parsed and validated in one pydantic pass from the raw bytes.

The route reads its body itself rather than through FastAPI's body parameter: one pass of
pydantic-core over the bytes instead of the standard library's JSON decoder, then a model
validation and FastAPI's dependency and field machinery. The answers stay FastAPI's: a body
that is not JSON is a 400 before the key is checked, a body that does not fit the model is a
400 after it, with the same envelope and `param`. A JSON body is read whatever its
Content-Type says (curl without `-H 'Content-Type: application/json'` works).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..protocol.chat import MAX_MESSAGES, MAX_NESTING, ChatCompletionRequest
from ..protocol.errors import APIError
from .errors import validation_error_of

M = TypeVar("M", bound=BaseModel)


def parse_chat_body(raw: bytes) -> tuple[ChatCompletionRequest | None, APIError | None]:
    """The request, or the 400 it gets; a JSON syntax error raises at once."""
    if raw.count(b'"role"') > MAX_MESSAGES:
        # Validation holds the GIL (pydantic-core does not release it), so even in a worker
        # thread 100,000 messages would stop the event loop for half a second: a body with
        # more `"role"` keys than the message limit cannot be a valid request.
        message = f"A request may carry at most {MAX_MESSAGES:,} messages."
        return None, APIError(400, message, param="messages", code="too_many_messages")
    return parse_json_body(raw, ChatCompletionRequest)


def parse_json_body(raw: bytes, model: type[M]) -> tuple[M | None, APIError | None]:
    """`parse_chat_body` for any request model read by its route (`/v1/completions` too)."""
    if not raw.strip():
        raise APIError(400, "The request body must be a JSON object.", code="invalid_json")
    try:
        return model.model_validate_json(raw), None
    except ValidationError as exc:
        errors = body_errors(exc)
        first = errors[0]
        if first["type"] == "json_invalid" and "recursion limit" in str(first.get("ctx")):
            # The parser's own depth limit: the same answer as the model's nesting rule.
            message = f"the request nests JSON deeper than {MAX_NESTING} levels"
            raise APIError(400, message, code="invalid_value") from None
        if first["type"] == "json_invalid":
            raise validation_error_of(errors) from None
        return None, validation_error_of(errors)


def body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """A model's validation errors as FastAPI reports a body's (`loc` from "body")."""
    return [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]


def request_body_schema(
    model: type[BaseModel] = ChatCompletionRequest,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON schema for the OpenAPI document, and the schemas it refers
    to (for `components.schemas`)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return schema, definitions
