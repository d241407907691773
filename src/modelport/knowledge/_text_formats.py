"""Readers for text formats: plain text, Markdown, HTML, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

from .document import Segment
from .errors import ParseError

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# Content we never want in a passage: code, styling and site chrome rather than the page's text.
_HTML_SKIP = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "footer",
        "aside",
        "svg",
        "iframe",
        "head",
        "form",
        "button",
        "select",
    ]
)
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_BLOCKS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "blockquote",
        "pre",
        "dd",
        "dt",
        "dl",
        "figcaption",
        "header",
        "br",
        "hr",
        "td",
        "th",
    ]
)


def clean_text(text: str) -> str:
    """Unify newlines, trim trailing spaces per line and collapse runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), then UTF-16 by BOM, then GB18030 for legacy Chinese files."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(f"text is not valid UTF-16: {exc}") from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ParseError("text is neither UTF-8 nor GB18030")


def read_text(text: str) -> list[Segment]:
    return _nonempty([Segment(text=clean_text(text))])


def read_markdown(text: str) -> list[Segment]:
    """Sections split at ATX (`# x`) and setext headings; `#` inside code fences is code."""
    headings: list[str] = []
    segments: list[Segment] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = clean_text("\n".join(lines))
        if body:
            segments.append(Segment(text=body, heading=" > ".join(headings) or None))
        lines.clear()

    def open_section(level: int, title: str) -> None:
        flush()
        del headings[level - 1 :]
        headings.append(title.strip())

    for line in text.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        atx = None if in_fence else _ATX_HEADING.match(line)
        setext = None if in_fence or not lines else _SETEXT_UNDERLINE.match(line)
        if atx:
            open_section(len(atx.group(1)), atx.group(2))
        elif setext and lines[-1].strip():
            title = lines.pop()
            open_section(1 if setext.group(1)[0] == "=" else 2, title)
        else:
            lines.append(line)
    flush()
    return _nonempty(segments)


class _ReadableHTML(HTMLParser):
    """Collects visible text by heading section, skipping scripts, styles and navigation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[Segment] = []
        self._headings: list[str] = []
        self._parts: list[str] = []
        self._skip_depth = 0
        self._heading_level: int | None = None
        self._heading_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIP:
            self._skip_depth += 1
        elif tag in _HTML_HEADINGS and not self._skip_depth:
            self._flush()
            self._heading_level, self._heading_parts = _HTML_HEADINGS[tag], []
        elif tag in _HTML_BLOCKS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _HTML_HEADINGS and self._heading_level is not None:
            title = " ".join("".join(self._heading_parts).split())
            if title:
                del self._headings[self._heading_level - 1 :]
                self._headings.append(title)
            self._heading_level = None
        elif tag in _HTML_BLOCKS:
            self._parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_BLOCKS and not self._skip_depth:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        target = self._heading_parts if self._heading_level is not None else self._parts
        target.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        # Collapse HTML's insignificant whitespace inside lines, keep block breaks as newlines.
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        body = "\n".join(line for line in lines if line)
        if body:
            heading = " > ".join(self._headings) or None
            self.segments.append(Segment(text=body, heading=heading))
        self._parts = []


def read_html(text: str) -> list[Segment]:
    parser = _ReadableHTML()
    parser.feed(text)
    parser.close()
    return _nonempty(parser.segments)


def read_csv(text: str) -> list[Segment]:
    """Rows as lines of comma-separated cells, re-written so quoting noise disappears."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ParseError(f"CSV is malformed: {exc}") from exc
    lines = (", ".join(cell.strip() for cell in row) for row in rows if any(row))
    return read_text("\n".join(lines))


def read_json(text: str) -> list[Segment]:
    """Pretty-printed with CJK kept readable (no \\u escapes), so words are searchable."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"JSON is malformed: {exc}") from exc
    return read_text(json.dumps(value, ensure_ascii=False, indent=1))


def _nonempty(segments: list[Segment]) -> list[Segment]:
    kept = [s for s in segments if s.text]
    if not kept:
        raise ParseError("document contains no text")
    return kept
