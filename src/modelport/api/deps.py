"""FastAPI dependencies: the app's services and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..accounting.keys import KeyRecord
from ..protocol.errors import APIError
from ..services import Services
from .session_auth import COOKIE, disabled, key_from_cookie


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread
    # hop on every request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_token(header: str) -> str:
    """The key from an `Authorization` header's value, or the 401 a client gets."""
    scheme, _, token = header.partition(" ")
    if not header:
        raise APIError(
            401,
            "You didn't provide an API key. Provide it in the Authorization header "
            "(Authorization: Bearer YOUR_KEY).",
            code="missing_api_key",
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(
            401, "The Authorization header must be 'Bearer YOUR_KEY'.", code="invalid_api_key"
        )
    return token.strip()


async def authenticate(services: Services, header: str) -> KeyRecord:
    """The key an `Authorization` header's value names, or the 401 a client gets."""
    raw = bearer_token(header)
    record = await services.keys.authenticate(raw)
    if record is None:
        refusal = await services.keys.refusal(raw)
        if refusal is not None:  # a known key: say so, still without naming its owner
            said = "has been revoked" if refusal == "revoked" else "has expired"
            raise APIError(401, f"This API key {said}.", code=f"key_{refusal}")
        shown = raw[:3] + "*" * 4 + raw[-4:] if len(raw) > 8 else "****"
        raise APIError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")
    if record.user_status != "active":
        raise APIError(401, "The account of this API key is disabled.", code="user_disabled")
    return record


async def require_key(request: Request, services: ServicesDep) -> KeyRecord:
    header = request.headers.get("authorization", "")
    token = request.cookies.get(COOKIE) if not header else None
    if token and services.console_auth is not None:
        # A signed-in console: the account's console key, CSRF-checked (session_auth.py).
        record = (await key_from_cookie(services.console_auth, request, token)).key
        if record.user_status != "active":
            raise disabled()
        request.state.key = record
        return record
    record = await authenticate(services, header)
    request.state.key = record
    return record


KeyDep = Annotated[KeyRecord, Depends(require_key)]
