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


class SSEDataSplitter:
    """The bytes-level twin of `iter_sse` for the relay path: feed it network reads as they
    come, get back the `data` of every event they complete (bytes, multi-line data joined
    with LF). Same rules: lines end in LF, CRLF or CR; a blank line ends an event; comments
    and other fields are skipped; `close()` returns a last event that was never terminated.
    Working on whole reads instead of one line at a time is what makes relaying cheap."""

    def __init__(self) -> None:
        self._rest = b""  # an unfinished line (with a held CR: maybe half of a CRLF)
        self._data: list[bytes] = []

    def feed(self, block: bytes) -> list[bytes]:
        if not self._rest and not self._data and block.endswith(b"\n\n") and b"\r" not in block:
            # The usual read: whole events of one `data: ` line each. Splitting it on blank
            # lines gives the same events as the line-by-line rules, in a third of the time.
            pieces = block.split(b"\n\n")
            pieces.pop()  # the empty rest after the last event
            if (  # no line in any event but its data line (counted, not looped over)
                block.count(b"\n") == 2 * len(pieces)
                and block.startswith(b"data: ")
                and block.count(b"\n\ndata: ") == len(pieces) - 1
            ):
                return [piece[6:] for piece in pieces]
        text = self._rest + block
        held_cr = False
        if b"\r" in text:
            held_cr = text.endswith(b"\r")
            if held_cr:
                text = text[:-1]
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = text.split(b"\n")
        rest = lines.pop()
        self._rest = rest + b"\r" if held_cr else rest
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            elif line == b"data":
                data.append(b"")
        return events

    def close(self) -> list[bytes]:
        rest, self._rest = self._rest.rstrip(b"\r"), b""
        return self.feed(rest + b"\n\n") if rest or self._data else []
