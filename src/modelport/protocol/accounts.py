"""Wire types of accounts, groups and redemption codes for admins (`/admin/users`,
`/admin/groups`, `/admin/codes`) and of an account's own keys (`/v1/user/keys`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, computed_field, field_validator

from .admin import (
    MAX_AMOUNT,
    MAX_MULTIPLIER,
    MAX_RATE,
    MAX_TOKENS,
    MICROS,
    KeyFields,
    RedeemResult,
)
from .base import RequestModel, WireModel

GROUP_NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class UserInfo(WireModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: str
    object: Literal["user"] = "user"
    username: str
    display_name: str | None
    email: str | None
    role: str
    group: str
    status: str
    quota_tokens: int | None
    quota_micros: int | None
    used_tokens: int
    used_micros: int
    reserved_tokens: int
    reserved_micros: int
    created_at: datetime
    last_login_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quota(self) -> float | None:
        return None if self.quota_micros is None else self.quota_micros / MICROS

    @computed_field  # type: ignore[prop-decorator]
    @property
    def used(self) -> float:
        return self.used_micros / MICROS


class Redeemed(RedeemResult):
    """A redemption: the key, and for a key of a user the user it credited."""

    user: UserInfo | None = Field(default=None, description="The user credited, if any.")


class UserList(WireModel):
    object: Literal["list"] = "list"
    data: list[UserInfo]
    has_more: bool
    last_id: str | None = Field(description="Pass as `after` for the next page.")


class UserPatch(RequestModel):
    """An admin's change to an account; only the fields sent change. A quota kind is either
    set (`quota_tokens`, `quota`; null: unlimited) or adjusted by a signed delta
    (`adjust_tokens`, `adjust`), never both; neither goes below what the account used and
    holds unless `allow_below_used`."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "disabled"] | None = None
    group: str | None = Field(default=None, pattern=GROUP_NAME)
    quota_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    quota: float | None = Field(default=None, strict=True, ge=0, le=MAX_AMOUNT)
    adjust_tokens: int | None = Field(default=None, ge=-MAX_TOKENS, le=MAX_TOKENS)
    adjust: float | None = Field(default=None, strict=True, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    allow_below_used: bool = False


class GroupInfo(WireModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: str
    object: Literal["group"] = "group"
    ratio: float
    description: str | None
    created_at: datetime
    users: int


class GroupList(WireModel):
    object: Literal["list"] = "list"
    data: list[GroupInfo]


class GroupCreate(RequestModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=GROUP_NAME)
    ratio: float = Field(default=1.0, ge=0, le=MAX_MULTIPLIER, description="Multiplies prices.")
    description: str | None = Field(default=None, max_length=200)


class GroupPatch(RequestModel):
    model_config = ConfigDict(extra="forbid")

    ratio: float | None = Field(default=None, ge=0, le=MAX_MULTIPLIER)
    description: str | None = Field(default=None, max_length=200)


class CodeRow(WireModel):
    """A redemption code as admins list it: its status and who redeemed it."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: str
    object: Literal["redemption_code"] = "redemption_code"
    display: str
    batch: str
    tokens: int
    micros: int
    status: Literal["unused", "redeemed", "disabled"]
    created_at: datetime
    redeemed_at: datetime | None
    redeemed_by: str | None = Field(description="The key that redeemed it.")
    redeemed_user_id: str | None = Field(description="The account it credited.")
    redeemed_username: str | None
    disabled_at: datetime | None


class CodeRows(WireModel):
    object: Literal["list"] = "list"
    data: list[CodeRow]


class UserKeyFields(RequestModel):
    """A key an account makes for itself: its own sub-limits, never admin, never cheaper."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=200)
    expires_at: datetime | None = None
    quota_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    quota: float | None = Field(default=None, strict=True, ge=0, le=MAX_AMOUNT)
    allowed_models: list[str] | None = None
    allowed_kbs: list[str] | None = None
    rpm: int | None = Field(default=None, ge=1, le=MAX_RATE)
    tpm: int | None = Field(default=None, ge=1, le=MAX_RATE)

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return KeyFields._aware(value)  # the same UTC rule as an admin's key
