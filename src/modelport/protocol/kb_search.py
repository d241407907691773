"""`POST /v1/kbs/{id}/search`: the passages a query would cite, without asking a model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import RequestModel, WireModel


class KbSearchRequest(RequestModel):
    query: str = Field(min_length=1, max_length=2000)
    top_k: int | None = Field(default=None, ge=1, le=20, description="Default: the server's.")
    score_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Least relevance (score) a hit needs."
    )


class KbSearchHit(WireModel):
    kb_id: str
    file_id: str
    filename: str
    page: int | None
    heading: str | None
    content: str
    score: float


class KbSearchResult(WireModel):
    object: Literal["list"] = "list"
    data: list[KbSearchHit]
    pending_files: int = Field(description="Attached files still ingesting, not yet searched.")
