"""Reading server-sent events from an upstream HTTP response (text/event-stream)."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

_NEWLINE = re.compile("\r\n|\r|\n")
MAX_LINE = 16 * 1024 * 1024  # characters of one line, unless the caller says otherwise


@dataclass(frozen=True)
class ServerSentEvent:
    event: str | None
    data: str


class LineTooLong(ValueError):
    """An event-stream line that grew past the limit without ending."""


async def iter_lines(blocks: AsyncIterator[bytes], max_line: int = MAX_LINE) -> AsyncIterator[str]:
    """Network reads as text lines (UTF-8, undecodable bytes replaced), split at CR, LF or
    CRLF as server-sent events are, whichever read a line ends in. Pieces of an unfinished
    line are kept in a list (joined once it ends), and past `max_line` characters it is
    refused: an upstream that never ends a line costs neither quadratic copying nor memory."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    held: list[str] = []  # an unfinished line, in pieces (maybe ending in half a CRLF)
    held_chars = 0
    async for data in blocks:
        text = decoder.decode(data)
        if "\n" not in text and "\r" not in text:
            held.append(text)
            held_chars += len(text)
            if held_chars > max_line:
                raise LineTooLong(f"a line longer than {max_line} characters")
            continue
        if held:
            text = "".join(held) + text
            held.clear()
        held_cr = text.endswith("\r")  # maybe the first half of a CRLF
        lines = _NEWLINE.split(text[:-1] if held_cr else text)
        rest = lines.pop() + ("\r" if held_cr else "")
        for line in lines:
            yield line
        held_chars = len(rest)
        if rest:
            held.append(rest)
    tail = "".join(held) + decoder.decode(b"", final=True)
    for line in _NEWLINE.split(tail):
        if line:
            yield line


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    """Parse SSE per the WHATWG spec: `event:`/`data:` fields, blank line ends an event.

    Accepts `data:x` and `data: x`, multi-line data, comments (`:`), and a final event that the
    upstream forgot to terminate with a blank line.
    """
    event: str | None = None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(event, "\n".join(data))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
    if data:
        yield ServerSentEvent(event, "\n".join(data))
