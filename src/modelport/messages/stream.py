"""One streamed Messages answer: the pipeline's batches in, Anthropic's events out.

The published order (https://docs.anthropic.com/en/docs/build-with-claude/streaming):
`message_start`, a `ping`, then per content block `content_block_start`, its
`content_block_delta`s (`thinking_delta`, `text_delta`, `input_json_delta`) and
`content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. A failure
after the first byte is an `error` event, which ends the stream. No `[DONE]`.

From an Anthropic channel the vendor's own events are sent on (`RelayedEvent`s: `model` in
`message_start` made the public name, nothing else touched). From any other channel the
events are built from the chat chunks: blocks open lazily, so thinking without text makes no
empty text block, and a tool call's arguments that come in the chunk that names the call go
out as that block's first `input_json_delta` (not lost behind its `content_block_start`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncGenerator
from typing import Any

from ..chat.stream import ChatStream
from ..protocol.anthropic_messages import message_id
from ..protocol.chat_response import ChatCompletionChunk, FinishReason, Usage
from ..protocol.errors import APIError
from ..protocol.messages_chat import RelayedEvent
from ..providers.chunks import tool_call_id
from ..providers.stream import Batch, StreamEnd
from .errors import error_event
from .response import stop_reason_of

Event = dict[str, Any]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def frame(event: Event) -> bytes:
    """`event: <type>` and `data: <json>`: Anthropic names every event."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    try:
        encoded = data.encode()
    except UnicodeEncodeError:  # lone surrogates from an upstream: U+FFFD, the frame parses
        encoded = _LONE_SURROGATE.sub("\ufffd", data).encode()
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + encoded + b"\n\n"


class EventBuilder:
    """Chat chunks → Messages events (one message, choice 0)."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._id = message_id()
        self._started = False
        self._index = -1  # the last block opened
        self._open: str | None = None  # its kind while open: "thinking", "text" or "tool"
        self._calls: dict[int, int] = {}  # tool call index → its block's index
        self._open_call: int | None = None
        self._finish: FinishReason | None = None

    def start(self, input_tokens: int) -> list[Event]:
        if self._started:
            return []
        self._started = True
        message: Event = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def _close(self) -> list[Event]:
        if self._open is None:
            return []
        self._open, self._open_call = None, None
        return [{"type": "content_block_stop", "index": self._index}]

    def _begin(self, kind: str, block: Event) -> list[Event]:
        events = self._close()
        self._index += 1
        self._open = kind
        return [
            *events,
            {"type": "content_block_start", "index": self._index, "content_block": block},
        ]

    def _delta(self, index: int, delta: Event) -> Event:
        return {"type": "content_block_delta", "index": index, "delta": delta}

    def chunk(self, chunk: ChatCompletionChunk) -> list[Event]:
        events: list[Event] = []
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.reasoning_content:
                if self._open != "thinking":
                    block = {"type": "thinking", "thinking": "", "signature": ""}
                    events += self._begin("thinking", block)
                thinking = {"type": "thinking_delta", "thinking": delta.reasoning_content}
                events.append(self._delta(self._index, thinking))
            if delta.content:
                if self._open != "text":
                    events += self._begin("text", {"type": "text", "text": ""})
                events.append(
                    self._delta(self._index, {"type": "text_delta", "text": delta.content})
                )
            for call in delta.tool_calls or []:
                function = call.function
                if call.index not in self._calls:
                    name = (function.name if function else None) or ""
                    block = {"type": "tool_use", "id": call.id or tool_call_id(), "name": name}
                    events += self._begin("tool", {**block, "input": {}})
                    self._calls[call.index] = self._index
                    self._open_call = call.index
                arguments = function.arguments if function else None
                if arguments:  # the block's own index, even if another call came in between
                    json_delta = {"type": "input_json_delta", "partial_json": arguments}
                    events.append(self._delta(self._calls[call.index], json_delta))
            if choice.finish_reason:
                self._finish = choice.finish_reason
        return events

    def end(self, usage: Usage) -> list[Event]:
        delta = {"stop_reason": stop_reason_of(self._finish), "stop_sequence": None}
        counts = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
        return [
            *self.start(usage.prompt_tokens),
            *self._close(),
            {"type": "message_delta", "delta": delta, "usage": counts},
            {"type": "message_stop"},
        ]


def relayed(event: Event, model: str) -> Event:
    """A vendor event as the client gets it: `model` is the public name."""
    if event.get("type") == "message_start" and isinstance(event.get("message"), dict):
        return {**event, "message": {**event["message"], "model": model}}
    return event


class MessagesStream(ChatStream):
    """`ChatStream`'s settling and closing, with Anthropic's events for the frames."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._events = EventBuilder(self._model)
        self._relay: bool | None = None  # decided by the first item

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        try:
            if self._first is not None:
                out = self._take(self._first)
                if out:
                    yield out
            async for batch in self._source:
                out = self._take(batch)
                if out:
                    yield out
                if self._progress is not None and time.monotonic() >= self._next_progress:
                    self._next_progress = time.monotonic() + 1.0
                    end = self._source.billed()
                    self._progress(end.usage, end.estimated)
        except APIError as exc:
            self._error = exc
            yield error_event(exc)
            return
        self._finished = True
        if not self._relay:
            yield b"".join(frame(e) for e in self._events.end(self._source.billed().usage))

    def _take(self, batch: Batch) -> bytes:
        events: list[Event] = []
        for item in batch:
            if isinstance(item, StreamEnd):
                continue
            if self._relay is None:
                self._relay = isinstance(item, RelayedEvent)
            if isinstance(item, RelayedEvent):
                events.append(relayed(item.event, self._model))
            elif not self._relay:
                events += self._events.start(self._source.billed().usage.prompt_tokens)
                events += self._events.chunk(item)
        return b"".join(frame(e) for e in events)
