"""DOCX reader: paragraphs with heading levels from their styles, zip bombs refused."""

from __future__ import annotations

import io
import re
import zipfile

from ._text_formats import clean_text
from .document import Segment
from .errors import ParseError, UnsupportedFileType

# Caps on a DOCX's unpacked size: a few KB of zip can inflate to gigabytes (zip bomb).
DOCX_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
DOCX_MAX_ENTRIES = 2000
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes) -> list[Segment]:
    """Paragraphs and tables in body order, each under its heading breadcrumb."""
    _check_zip(data)
    import docx  # lazy, as above
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ParseError(f"DOCX is damaged or unreadable: {exc}") from exc
    headings: list[str] = []
    segments: list[Segment] = []
    lines: list[str] = []

    def flush() -> None:
        text = clean_text("\n".join(lines))
        if text:
            segments.append(Segment(text=text, heading=" > ".join(headings) or None))
        lines.clear()

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(" | ".join(c.text.strip() for c in row.cells) for row in block.rows)
            continue
        level = _heading_level(block.style.name if block.style is not None else None)
        if level is None or not block.text.strip():
            lines.append(block.text)
            continue
        flush()
        del headings[level - 1 :]
        headings.append(block.text.strip())
    flush()
    if not segments:
        raise ParseError("DOCX contains no text")
    return segments


def _heading_level(style_name: str | None) -> int | None:
    if not style_name:
        return None
    if style_name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style_name.strip())
    return int(match.group(1)) if match else None


def _check_zip(data: bytes) -> None:
    """Refuse archives that are not Word documents or would unpack past our caps."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ParseError(f"DOCX is not a valid zip archive: {exc}") from exc
    names = {entry.filename for entry in entries}
    if "word/document.xml" not in names:
        raise UnsupportedFileType("zip archive is not a Word (.docx) document")
    if len(entries) > DOCX_MAX_ENTRIES:
        raise ParseError(f"DOCX has too many parts ({len(entries)} > {DOCX_MAX_ENTRIES})")
    # zipfile stops inflating at each entry's declared size, so the declared total is a hard cap.
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > DOCX_MAX_UNPACKED_BYTES:
        raise ParseError(
            f"DOCX would unpack to {unpacked} bytes (limit {DOCX_MAX_UNPACKED_BYTES}); "
            "refusing a possible zip bomb"
        )


def is_docx_zip(data: bytes) -> bool:
    """A zip holding `word/document.xml` (xlsx/pptx/plain zips are not)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
