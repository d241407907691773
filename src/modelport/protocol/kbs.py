"""`/v1/kbs` requests and objects, with Baichuan's field names and limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import RequestModel, WireModel

KbStatus = Literal["init", "parsing", "online", "fail"]
MAX_CHUNK_LEN = 512
MAX_FILES_PER_CALL = 100


class SplitConfigIn(RequestModel):
    """How a knowledge base cuts its files into passages (characters)."""

    chunk_max_len: int = Field(default=500, ge=1, le=MAX_CHUNK_LEN)
    chunk_overlap_len: int = Field(default=50, ge=0)
    separators: list[str] | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _limits(self) -> SplitConfigIn:
        if 2 * self.chunk_overlap_len + 1 > self.chunk_max_len:
            raise ValueError("2 * chunk_overlap_len + 1 must not exceed chunk_max_len")
        if self.separators is not None and any(not s for s in self.separators):
            raise ValueError("separators must be non-empty strings")
        return self


class KnowledgeBaseCreate(RequestModel):
    name: str = Field(min_length=1, max_length=50)
    description: str = Field(default="", max_length=100)
    split_type: str = Field(default="default", min_length=1, max_length=32)
    split_config: SplitConfigIn = Field(default_factory=SplitConfigIn)


class KnowledgeBaseModify(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=100)


class FileIds(RequestModel):
    """The body of attach and detach calls."""

    file_ids: list[str] = Field(min_length=1, max_length=MAX_FILES_PER_CALL)


class SplitConfigOut(WireModel):
    chunk_max_len: int
    chunk_overlap_len: int
    separators: list[str] | None = None


class KnowledgeBaseObject(WireModel):
    id: str
    object: Literal["knowledge-base"] = "knowledge-base"
    name: str
    description: str
    split_type: str
    split_config: SplitConfigOut
    file_ids: list[str]
    status: KbStatus
    created_at: int


class KnowledgeBaseList(WireModel):
    object: Literal["list"] = "list"
    data: list[KnowledgeBaseObject]


class KnowledgeBaseDeleted(WireModel):
    id: str
    object: Literal["knowledge-base"] = "knowledge-base"
    deleted: bool = True


class KnowledgeBaseFile(WireModel):
    """A file attached to a knowledge base and its ingestion status (`reason` when `fail`)."""

    id: str
    object: Literal["knowledge-base.file"] = "knowledge-base.file"
    kb_id: str
    filename: str
    bytes: int
    status: KbStatus
    reason: str | None = None
    chunks: int = 0
    created_at: int


class KnowledgeBaseFileList(WireModel):
    object: Literal["list"] = "list"
    data: list[KnowledgeBaseFile]
