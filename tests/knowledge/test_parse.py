from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest

from modelport.knowledge import _docx
from modelport.knowledge.document import FileKind
from modelport.knowledge.errors import ParseError, UnsupportedFileType
from modelport.knowledge.parse import detect_kind, parse_document


def test_pdf_keeps_page_numbers(make_pdf: Callable[..., bytes]) -> None:
    data = make_pdf(["Vacation policy\nStaff get ten days.", "", "Expenses within 30 days."])
    doc = parse_document(data, "handbook.pdf", "application/pdf")
    assert doc.kind is FileKind.PDF
    assert [(s.page, s.text) for s in doc.segments] == [
        (1, "Vacation policy\nStaff get ten days."),
        (3, "Expenses within 30 days."),
    ]


def test_pdf_with_empty_user_password_opens(make_pdf: Callable[..., bytes]) -> None:
    doc = parse_document(make_pdf(["Open to all."], password=""), "open.pdf")
    assert doc.segments[0].text == "Open to all."


def test_encrypted_pdf_raises_parse_error(make_pdf: Callable[..., bytes]) -> None:
    with pytest.raises(ParseError, match="encrypted"):
        parse_document(make_pdf(["secret"], password="s3cret"), "locked.pdf")


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n1 0 obj << /Type /Catalog", b"%PDF-1.7\n" + b"\x00\x01garbage" * 50],
)
def test_corrupt_pdf_raises_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError, match="PDF is damaged"):
        parse_document(data, "broken.pdf")


def test_docx_headings_and_tables(make_docx: Callable[[list[tuple[str, str]]], bytes]) -> None:
    data = make_docx(
        [
            ("p", "前言内容"),
            ("h1", "员工手册"),
            ("h2", "休假"),
            ("p", "员工每年享有十天年假。"),
            ("table", "类型|天数"),
            ("h2", "报销"),
            ("p", "出差后三十天内提交报销。"),
            ("h1", "附录"),
            ("p", "联系人事部。"),
        ]
    )
    doc = parse_document(data, "手册.docx")
    assert doc.kind is FileKind.DOCX
    assert [(s.heading, s.text) for s in doc.segments] == [
        (None, "前言内容"),
        ("员工手册 > 休假", "员工每年享有十天年假。\n类型 | 天数"),
        ("员工手册 > 报销", "出差后三十天内提交报销。"),
        ("附录", "联系人事部。"),
    ]


def test_docx_zip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x20" * 2_000_000)  # compresses to ~2 KB
    monkeypatch.setattr(_docx, "DOCX_MAX_UNPACKED_BYTES", 1_000_000)
    assert len(buffer.getvalue()) < 20_000
    with pytest.raises(ParseError, match="zip bomb"):
        parse_document(buffer.getvalue(), "bomb.docx")


def test_markdown_headings_skip_code_fences() -> None:
    text = (
        "intro line\n# 知识库\n## Setup\nInstall it.\n```\n# not a heading\n```\n"
        "Usage\n-----\nCall it.\n"
    )
    doc = parse_document(text.encode(), "README.md", "text/plain")
    assert doc.kind is FileKind.MARKDOWN
    assert [(s.heading, s.text) for s in doc.segments] == [
        (None, "intro line"),
        ("知识库 > Setup", "Install it.\n```\n# not a heading\n```"),
        ("知识库 > Usage", "Call it."),
    ]


def test_html_keeps_headings_and_drops_boilerplate() -> None:
    html = """<!doctype html><html><head><title>t</title><style>p{color:red}</style></head>
    <body><nav><a href="/">首页</a> <a>登录</a></nav>
    <h1>报销制度</h1><p>出差后&nbsp;三十天内<b>提交</b>。</p><script>var x = "年假";</script>
    <h2>Limits</h2><ul><li>Hotel: 500</li><li>Meals: 100</li></ul>
    <footer>© 2024 Corp</footer></body></html>"""
    doc = parse_document(html.encode(), "policy.html")
    assert [(s.heading, s.text) for s in doc.segments] == [
        ("报销制度", "出差后 三十天内提交。"),
        ("报销制度 > Limits", "Hotel: 500\nMeals: 100"),
    ]


def test_text_csv_json_and_gb18030() -> None:
    assert parse_document("员工手册".encode("gb18030"), "a.txt").segments[0].text == "员工手册"
    csv_doc = parse_document(b'name,days\n"Annual, paid",10\n', "leave.csv")
    assert csv_doc.segments[0].text == "name, days\nAnnual, paid, 10"
    json_doc = parse_document('{"假期": "年假"}'.encode(), "data.json", "application/json")
    assert "年假" in json_doc.segments[0].text
    with pytest.raises(ParseError, match="JSON"):
        parse_document(b"{not json", "data.json")


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "message"),
    [
        (b"\x89PNG\r\n\x1a\nxxxx", "photo.png", None, "unsupported file type"),
        (b"hello", "slides.pptx", None, "unsupported file type"),
        (b"\x89PNG\r\n\x1a\nxxxx", "scan.pdf", None, "PNG image"),
        (b"plain words", "report.pdf", None, "content is text"),
        (b"%PDF-1.4\n", "notes.txt", None, "declared as text"),
        (b"hello", "a.txt", "image/png", "unsupported content type"),
        (b"hello", "a.docx", "application/pdf", "does not match"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old.doc", None, "unsupported"),
    ],
)
def test_unsupported_or_mismatched_types(
    data: bytes, filename: str, content_type: str | None, message: str
) -> None:
    with pytest.raises(UnsupportedFileType, match=message):
        parse_document(data, filename, content_type)


def test_non_word_zip_is_unsupported() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedFileType, match="zip"):
        parse_document(buffer.getvalue(), "sheet.docx")


def test_kind_detected_from_content_without_a_name(make_pdf: Callable[..., bytes]) -> None:
    assert detect_kind(make_pdf(["x"]), "upload") is FileKind.PDF
    assert detect_kind(b"<!DOCTYPE html><p>x</p>", "upload") is FileKind.HTML
    assert detect_kind("纯文本".encode(), "upload") is FileKind.TEXT
    assert detect_kind(b"junk\n" + make_pdf(["x"]), "upload") is FileKind.PDF
    assert detect_kind(b"How to read %PDF-1.7 headers", "notes.txt") is FileKind.TEXT


def test_empty_file_raises_parse_error() -> None:
    with pytest.raises(ParseError, match="no text"):
        parse_document(b"  \n\n ", "empty.txt")
