"""DOCX reader: paragraphs with heading levels from their styles; zip bombs, DTDs (entity
expansion) and absurdly deep XML refused as `ParseError`."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING
from xml.parsers import expat

from ._text_formats import clean_text
from .document import Segment
from .errors import ParseError, UnsupportedFileType
from .limits import CharBudget

if TYPE_CHECKING:
    from docx.document import Document

# Caps on a DOCX's unpacked size: a few KB of zip can inflate to gigabytes (zip bomb).
DOCX_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
DOCX_MAX_ENTRIES = 2000
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def read_docx(data: bytes, budget: CharBudget | None = None) -> list[Segment]:
    """Paragraphs and tables in body order, each under its heading breadcrumb."""
    _check_zip(data)
    import docx  # lazy: parsing libraries load only when a file of that type arrives
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError: nesting past its depth limit (256) and
        # entity amplification end up here rather than as a 500.
        raise ParseError(f"DOCX is damaged or unreadable: {exc}") from exc
    budget = budget or CharBudget(None)
    style_names, default_style = _paragraph_styles(document)
    headings: list[str] = []
    segments: list[Segment] = []
    lines: list[str] = []

    def flush() -> None:
        text = clean_text("\n".join(lines))
        if text:
            segments.append(Segment(text=text, heading=" > ".join(headings) or None))
        lines.clear()

    paragraph_tag, table_tag, properties_tag = qn("w:p"), qn("w:tbl"), qn("w:pPr")
    # The body's XML directly, not python-docx's block objects: their style lookup scans the
    # styles part per paragraph, which made a megabyte of empty paragraphs take minutes.
    for element in document.element.body.iterchildren():
        if element.tag == table_tag:
            for row in Table(element, document).rows:
                line = " | ".join(cell.text.strip() for cell in row.cells)
                budget.take(len(line) + 1)
                lines.append(line)
            continue
        if element.tag != paragraph_tag:
            continue
        budget.take(1)  # the line break; empty paragraphs count, or millions would be free
        if len(element) == 0:  # `<w:p/>`: an empty line, no style to look up
            lines.append("")
            continue
        has_content = any(child.tag != properties_tag for child in element)
        text = Paragraph(element, document).text if has_content else ""
        budget.take(len(text))
        style_id = element.style
        level = _heading_level(style_names.get(style_id, default_style) if style_id else None)
        if level is None or not text.strip():
            lines.append(text)
            continue
        flush()
        del headings[level - 1 :]
        headings.append(text.strip())
    flush()
    if not segments:
        raise ParseError("DOCX contains no text")
    return segments


def _paragraph_styles(document: Document) -> tuple[dict[str, str], str | None]:
    """Paragraph style names by id, and the default style's name, read once per file."""
    from docx.enum.style import WD_STYLE_TYPE

    names = {
        style.style_id: style.name or ""
        for style in document.styles
        if style.type == WD_STYLE_TYPE.PARAGRAPH
    }
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    return names, default.name if default is not None else None


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
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # Every part, not only `*.xml`: the package's relationships may name any part as the
        # document. On binary parts (images) expat stops at the first byte it cannot read.
        for entry in entries:
            _refuse_dtd(entry.filename, archive.read(entry))


class _DtdFound(Exception):
    pass


def _refuse_dtd(name: str, xml: bytes) -> None:
    """Refuse a part with a document type declaration before lxml sees it.

    Word never writes one; in a hostile file it declares entities that expand a few KB into
    gigabytes ("billion laughs") or point outside the file. This is defusedxml's `forbid_dtd`
    done with the standard library's expat, which streams the part without building a tree
    (so it costs a fraction of the real parse) and stops at the declaration, before any
    entity is expanded. Malformed XML is left for the real parser to report.
    """

    def refuse(*_args: object) -> None:
        raise _DtdFound

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(xml, True)
    except _DtdFound:
        raise ParseError(
            f"DOCX part {name} declares a DTD (entity declarations), which Word documents "
            "never contain; refused"
        ) from None
    except expat.ExpatError:
        pass


def is_docx_zip(data: bytes) -> bool:
    """A zip holding `word/document.xml` (xlsx/pptx/plain zips are not)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
