"""`/auth/*`: console sign-up, sign-in, sign-out, the signed-in account, its password; and
`PATCH /admin/users/{id}/role`. The work is `accounting/console_auth.py`'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ..accounting.accounts import Accounts
from ..accounting.console_auth import (
    AccountDisabled,
    ConsoleAuth,
    RoleRefused,
    SignedIn,
    SignInRefused,
    Throttled,
)
from ..accounting.console_sessions import SessionView, session_id
from ..accounting.passwords import WeakPassword
from ..accounting.users import BadUsername, LastRoot, UsernameTaken, UserRecord
from ..protocol.accounts import UserInfo
from ..protocol.auth import (
    AuthOptions,
    Done,
    PasswordChange,
    RoleChange,
    Session,
    SignInRequest,
    SignUpRequest,
)
from ..protocol.errors import APIError
from .admin import AdminDep
from .deps import KeyDep, ServicesDep
from .session_auth import COOKIE, clear_cookie, disabled, set_cookie

router = APIRouter(prefix="/auth")
roles_router = APIRouter(prefix="/admin/users")


def get_auth(services: ServicesDep) -> ConsoleAuth:
    assert services.console_auth is not None
    return services.console_auth


AuthDep = Annotated[ConsoleAuth, Depends(get_auth)]


async def signed_in_user(key: KeyDep, auth: AuthDep) -> UserRecord:
    """The caller's account (through a session or a key of an account)."""
    user = None if key.user_id is None else await auth.users.get(key.user_id)
    if user is None:
        raise APIError(
            403,
            "This key belongs to no user account.",
            type="permission_error",
            code="user_required",
        )
    return user


UserDep = Annotated[UserRecord, Depends(signed_in_user)]


async def _session(services: ServicesDep, user: UserRecord, csrf: str, expires: str) -> Session:
    record = await Accounts(services.db).get(user.id)
    return Session(user=UserInfo.model_validate(record), csrf_token=csrf, expires_at=expires)


async def _open(
    services: ServicesDep, request: Request, response: Response, signed: SignedIn
) -> Session:
    settings, auth = services.settings.accounts, get_auth(services)
    replaced = request.cookies.get(COOKIE)
    if replaced:  # this browser's previous session ends with the new sign-in
        await auth.sessions.end(replaced)
    set_cookie(
        response, request, signed.token, settings.session_ttl_seconds, settings.cookie_secure
    )
    view = await auth.sessions.find(signed.token)
    assert view is not None
    return await _session(services, signed.user, signed.csrf, view.expires_at.isoformat())


@router.get("/options")
async def auth_options(request: Request, services: ServicesDep, auth: AuthDep) -> AuthOptions:
    oidc = services.settings.accounts.oidc
    token = request.cookies.get(COOKIE)
    # Whether this browser's cookie is a live session: the console asks here, where the
    # answer is a 200 either way, before it asks /auth/me.
    view = await auth.sessions.find(token) if token else None
    return AuthOptions(
        signup=services.settings.accounts.signup,
        oidc=oidc is not None,
        oidc_label=oidc.button_label if oidc else None,
        signed_in=view is not None and view.user_status == "active",
    )


@router.post("/signup", status_code=201)
async def signup(
    body: SignUpRequest, request: Request, response: Response, services: ServicesDep, auth: AuthDep
) -> Session:
    if not services.settings.accounts.signup:
        raise APIError(
            403, "Sign-up is closed on this server.", type="permission_error", code="signup_closed"
        )
    try:
        user = await auth.signup(body.username, body.password, body.email)
    except BadUsername as exc:
        raise APIError(400, str(exc), param="username", code="invalid_username") from None
    except WeakPassword as exc:
        raise APIError(400, str(exc), param="password", code="weak_password") from None
    except UsernameTaken:
        raise APIError(
            409, "This username is taken.", param="username", code="username_taken"
        ) from None
    signed = await auth.open_session(user, request.headers.get("user-agent"))
    return await _open(services, request, response, signed)


@router.post("/signin")
async def signin(
    body: SignInRequest, request: Request, response: Response, services: ServicesDep, auth: AuthDep
) -> Session:
    client = request.client.host if request.client else "unknown"
    try:
        signed = await auth.signin(
            body.username, body.password, client, request.headers.get("user-agent")
        )
    except Throttled as exc:
        raise APIError(
            429,
            "Too many sign-in attempts; try again later.",
            type="rate_limit_error",
            code="signin_throttled",
            headers={"Retry-After": str(max(1, int(exc.retry_after + 0.999)))},
        ) from None
    except SignInRefused:
        raise APIError(401, "Incorrect username or password.", code="signin_failed") from None
    except AccountDisabled:
        raise disabled() from None
    return await _open(services, request, response, signed)


@router.post("/signout")
async def signout(
    request: Request, response: Response, services: ServicesDep, auth: AuthDep, _: KeyDep
) -> Done:
    token = request.cookies.get(COOKIE)
    if token:
        await auth.sessions.end(token)
    clear_cookie(response, request, services.settings.accounts.cookie_secure)
    return Done()


@router.get("/me")
async def me(request: Request, response: Response, services: ServicesDep, user: UserDep) -> Session:
    view: SessionView | None = getattr(request.state, "session", None)
    if view is None:  # a key of an account: no session, no CSRF token
        return await _session(services, user, "", "")
    token = request.cookies.get(COOKIE, "")
    settings = services.settings.accounts
    # The cookie's lifetime follows the session's sliding deadline.
    set_cookie(response, request, token, settings.session_ttl_seconds, settings.cookie_secure)
    return await _session(services, user, view.csrf, view.expires_at.isoformat())


@router.post("/password")
async def change_password(
    body: PasswordChange, request: Request, auth: AuthDep, user: UserDep
) -> Done:
    token = request.cookies.get(COOKIE)
    try:
        await auth.change_password(
            user, body.current_password, body.new_password, session_id(token) if token else None
        )
    except SignInRefused:
        raise APIError(
            400, "The current password is wrong.", param="current_password", code="wrong_password"
        ) from None
    except WeakPassword as exc:
        raise APIError(400, str(exc), param="new_password", code="weak_password") from None
    return Done()


@roles_router.patch("/{user_id}/role")
async def set_role(
    user_id: str, body: RoleChange, key: AdminDep, services: ServicesDep, auth: AuthDep
) -> UserInfo:
    target = await auth.users.get(user_id)
    if target is None:
        raise APIError(404, f"No user with id {user_id}.", param="user_id", code="user_not_found")
    # An admin key of no account (the bootstrap key) is the operator's: it acts as root.
    actor = None if key.user_id is None else await auth.users.get(key.user_id)
    try:
        await auth.set_role(actor, target, body.role)
    except RoleRefused:
        raise APIError(
            403, "Only a root account changes roles.", type="permission_error", code="root_required"
        ) from None
    except LastRoot:
        raise APIError(
            409, "This is the last root account; make another root first.", code="last_root"
        ) from None
    return UserInfo.model_validate(await Accounts(services.db).get(user_id))
