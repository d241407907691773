"""The values passed between parsing, chunking and indexing."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FileKind(StrEnum):
    """The formats `parse.py` understands."""

    PDF = "pdf"
    DOCX = "docx"
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text from one place in a document: a page and/or a heading's section."""

    text: str
    page: int | None = None  # 1-based, PDF only
    heading: str | None = None  # "Chapter > Section" breadcrumb, where the format has headings


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    filename: str
    kind: FileKind
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage; `seq` orders the chunks of a file."""

    seq: int
    text: str
    page: int | None = None
    heading: str | None = None

    @property
    def search_text(self) -> str:
        # The heading is indexed with the body so "年假 policy" finds a section titled 年假.
        return f"{self.heading}\n{self.text}" if self.heading else self.text
