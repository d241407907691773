"""Wire types of the platform: `/admin/keys`, `/admin/redemption-codes`, usage and `/v1/redeem`.

Money goes out twice: as a float in currency units for people and as exact integer micro-units
(`*_micros`) for machines that sum it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from .base import RequestModel, WireModel

MICROS = 1_000_000
# Ceilings that keep every stored figure inside its column (BIGINT counters, INTEGER limits)
# even after a lifetime of credits: past them a value is refused with 400, not a DB overflow.
MAX_TOKENS = 10**15
MAX_AMOUNT = 10**9  # currency units; 10**15 micro-units
MAX_RATE = 2**31 - 1
MAX_MULTIPLIER = 1000.0


class KeyFields(RequestModel):
    """Settable fields of a key; on update only those sent are changed. A misspelt field is
    refused (400), not ignored: an admin's typo must not pass for a change."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Whose files, knowledge bases and usage the key shares; unset at creation: "
        "the key's own id.",
    )
    is_admin: bool | None = None
    expires_at: datetime | None = None
    quota_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS)
    quota: float | None = Field(
        default=None, strict=True, ge=0, le=MAX_AMOUNT, description="Currency quota."
    )
    allowed_models: list[str] | None = None
    allowed_kbs: list[str] | None = None
    rpm: int | None = Field(default=None, ge=1, le=MAX_RATE)
    tpm: int | None = Field(default=None, ge=1, le=MAX_RATE)
    group_multiplier: float | None = Field(default=None, strict=True, ge=0, le=MAX_MULTIPLIER)
    user_id: str | None = Field(
        default=None,
        max_length=40,
        description="The account the key spends from (its quota, group); null: none.",
    )

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """In UTC; a moment that has no UTC date (year 1 at +15:59) is refused, not a 500."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("'expires_at' is out of range") from None


class KeyInfo(WireModel):
    """A key as the admin API shows it: never the secret, only its display hint."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: str
    object: Literal["api_key"] = "api_key"
    display: str
    name: str
    owner: str
    is_admin: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    quota_tokens: int | None
    quota_micros: int | None
    used_tokens: int
    used_micros: int
    allowed_models: list[str] | None
    allowed_kbs: list[str] | None
    rpm: int | None
    tpm: int | None
    group_multiplier: float
    user_id: str | None = Field(default=None, description="The account owning the key.")
    group: str = Field(default="default", description="The account's group.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quota(self) -> float | None:
        return None if self.quota_micros is None else self.quota_micros / MICROS

    @computed_field  # type: ignore[prop-decorator]
    @property
    def used(self) -> float:
        return self.used_micros / MICROS

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Literal["active", "revoked", "expired"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"


class KeyCreated(KeyInfo):
    key: str = Field(description="The secret, shown this once.")


class KeyList(WireModel):
    object: Literal["list"] = "list"
    data: list[KeyInfo]


class CodeBatchRequest(RequestModel):
    batch: str = Field(min_length=1, max_length=100)
    count: int = Field(ge=1, le=10_000)
    tokens: int = Field(default=0, ge=0, le=MAX_TOKENS)
    amount: float = Field(
        default=0.0, ge=0, le=MAX_AMOUNT, description="Currency credited per code."
    )


class CodeInfo(WireModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: str
    display: str
    batch: str
    tokens: int
    micros: int
    created_at: datetime
    redeemed_at: datetime | None
    redeemed_by: str | None


class NewCode(CodeInfo):
    code: str = Field(description="The code, shown this once.")


class CodeBatch(WireModel):
    object: Literal["redemption_code_batch"] = "redemption_code_batch"
    batch: str
    data: list[NewCode]


class CodeList(WireModel):
    object: Literal["list"] = "list"
    data: list[CodeInfo]


class RedeemRequest(RequestModel):
    code: str = Field(min_length=1, max_length=200)


class RedeemResult(WireModel):
    object: Literal["redemption"] = "redemption"
    credited_tokens: int
    credited_micros: int
    key: KeyInfo


class UsageRowInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key_id: str | None = None
    model: str | None = None
    day: str | None = None
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_micros: int
    cached_tokens: int = 0  # of prompt_tokens: read from the vendor's prompt cache
    reasoning_tokens: int = 0  # of completion_tokens: the vendor's reasoning

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return self.cost_micros / MICROS


class UsageInfo(WireModel):
    object: Literal["usage"] = "usage"
    group_by: list[str]
    data: list[UsageRowInfo]
    totals: UsageRowInfo
