"""The console's session cookie as a stand-in for an API key (see `deps.require_key`), its
CSRF check, and the cookie itself."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from ..accounting.console_auth import AccountDisabled, ConsoleAuth, SessionEnded, SessionKey
from ..protocol.errors import APIError

COOKIE = "modelport_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def disabled() -> APIError:
    return APIError(401, "This account is disabled.", code="user_disabled")


async def key_from_cookie(auth: ConsoleAuth, request: Request, token: str) -> SessionKey:
    """The session's key, or the 401/403 a client gets; unsafe methods need the session's
    CSRF token in `X-CSRF-Token` (a cross-site form cannot set a header)."""
    try:
        found = await auth.key_for_cookie(token)
    except SessionEnded:
        raise APIError(
            401, "Your session has ended; sign in again.", code="session_expired"
        ) from None
    except AccountDisabled:
        raise disabled() from None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), found.session.csrf.encode()):
            raise APIError(
                403,
                "This request needs the session's CSRF token in the X-CSRF-Token header.",
                type="permission_error",
                code="csrf_failed",
            )
    request.state.session = found.session
    return found


def set_cookie(
    response: Response, request: Request, token: str, max_age: int, secure: bool | None
) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" if secure is None else secure,
    )


def clear_cookie(response: Response, request: Request, secure: bool | None) -> None:
    response.delete_cookie(
        COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" if secure is None else secure,
    )
