"""`GET /v1/usage/requests` and `GET /admin/usage/requests`: the request log, newest first,
a page at a time (`next` is the cursor to pass as `after`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, computed_field

from .admin import MICROS
from .base import WireModel


class RequestLogEntry(WireModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: str
    request_id: str
    created_at: datetime
    user_id: str | None = None  # the account owning the key then (None: a key of its own)
    username: str | None = None
    key_id: str
    key_name: str | None = None  # None once the key is deleted
    model: str
    provider: str
    channel: str | None = None  # the runtime channel's id (`ch_…`) or `model#index`
    channel_name: str | None = None
    status: int
    error_code: str | None
    stream: bool
    latency_ms: int
    ttft_ms: int | None = None  # time to first token; for an answer in one piece its latency
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_micros: int
    currency: str = "USD"
    searches: int = 0  # web searches made for the request (billed per search)
    estimated: bool = False  # token counts estimated: the upstream reported none
    detail: str | None = None  # what a request not counted in tokens bought: images, tasks

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost(self) -> float:
        return self.cost_micros / MICROS


class RequestLog(WireModel):
    object: Literal["list"] = "list"
    data: list[RequestLogEntry]
    next: str | None = None  # pass as `after` for the next page; None on the last page
    has_more: bool = False
