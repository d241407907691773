"""Usage for an upstream stream that reports none: count what went through and estimate.

Vendors report usage at the end of a stream. A client that leaves early, or an
OpenAI-compatible server that ignores `stream_options.include_usage`, leaves no report; then
the tokens are estimated from the characters sent and streamed (about four per token), so the
ledger books what was produced instead of nothing. A reported usage always wins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, Usage

CHARS_PER_TOKEN = 4


def estimate_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def prompt_chars(request: ChatCompletionRequest) -> int:
    return sum(len(m.text()) for m in request.messages)


def _delta_chars(chunk: ChatCompletionChunk) -> int:
    chars = 0
    for choice in chunk.choices:
        delta = choice.delta
        chars += len(delta.content or "")
        for call in delta.tool_calls or ():
            if call.function is not None:
                chars += len(call.function.name or "") + len(call.function.arguments or "")
        if delta.function_call is not None:
            call_delta = delta.function_call
            chars += len(call_delta.name or "") + len(call_delta.arguments or "")
    return chars


class MeteredStream:
    """Passes chunks through; `usage` is the source's, the reported one, or an estimate."""

    def __init__(self, source: AsyncIterator[ChatCompletionChunk], prompt_chars: int) -> None:
        self._source = source
        self._prompt_chars = prompt_chars
        self._chars = 0
        self._reported: Usage | None = None
        self.estimated = False  # whether `usage` was last answered with an estimate

    def count(self, chunk: ChatCompletionChunk | None) -> ChatCompletionChunk | None:
        """Meter a chunk that was pulled before this stream existed (the first one)."""
        if chunk is not None:
            if chunk.usage is not None:
                self._reported = chunk.usage
            self._chars += _delta_chars(chunk)
        return chunk

    @property
    def usage(self) -> Usage:
        known = getattr(self._source, "usage", None)
        self.estimated = False
        if isinstance(known, Usage):
            return known
        if self._reported is not None:
            return self._reported
        self.estimated = True
        return Usage.of(estimate_tokens(self._prompt_chars), estimate_tokens(self._chars))

    def __aiter__(self) -> MeteredStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        chunk = await anext(self._source)
        self.count(chunk)
        return chunk

    async def aclose(self) -> None:
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()
