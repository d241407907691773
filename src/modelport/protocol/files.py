"""`/v1/files` objects in Baichuan's (and OpenAI's) shape."""

from __future__ import annotations

from typing import Literal

from .base import WireModel

# Baichuan's two purposes, and those other SDKs send for a file that is to be searched or
# read (OpenAI's `assistants` and `user_data`, Moonshot's `file-extract`): all are stored and
# echoed as sent, and any of them can join a knowledge base. Batch, fine-tune and vision files
# are refused: nothing here would use them.
FilePurpose = Literal["knowledge-base", "file-parsing", "assistants", "user_data", "file-extract"]
FILE_PURPOSES: tuple[str, ...] = (
    "knowledge-base",
    "file-parsing",
    "assistants",
    "user_data",
    "file-extract",
)


class FileObject(WireModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int  # unix seconds
    filename: str
    purpose: str


class FileList(WireModel):
    object: Literal["list"] = "list"
    data: list[FileObject]
    has_more: bool = False  # every file is listed at once; SDKs page on this flag


class FileDeleted(WireModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class ParsedContent(WireModel):
    """The text extracted from an upload, as `/parsed-content` returns it."""

    id: str
    object: Literal["file.parsed_content"] = "file.parsed_content"
    filename: str
    content: str
