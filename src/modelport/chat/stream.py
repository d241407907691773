"""One streamed answer: provider chunks in, SSE bytes out, in the OpenAI/Baichuan wire format.

Shape of what the client gets: chunks with our id and the public model name; the first delta
of each choice carries the role; the chunk with `finish_reason` carries `usage` (Baichuan's
style; with n > 1, the last choice to finish); with `stream_options.include_usage` also
OpenAI's usage-only chunk (`choices: []`); then `data: [DONE]`. A failure after the first byte
becomes an error event, then `[DONE]`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, Usage
from ..protocol.errors import APIError
from .sse import DONE, error_event, event

# Settles the bill: (usage or None if unknown, HTTP status, error code or None, whether the
# usage is an estimate because the upstream reported none).
Settle = Callable[[Usage | None, int, str | None, bool], Awaitable[None]]


class ChatStream:
    """Async iterator of SSE bytes; `aclose()` stops the source and settles usage exactly once."""

    def __init__(
        self,
        source: AsyncIterator[ChatCompletionChunk],
        first: ChatCompletionChunk | None,
        request: ChatCompletionRequest,
        public_model: str,
        completion_id: str,
        settle: Settle,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self._source = source
        self._first = first
        self._request = request
        self._model = public_model
        self._id = completion_id
        self._created = int(time.time())
        self._settle = settle
        self._extras = extras or {}
        self._usage: Usage | None = None
        self._error: APIError | None = None
        self._finished = False
        self._closed = False
        self._held: list[ChatCompletionChunk] = []  # finish chunks, released with usage
        self._body = self._frames()

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._body.__anext__()

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        try:
            if self._first is not None:
                for frame in self._accept(self._first):
                    yield frame
            async for chunk in self._source:
                for frame in self._accept(chunk):
                    yield frame
        except APIError as exc:
            self._error = exc
            for frame in self._release_held():
                yield frame
            yield error_event(exc)
            yield DONE
            return
        for frame in self._release_held():
            yield frame
        if self._request.stream_options and self._request.stream_options.include_usage:
            yield event(self._chunk([], usage=self._usage or Usage()))
        self._finished = True
        yield DONE

    def _chunk(self, choices: list[Any], usage: Usage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self._id, created=self._created, model=self._model, choices=choices, usage=usage
        )

    def _accept(self, chunk: ChatCompletionChunk) -> list[bytes]:
        if chunk.usage is not None:
            self._usage = chunk.usage
        if not chunk.choices:
            return []
        out = self._chunk(chunk.choices)
        if any(c.finish_reason for c in chunk.choices):
            self._held.append(out)
            return []
        return [event(out)]

    def _release_held(self) -> list[bytes]:
        held, self._held = self._held, []
        if held:
            last = held[-1]
            last.usage = self._usage
            for key, value in self._extras.items():
                setattr(last, key, value)
        return [event(chunk) for chunk in held]

    async def aclose(self) -> None:
        """Stop generating (the client may have left) and record what was really produced."""
        if self._closed:
            return
        self._closed = True
        await self._body.aclose()
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()
        known = getattr(self._source, "usage", None)
        usage = known if isinstance(known, Usage) else self._usage
        estimated = bool(getattr(self._source, "estimated", False))
        if self._error is not None:
            code = self._error.code or self._error.type  # upstream errors may carry no code
            await self._settle(usage, self._error.status, code, estimated)
        elif self._finished:
            await self._settle(usage, 200, None, estimated)
        else:
            await self._settle(usage, 499, "client_disconnected", estimated)
