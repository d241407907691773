"""`/admin/channels`: runtime channels as the admin API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from .base import WireModel

ChannelStatus = Literal["enabled", "disabled", "auto_disabled"]
BreakerState = Literal["closed", "open", "half_open"]


class PriceFields(WireModel):
    """Currency units per 1,000 tokens; overrides the model's price on this channel."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(default=0.0, ge=0)
    completion: float = Field(default=0.0, ge=0)
    per_search: float = Field(default=0.0, ge=0)
    cached_prompt: float | None = Field(default=None, ge=0)


class ChannelFields(WireModel):
    """What an operator sets. On `PATCH` only the fields sent change; `api_keys` sent
    replace the stored ones (they are shown masked, so they are never sent back as read)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    provider: str | None = Field(default=None, min_length=1, max_length=64)
    base_url: str | None = Field(default=None, max_length=500)
    api_keys: list[str] | None = Field(default=None, max_length=100)
    models: list[str] | None = Field(default=None, max_length=500)
    model_mapping: dict[str, str] | None = None
    weight: int | None = Field(default=None, ge=0, le=10_000)
    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    groups: list[str] | None = Field(default=None, max_length=100)
    proxy: str | None = Field(default=None, max_length=500)
    connect_timeout: float | None = Field(default=None, gt=0, le=600)
    read_timeout: float | None = Field(default=None, gt=0, le=3600)
    first_token_timeout: float | None = Field(default=None, gt=0, le=3600)
    idle_timeout: float | None = Field(default=None, gt=0, le=3600)
    price: PriceFields | None = None
    options: dict[str, Any] | None = None
    status: Literal["enabled", "disabled"] | None = None
    auto_probe: bool | None = None
    balance_kind: str | None = Field(default=None, max_length=32)


class ChannelInfo(WireModel):
    """A channel as shown: keys masked; `source` says whether the admin API may change it
    (`database`, one row per channel) or it comes from the settings file (`config`,
    read-only, one row per model's channel: `model#index`). Health is this replica's
    circuit breaker for the channel."""

    id: str
    source: Literal["database", "config"]
    model: str | None = None  # a config channel's model
    name: str
    provider: str
    base_url: str | None
    api_keys: list[str]  # masked
    models: list[str]
    model_mapping: dict[str, str]
    weight: int
    priority: int
    groups: list[str] | None
    proxy: str | None
    connect_timeout: float
    read_timeout: float
    first_token_timeout: float | None
    idle_timeout: float | None
    price: PriceFields | None
    options: dict[str, Any]  # secret-looking values masked
    status: ChannelStatus
    status_reason: str | None = None
    status_at: datetime | None = None
    auto_probe: bool = False
    balance_kind: str | None = None
    balance: str | None = None
    balance_currency: str | None = None
    balance_at: datetime | None = None
    last_test_at: datetime | None = None
    last_test_ms: int | None = None
    last_test_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    state: BreakerState
    recent_failures: int
    recent_calls: int
    opened_for: float  # seconds until a probe is allowed (0 unless open)
    total_failures: int
    total_successes: int


class ChannelInfoList(WireModel):
    object: Literal["list"] = "list"
    data: list[ChannelInfo]


class ChannelTestResult(WireModel):
    ok: bool
    model: str
    latency_ms: int
    status: int | None = None
    error: str | None = None
    code: str | None = None


class ChannelBalance(WireModel):
    balance: str | None
    currency: str | None
    kind: str
    fetched_at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)


class ChannelDeleted(WireModel):
    id: str
    object: Literal["channel"] = "channel"
    deleted: bool = True
