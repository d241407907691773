"""`/auth/oidc/login` and `/auth/oidc/callback`: console sign-in through the configured
OpenID Connect provider (`accounts.oidc`). The protocol is `accounting/oidc.py`'s."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from ..accounting.oidc import FLOW_SECONDS, OidcFailed, account_for
from ..protocol.errors import APIError
from .auth import AuthDep
from .deps import ServicesDep
from .session_auth import disabled, set_cookie

log = logging.getLogger("modelport.auth")
router = APIRouter(prefix="/auth/oidc")
FLOW_COOKIE = "modelport_oidc"
FLOW_PATH = "/auth/oidc"


def _failed(reason: str) -> APIError:
    return APIError(
        400, f"Single sign-on failed: {reason}.", type="authentication_error", code="oidc_failed"
    )


@router.get("/login", status_code=302, response_class=RedirectResponse)
async def oidc_login(request: Request, auth: AuthDep, services: ServicesDep) -> RedirectResponse:
    if auth.oidc is None:
        raise APIError(404, "No OpenID Connect provider is configured.", code="oidc_not_configured")
    settings = services.settings.accounts
    assert settings.oidc is not None
    callback = settings.oidc.redirect_uri or str(request.url_for("oidc_callback"))
    try:
        started = await auth.oidc.start(callback)
    except OidcFailed as exc:
        log.warning("oidc login: %s", exc)
        raise _failed(str(exc)) from None
    response = RedirectResponse(started.url, status_code=302)
    response.set_cookie(
        FLOW_COOKIE,
        started.flow,
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back here
        secure=request.url.scheme == "https"
        if settings.cookie_secure is None
        else settings.cookie_secure,
    )
    return response


@router.get("/callback", name="oidc_callback", status_code=302, response_class=RedirectResponse)
async def oidc_callback(
    request: Request,
    auth: AuthDep,
    services: ServicesDep,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    if auth.oidc is None:
        raise APIError(404, "No OpenID Connect provider is configured.", code="oidc_not_configured")
    if error is not None:
        raise _failed(f"the provider answered {error!r}")
    flow = request.cookies.get(FLOW_COOKIE)
    if not (code and state and flow):
        raise _failed("the answer lacks its code or state, or the flow was not started here")
    try:
        claims = await auth.oidc.finish(flow, state, code)
        user = await account_for(
            auth.users, auth.oidc.issuer, claims, signup=services.settings.accounts.signup
        )
    except OidcFailed as exc:
        log.warning("oidc callback: %s", exc)
        raise _failed(str(exc)) from None
    if user.status != "active":
        raise disabled()
    signed = await auth.open_session(user, request.headers.get("user-agent"))
    response = RedirectResponse("/console/", status_code=302)
    settings = services.settings.accounts
    set_cookie(
        response, request, signed.token, settings.session_ttl_seconds, settings.cookie_secure
    )
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response
