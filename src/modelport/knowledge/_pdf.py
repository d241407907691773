"""PDF reader: text per page, with page numbers (pypdf, imported on first use)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from ._text_formats import clean_text
from .document import Segment
from .errors import ParseError
from .limits import CharBudget

if TYPE_CHECKING:
    from pypdf import PdfReader


def read_pdf(data: bytes, budget: CharBudget | None = None) -> list[Segment]:
    """One segment per page that has text; raises `ParseError` for corrupt or locked files.

    Pages may share one content stream, so a few KB can extract to millions of characters:
    `budget` stops the page loop as soon as they pass the cap.
    """
    budget = budget or CharBudget(None)
    import pypdf  # lazy: parsing libraries load only when a file of that type arrives
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _unlock(reader):
            raise ParseError("PDF is encrypted with a password")
        segments = []
        for number, page in enumerate(reader.pages, start=1):
            text = clean_text(page.extract_text() or "")
            budget.take(len(text))
            if text:
                segments.append(Segment(text=text, page=number))
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pypdf surfaces damaged structures as assorted built-in errors too.
        raise ParseError(f"PDF is damaged or unreadable: {exc}") from exc
    if not segments:
        raise ParseError("PDF has no extractable text (a scan without a text layer?)")
    return segments


def _unlock(reader: PdfReader) -> bool:
    """Open PDFs that are 'encrypted' with an empty user password, as many generated ones are."""
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except DependencyError as exc:
        raise ParseError(f"PDF uses an encryption we cannot open: {exc}") from exc
