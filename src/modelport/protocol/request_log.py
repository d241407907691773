"""`GET /v1/usage/requests` and `GET /admin/usage/requests`: recent requests, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, computed_field

from .admin import MICROS
from .base import WireModel


class RequestLogEntry(WireModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    request_id: str
    key_id: str
    model: str
    provider: str
    status: int
    error_code: str | None
    stream: bool
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_micros: int
    searches: int = 0  # web searches made for the request (billed per search)
    estimated: bool = False  # token counts estimated: the upstream reported none
    detail: str | None = None  # what a request not counted in tokens bought: images, tasks
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return self.cost_micros / MICROS


class RequestLog(WireModel):
    object: Literal["list"] = "list"
    data: list[RequestLogEntry]
