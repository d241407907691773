"""One streamed answer: provider items in, SSE bytes out, in the OpenAI/Baichuan wire format.

Shape of what the client gets: chunks with our id and the public model name; the first delta
of each choice carries the role; the chunk with `finish_reason` carries `usage` (Baichuan's
style; with n > 1, the last choice to finish); with `stream_options.include_usage` also
OpenAI's usage-only chunk (`choices: []`); then `data: [DONE]`. A failure after the first byte
becomes an error event, then `[DONE]`. `aclose()` stops the source and settles the bill
exactly once, with what the source says was produced.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, ChunkChoice, Usage
from ..protocol.errors import APIError
from ..providers.stream import Batch, StreamEnd
from ..routing.timeouts import WatchedStream
from .sse import DONE, error_event, event

# Settles the bill: (usage, HTTP status, error code or None, whether the usage is an estimate).
Settle = Callable[[Usage, int, str | None, bool], Awaitable[None]]
# Keeps what a stream under way has produced so far (usage, whether an estimate).
Progress = Callable[[Usage, bool], None]
# Another wire shape for each chunk (a legacy completion's events; or a Responses stream's
# frames, as ready bytes); None drops the chunk.
Shape = Callable[[ChatCompletionChunk], BaseModel | bytes | None]
PROGRESS_EVERY = 1.0  # seconds: the most a crash can lose of a stream's usage


class ChatStream:
    """Async iterator of SSE bytes made from a provider's stream."""

    def __init__(
        self,
        source: WatchedStream,
        first: Batch | None,
        request: ChatCompletionRequest,
        public_model: str,
        completion_id: str,
        settle: Settle,
        extras: dict[str, Any] | None = None,
        progress: Progress | None = None,
        shape: Shape | None = None,
    ) -> None:
        self._source = source
        self._shape = shape
        self._progress = progress
        self._next_progress = time.monotonic() + PROGRESS_EVERY
        self._first = first
        self._include_usage = bool(request.stream_options and request.stream_options.include_usage)
        self._model = public_model
        self._id = completion_id
        self._created = int(time.time())
        self._settle = settle
        self._extras = extras or {}
        self._held: list[ChatCompletionChunk] = []  # finish chunks, released with usage
        self._error: APIError | None = None
        self._finished = False
        self._closed = False
        self._body = self._frames()

    def __aiter__(self) -> AsyncGenerator[bytes, None]:
        # The frames' generator itself: a stream's consumer saves a call per frame.
        return self._body

    async def __anext__(self) -> bytes:
        return await self._body.__anext__()

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        try:
            if self._first is not None:
                frame = self._accept(self._first)
                if frame:
                    yield frame
            async for batch in self._source:
                frame = self._accept(batch)
                if frame:
                    yield frame
                if self._progress is not None and time.monotonic() >= self._next_progress:
                    self._next_progress = time.monotonic() + PROGRESS_EVERY
                    end = self._source.billed()
                    self._progress(end.usage, end.estimated)
        except APIError as exc:
            self._error = exc
            yield self._release_held() + error_event(exc) + DONE
            return
        tail = self._release_held()
        if self._include_usage:
            tail += self._event(self._chunk([], usage=self._source.billed().usage))
        self._finished = True
        yield tail + DONE

    def _chunk(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self._id, created=self._created, model=self._model, choices=choices, usage=usage
        )

    def _accept(self, batch: Batch) -> bytes:
        """The SSE bytes of one batch (one frame, so one `send`)."""
        events: list[bytes] = []
        for item in batch:
            if isinstance(item, StreamEnd) or not item.choices:
                continue
            # The chunk is ours alone from here: it takes our id, model and time in place.
            item.id, item.model, item.created, item.usage = (
                self._id,
                self._model,
                self._created,
                None,
            )
            if any(c.finish_reason for c in item.choices):
                self._held.append(item)
            else:
                events.append(event(item) if self._shape is None else self._event(item))
        return b"".join(events)

    def _event(self, chunk: ChatCompletionChunk) -> bytes:
        if self._shape is None:
            return event(chunk)
        shaped = self._shape(chunk)
        if shaped is None or isinstance(shaped, bytes):
            return shaped or b""
        return event(shaped)

    def _release_held(self) -> bytes:
        held, self._held = self._held, []
        if not held:
            return b""
        last = held[-1]
        last.usage = self._source.billed().usage
        for key, value in self._extras.items():
            setattr(last, key, value)
        return b"".join(self._event(chunk) for chunk in held)

    async def aclose(self) -> None:
        """Stop the source (the client may have left) and record what was really produced."""
        if self._closed:
            return
        self._closed = True
        await self._body.aclose()
        await self._source.aclose()
        end = self._source.billed()
        error = self._error
        if error is not None:
            code = error.code or error.type  # upstream errors may carry no code
            await self._settle(end.usage, error.status, code, end.estimated)
        elif self._finished:
            await self._settle(end.usage, 200, None, end.estimated)
        else:
            await self._settle(end.usage, 499, "client_disconnected", end.estimated)
