"""The OpenAPI document says what the app does: the envelope on every error, and the request
bodies of the chat and completions routes (which they read themselves, see `chat_body.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from ..protocol.chat import ChatCompletionRequest
from ..protocol.completions import CompletionRequest
from ..protocol.responses import ResponseCreateRequest
from .chat import PATH as CHAT_PATH
from .chat_body import request_body_schema
from .completions import PATH as COMPLETIONS_PATH
from .errors import document_errors
from .responses import PATH as RESPONSES_PATH

# The routes that read their body themselves, and the models they read it as.
_SELF_READ: tuple[tuple[str, type[BaseModel]], ...] = (
    (CHAT_PATH, ChatCompletionRequest),
    (COMPLETIONS_PATH, CompletionRequest),
    (RESPONSES_PATH, ResponseCreateRequest),
)


def document_chat_body(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path, model in _SELF_READ:
        schema, definitions = request_body_schema(model)
        schemas.update(definitions)
        schemas[model.__name__] = schema
        operation = document["paths"][path]["post"]
        reference = {"$ref": f"#/components/schemas/{model.__name__}"}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": reference}},
        }
    return document


def install_openapi(app: FastAPI) -> None:
    """Build the document on first request, from FastAPI's, with the additions above."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_chat_body(document_errors(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
