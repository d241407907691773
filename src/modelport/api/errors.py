"""Every failure leaves as the OpenAI error envelope, with the right status."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..protocol.errors import APIError, ErrorResponse

log = logging.getLogger("modelport.api")

_STATUS_TYPES = {
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}


def error_response(error: APIError) -> JSONResponse:
    # A header value HTTP cannot carry (from an upstream) must not turn the answer into a 500.
    headers = {k: v for k, v in error.headers.items() if _latin1(k) and _latin1(v)}
    return JSONResponse(error.body().model_dump(), status_code=error.status, headers=headers)


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in text and "\n" not in text


def _param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    # Pydantic names union members in the path (e.g. "str", "function-after[...]"): drop them.
    parts = [p for p in parts if not (p.endswith("]") or p in ("str", "list[...]"))]
    return ".".join(parts) or None


def validation_error(exc: RequestValidationError) -> APIError:
    return validation_error_of(list(exc.errors()))


def validation_error_of(errors: Sequence[Mapping[str, Any]]) -> APIError:
    """The 400 for FastAPI-shaped validation errors (`loc` starting with where: "body")."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return APIError(
            400,
            "We could not parse the JSON body of your request: "
            f"{first.get('ctx', {}).get('error', 'invalid JSON')}.",
            code="invalid_json",
        )
    if first.get("loc") == ("body",) and first.get("type") != "value_error":
        return APIError(400, "The request body must be a JSON object.", code="invalid_json")
    param = _param(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if param:
        message = f"Invalid value for '{param}': {message}"
    return APIError(400, message, param=param, code="invalid_value")


_ERROR_REF = "#/components/schemas/ErrorResponse"


# Operations whose errors leave in another protocol's envelope (tag → the schema of it).
_OWN_ENVELOPES = {"midjourney": "#/components/schemas/SubmitResult"}


def _error_content(description: str, ref: str = _ERROR_REF) -> dict[str, Any]:
    schema = {"$ref": ref}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the handlers below do: validation failures are 400
    (not FastAPI's 422 shape), and any error status carries the OpenAI envelope."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(generated.pop("$defs", {}))
    schemas["ErrorResponse"] = generated
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            ref = next(
                (_OWN_ENVELOPES[t] for t in operation.get("tags", []) if t in _OWN_ENVELOPES),
                _ERROR_REF,
            )
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault("400", _error_content("Invalid request", ref))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    responses[status] = _error_content(response.get("description", "Error"), ref)
            responses["default"] = _error_content("Error (the error envelope)", ref)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(validation_error(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = _STATUS_TYPES.get(exc.status_code, "invalid_request_error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            message = f"Unknown request URL: {request.method} {request.url.path}."
        return error_response(
            APIError(exc.status_code, message, type=kind, headers=dict(exc.headers or {}))
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            APIError(500, "The server had an error processing your request.", type="server_error")
        )

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
