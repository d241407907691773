"""Bytes + filename/content type → `ParsedDocument`, with the type checked against the content."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from . import _docx, _pdf, _text_formats
from .document import FileKind, ParsedDocument, Segment
from .errors import UnsupportedFileType
from .limits import CharBudget

_BY_EXTENSION: dict[str, FileKind] = {
    ".pdf": FileKind.PDF,
    ".docx": FileKind.DOCX,
    ".md": FileKind.MARKDOWN,
    ".markdown": FileKind.MARKDOWN,
    ".html": FileKind.HTML,
    ".htm": FileKind.HTML,
    ".txt": FileKind.TEXT,
    ".text": FileKind.TEXT,
    ".log": FileKind.TEXT,
    ".csv": FileKind.CSV,
    ".json": FileKind.JSON,
}
_BY_CONTENT_TYPE: dict[str, FileKind] = {
    "application/pdf": FileKind.PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind.DOCX,
    "text/markdown": FileKind.MARKDOWN,
    "text/x-markdown": FileKind.MARKDOWN,
    "text/html": FileKind.HTML,
    "application/xhtml+xml": FileKind.HTML,
    "text/plain": FileKind.TEXT,
    "text/csv": FileKind.CSV,
    "application/json": FileKind.JSON,
}
# Content types that say nothing about the format; clients send them for any upload.
_GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_TEXT_KINDS = frozenset(
    {FileKind.MARKDOWN, FileKind.HTML, FileKind.TEXT, FileKind.CSV, FileKind.JSON}
)
# Well-known binary signatures we refuse by name rather than by a confusing decode error.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office (.doc/.xls) document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7z archive"),
)
_TEXT_READERS: dict[FileKind, Callable[[str], list[Segment]]] = {
    FileKind.MARKDOWN: _text_formats.read_markdown,
    FileKind.HTML: _text_formats.read_html,
    FileKind.TEXT: _text_formats.read_text,
    FileKind.CSV: _text_formats.read_csv,
    FileKind.JSON: _text_formats.read_json,
}


def parse_document(
    data: bytes, filename: str, content_type: str | None = None, *, max_chars: int | None = None
) -> ParsedDocument:
    """Parse an uploaded file into text segments with page numbers and headings.

    Raises `UnsupportedFileType` for formats we do not read or whose content contradicts the
    name or content type, `ParseError` for damaged, locked or empty files, and its subclass
    `ParseLimitExceeded` as soon as more than `max_chars` characters come out.
    """
    kind = detect_kind(data, filename, content_type)
    budget = CharBudget(max_chars)
    if kind is FileKind.PDF:
        segments = _pdf.read_pdf(data, budget)
    elif kind is FileKind.DOCX:
        segments = _docx.read_docx(data, budget)
    else:
        text = _text_formats.decode_text(data)
        budget.take(len(text))  # a text file's characters are its size: checked up front
        segments = _TEXT_READERS[kind](text)
    return ParsedDocument(filename=filename, kind=kind, segments=tuple(segments))


def detect_kind(data: bytes, filename: str, content_type: str | None = None) -> FileKind:
    """The file's kind from its magic bytes, checked against its extension and content type."""
    declared = _declared_kind(filename, content_type)
    sniffed = _sniff(data)
    if sniffed is None:  # text: the declaration picks among text formats
        if declared is None:
            return FileKind.HTML if _looks_like_html(data) else FileKind.TEXT
        if declared not in _TEXT_KINDS:
            raise UnsupportedFileType(
                f"{filename!r} is declared as {declared.value} but its content is text"
            )
        return declared
    if declared is not None and declared is not sniffed:
        raise UnsupportedFileType(
            f"{filename!r} is declared as {declared.value} but its content is {sniffed.value}"
        )
    return sniffed


def _declared_kind(filename: str, content_type: str | None) -> FileKind | None:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    by_name = _BY_EXTENSION.get(suffix)
    if suffix and by_name is None:
        raise UnsupportedFileType(f"unsupported file type {suffix!r} ({filename!r})")
    media = (content_type or "").split(";")[0].strip().lower()
    by_type = _BY_CONTENT_TYPE.get(media)
    if media not in _GENERIC_CONTENT_TYPES and by_type is None:
        raise UnsupportedFileType(f"unsupported content type {media!r} ({filename!r})")
    if by_name is None:
        return by_type
    both_text = by_name in _TEXT_KINDS and by_type in _TEXT_KINDS
    # text/plain for a .md or .csv is what many clients send: trust the more specific name.
    if by_type is not None and by_type is not by_name and not both_text:
        raise UnsupportedFileType(
            f"{filename!r} has content type {media!r}, which does not match its extension"
        )
    return by_name


def _sniff(data: bytes) -> FileKind | None:
    """PDF or DOCX by signature, None for text; anything else binary is unsupported."""
    if _is_pdf(data):
        return FileKind.PDF
    if data.startswith(b"PK\x03\x04"):
        if _docx.is_docx_zip(data):
            return FileKind.DOCX
        raise UnsupportedFileType("zip archives other than .docx are not supported")
    for magic, name in _BINARY_MAGIC:
        if data.startswith(magic):
            raise UnsupportedFileType(f"unsupported file type: {name}")
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data[:8192] and not utf16:
        raise UnsupportedFileType("unsupported binary file")
    return None


def _is_pdf(data: bytes) -> bool:
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return True
    # Readers also accept the header later in the first KB, after junk some generators emit;
    # requiring the end marker too keeps a text file that mentions "%PDF-" from counting.
    return b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))
