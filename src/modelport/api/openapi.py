"""The OpenAPI document says what the app does: the envelope on every error, and the chat
route's request body (which the route reads itself, see `chat_body.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .chat import PATH as CHAT_PATH
from .chat_body import request_body_schema
from .errors import document_errors


def document_chat_body(document: dict[str, Any]) -> dict[str, Any]:
    schema, definitions = request_body_schema()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(definitions)
    schemas["ChatCompletionRequest"] = schema
    operation = document["paths"][CHAT_PATH]["post"]
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}
        },
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
