"""Reading server-sent events from an upstream HTTP response (text/event-stream)."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

_NEWLINE = re.compile("\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    event: str | None
    data: str


async def iter_lines(blocks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Network reads as text lines (UTF-8, undecodable bytes replaced), split at CR, LF or
    CRLF as server-sent events are, whichever read a line ends in."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    rest = ""
    async for data in blocks:
        text = rest + decoder.decode(data)
        held_cr = text.endswith("\r")  # maybe the first half of a CRLF
        lines = _NEWLINE.split(text[:-1] if held_cr else text)
        rest = lines.pop() + ("\r" if held_cr else "")
        for line in lines:
            yield line
    rest += decoder.decode(b"", final=True)
    for line in _NEWLINE.split(rest):
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
