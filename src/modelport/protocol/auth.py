"""Wire types of console sign-in (`/auth/*`) and of role changes (`/admin/users/{id}/role`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .accounts import UserInfo
from .base import RequestModel, WireModel


class SignUpRequest(RequestModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    email: str | None = Field(default=None, max_length=320)


class SignInRequest(RequestModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(RequestModel):
    current_password: str = Field(default="", max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class RoleChange(RequestModel):
    role: Literal["user", "admin", "root"]


class Session(WireModel):
    """The signed-in account and the CSRF token to send as `X-CSRF-Token` on every unsafe
    request made with the session cookie."""

    object: Literal["session"] = "session"
    user: UserInfo
    csrf_token: str
    expires_at: str


class AuthOptions(WireModel):
    """What the sign-in page offers."""

    signup: bool
    oidc: bool
    oidc_label: str | None = None
    signed_in: bool = False  # this browser's session cookie is live


class Done(WireModel):
    ok: bool = True
