"""Reading server-sent events from an upstream HTTP response (text/event-stream)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_NEWLINE = re.compile("\r\n|\r|\n")
MAX_LINE = 16 * 1024 * 1024  # characters of one line, unless the caller says otherwise


@dataclass(frozen=True)
class ServerSentEvent:
    event: str | None
    data: str


class LineTooLong(ValueError):
    """An event-stream line that grew past the limit without ending."""


class EventParser:
    """Server-sent events from network reads, per the WHATWG rules: lines end in CR, LF or
    CRLF (whichever read they end in), `event:`/`data:` fields (`data:x` and `data: x`),
    multi-line data, comments (`:`), a blank line ends an event, and `close()` hands over a
    last event the upstream never terminated. Text is UTF-8 (undecodable bytes replaced).
    Pieces of an unfinished line are kept in a list (joined once it ends), and past
    `max_line` characters it is refused: an upstream that never ends a line costs neither
    quadratic copying nor memory."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max_line = max_line
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._held: list[str] = []  # an unfinished line, in pieces (maybe half a CRLF)
        self._held_chars = 0
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, block: bytes) -> list[ServerSentEvent]:
        text = self._decoder.decode(block)
        if "\n" not in text and "\r" not in text:
            self._hold(text)
            return []
        if self._held:
            text = "".join(self._held) + text
            self._held.clear()
        held_cr = text.endswith("\r")  # maybe the first half of a CRLF
        lines = _NEWLINE.split(text[:-1] if held_cr else text)
        rest = lines.pop() + ("\r" if held_cr else "")
        self._held_chars = 0
        if rest:
            self._hold(rest)
        return self._events(lines)

    def close(self) -> list[ServerSentEvent]:
        tail = "".join(self._held) + self._decoder.decode(b"", final=True)
        self._held.clear()
        events = self._events([line for line in _NEWLINE.split(tail) if line])
        if self._data:
            events.append(ServerSentEvent(self._event, "\n".join(self._data)))
            self._event, self._data = None, []
        return events

    def _hold(self, text: str) -> None:
        self._held.append(text)
        self._held_chars += len(text)
        if self._held_chars > self._max_line:
            raise LineTooLong(f"a line longer than {self._max_line} characters")

    def _events(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(ServerSentEvent(self._event, "\n".join(self._data)))
                self._event, self._data = None, []
            elif line.startswith("data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(" ") else value)
            elif line == "data":
                self._data.append("")
            elif line.startswith("event:"):
                value = line[6:]
                self._event = value[1:] if value.startswith(" ") else value
        return events
