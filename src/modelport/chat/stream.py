"""One streamed answer: provider chunks in, SSE bytes out, in the OpenAI/Baichuan wire format.

Shape of what the client gets: chunks with our id and the public model name; the first delta
of each choice carries the role; the chunk with `finish_reason` carries `usage` (Baichuan's
style; with n > 1, the last choice to finish); with `stream_options.include_usage` also
OpenAI's usage-only chunk (`choices: []`); then `data: [DONE]`. A failure after the first byte
becomes an error event, then `[DONE]`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, Usage
from ..protocol.errors import APIError
from .sse import DONE, error_event, event

# Settles the bill: (usage or None if unknown, HTTP status, error code or None, whether the
# usage is an estimate because the upstream reported none).
Settle = Callable[[Usage | None, int, str | None, bool], Awaitable[None]]

T = TypeVar("T")


class SettlingStream(ABC, Generic[T]):
    """Async iterator of SSE bytes made from a source of `T`; `aclose()` stops the source and
    settles usage exactly once. Subclasses make the frames and say what to bill."""

    def __init__(
        self,
        source: AsyncIterator[T],
        first: T | None,
        public_model: str,
        completion_id: str,
        settle: Settle,
    ) -> None:
        self._source = source
        self._first = first
        self._model = public_model
        self._id = completion_id
        self._created = int(time.time())
        self._settle = settle
        self._usage: Usage | None = None  # as the source reported it
        self._error: APIError | None = None
        self._finished = False
        self._closed = False
        self._body = self._frames()

    def __aiter__(self) -> AsyncGenerator[bytes, None]:
        # The frames' generator itself: a stream's consumer saves a call per frame.
        return self._body

    async def __anext__(self) -> bytes:
        return await self._body.__anext__()

    @abstractmethod
    def _frames(self) -> AsyncGenerator[bytes, None]:
        """The SSE bytes, frame by frame (called once, by `__init__`)."""

    @abstractmethod
    def _billed(self) -> tuple[Usage | None, bool]:
        """What to bill once the source is closed, and whether it is an estimate."""

    async def aclose(self) -> None:
        """Stop the source (the client may have left) and record what was really produced."""
        if self._closed:
            return
        self._closed = True
        await self._body.aclose()
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()
        usage, estimated = self._billed()
        await settle_outcome(self._settle, usage, estimated, self._error, self._finished)


class ChatStream(SettlingStream[ChatCompletionChunk]):
    """A stream of our own chunk objects (any provider, and augmented answers)."""

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
        self._request = request
        self._extras = extras or {}
        self._held: list[ChatCompletionChunk] = []  # finish chunks, released with usage
        super().__init__(source, first, public_model, completion_id, settle)

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

    def _billed(self) -> tuple[Usage | None, bool]:
        known = getattr(self._source, "usage", None)  # the local engine counts exactly
        usage = known if isinstance(known, Usage) else self._usage
        return usage, bool(getattr(self._source, "estimated", False))


async def settle_outcome(
    settle: Settle, usage: Usage | None, estimated: bool, error: APIError | None, finished: bool
) -> None:
    """Book a closed stream: failed (with the error's status), finished, or left by the client."""
    if error is not None:
        code = error.code or error.type  # upstream errors may carry no code
        await settle(usage, error.status, code, estimated)
    elif finished:
        await settle(usage, 200, None, estimated)
    else:
        await settle(usage, 499, "client_disconnected", estimated)
