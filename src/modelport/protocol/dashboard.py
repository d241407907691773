"""`GET /v1/dashboard` and `GET /admin/dashboard`: requests, tokens and cost per day of the
viewer's time zone, the top models, and (admins) each channel's health."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import computed_field

from .admin import MICROS
from .base import WireModel


class _Money(WireModel):
    cost_micros: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return self.cost_micros / MICROS


class DayInfo(_Money):
    date: date  # the viewer's calendar day
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ModelInfo(_Money):
    model: str
    requests: int
    total_tokens: int


class TopModels(WireModel):
    by_requests: list[ModelInfo]
    by_cost: list[ModelInfo]


class ChannelHealthInfo(WireModel):
    id: str  # a runtime channel's `ch_…`, a settings channel's `model#index`
    name: str
    source: Literal["database", "config", "ledger"]  # ledger: seen in the log, now gone
    state: str | None  # this replica's circuit breaker: closed, open, half_open
    opened_for: float = 0.0  # seconds the open breaker still waits
    recent_requests: int  # in the last hour, from the ledger
    recent_errors: int  # of those, status >= 400
    error_rate: float | None  # recent_errors / recent_requests; None without requests
    last_test_at: datetime | None = None
    last_test_ms: int | None = None
    last_test_error: str | None = None


class Dashboard(WireModel):
    object: Literal["dashboard"] = "dashboard"
    tz: str
    currency: str
    start: date  # first day shown, inclusive
    end: date  # last day shown, inclusive
    days: list[DayInfo]
    totals: DayInfo  # the whole range (its `date` is `end`)
    top_models: TopModels
    channels: list[ChannelHealthInfo] | None = None  # admins only
