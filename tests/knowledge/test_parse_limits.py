"""Issue 17, item 3: hostile files end fast, as `ParseError`s, within the parse limits."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib

import pytest

from modelport.knowledge.chunk import SplitConfig
from modelport.knowledge.errors import IngestionCancelled, ParseError, ParseLimitExceeded
from modelport.knowledge.limits import ParseLimits
from modelport.knowledge.parse import parse_document
from modelport.knowledge.sandbox import ParseSandbox
from tests.knowledge.hostile import (
    deep_docx,
    empty_paragraphs_docx,
    entity_bomb_docx,
    entity_bomb_in_a_renamed_part,
    shared_stream_pdf,
)


@pytest.fixture(scope="module")
def sandbox() -> ParseSandbox:
    warm = ParseSandbox(ParseLimits(seconds=30))
    warm.warm_up()  # the forkserver imports the parsers once, before any clock runs
    return warm


@pytest.mark.timeout(60)
def test_a_megabyte_of_empty_paragraphs_parses_in_seconds() -> None:
    started = time.monotonic()
    document = parse_document(empty_paragraphs_docx(), "empty.docx")
    assert document.text == "The end."
    assert time.monotonic() - started < 10  # minutes before: one style lookup per paragraph


@pytest.mark.parametrize(
    "build",
    [deep_docx, entity_bomb_docx, entity_bomb_in_a_renamed_part],
    ids=["deep", "entities", "entities-in-a-renamed-part"],
)
def test_hostile_xml_is_a_parse_error(build: object) -> None:
    assert callable(build)
    with pytest.raises(ParseError, match="DOCX"):
        parse_document(build(), "hostile.docx")


def test_pages_sharing_a_content_stream_stop_at_the_character_cap() -> None:
    data = shared_stream_pdf()
    assert len(data) < 20_000  # a small file ...
    started = time.monotonic()
    with pytest.raises(ParseLimitExceeded, match="more than 1,000,000 characters"):
        parse_document(data, "shared.pdf", max_chars=1_000_000)  # ... of 12 M characters
    assert time.monotonic() - started < 15  # stopped after a few pages, not all fifty


def test_a_text_file_over_the_cap_fails_before_it_is_read() -> None:
    with pytest.raises(ParseLimitExceeded):
        parse_document(b"word " * 10_000, "big.txt", max_chars=1000)
    assert parse_document(b"word " * 100, "small.txt", max_chars=1000).text


def test_the_sandbox_kills_a_parse_at_the_time_limit(sandbox: ParseSandbox) -> None:
    slow = ParseSandbox(ParseLimits(seconds=0.3))
    data = empty_paragraphs_docx(4)
    started = time.monotonic()
    with pytest.raises(ParseLimitExceeded, match=r"longer than 0\.3 s"):
        slow.text(data, "slow.docx", None)
    assert time.monotonic() - started < 3
    assert sandbox.text(data, "slow.docx", None) == "The end."  # it was only slow


def test_the_sandbox_caps_chunks_and_reports_errors(sandbox: ParseSandbox) -> None:
    few = ParseSandbox(ParseLimits(seconds=30, max_chunks=3))
    with pytest.raises(ParseLimitExceeded, match="more than 3 chunks"):
        few.chunks(b"a sentence. " * 500, "long.txt", None, SplitConfig(100, 10))
    parsed = sandbox.chunks(b"a sentence. " * 20, "short.txt", None, SplitConfig(100, 10))
    assert parsed.characters > 0 and [c.seq for c in parsed.chunks] == [0, 1, 2]
    with pytest.raises(ParseError, match="DOCX is damaged"):
        sandbox.text(deep_docx(), "deep.docx", None)


def test_cancelling_stops_the_parse_at_once(sandbox: ParseSandbox) -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(IngestionCancelled):
        sandbox.text(empty_paragraphs_docx(8), "slow.docx", None, cancel=cancel)
    assert time.monotonic() - started < 2


def _png() -> bytes:
    """A 1×1 white PNG."""

    def part(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", pixels) + part(b"IEND", b"")


def test_a_docx_with_a_picture_still_parses() -> None:
    """Every part is checked for a DTD, binary ones included: they must pass."""
    import docx

    document = docx.Document()
    document.add_paragraph("Before the picture.")
    document.add_picture(io.BytesIO(_png()))
    out = io.BytesIO()
    document.save(out)
    assert "Before the picture." in parse_document(out.getvalue(), "picture.docx").text
