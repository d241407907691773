"""A provider's streamed answer: typed chunks, then exactly one `StreamEnd` with the usage.

The stream comes in batches: what one network read (one WebSocket frame, one engine step)
brought, so every layer above (timeouts, health, SSE framing, the server's `send`) runs once
per read rather than once per chunk. Every provider returns its stream wrapped in
`ProviderStream`, which holds the rules all of them share:
- it ends with one `StreamEnd`: the usage the upstream reported, or else an estimate from the
  characters that went through (about four per token), marked as such;
- `billed()` says what to book at any moment, also for a stream closed early (a client that
  left): the end's usage, what the provider counted exactly (the local engine), or the
  estimate;
- once a chunk was handed on, a failure is not retryable (the client has seen output);
- a stream that carries more than its budget (the request's `max_tokens` and some slack) is
  cut with a 502: an upstream that will not stop is not relayed, or billed, without end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, Usage
from .budget import MAX_CHARS_PER_TOKEN, OutputBudget, estimate_tokens, guard_usage, prompt_chars
from .errors import UpstreamError


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The last item of every provider stream."""

    usage: Usage
    estimated: bool = False


StreamItem = ChatCompletionChunk | StreamEnd
Batch = list[StreamItem]


def delta_chars(chunk: ChatCompletionChunk) -> int:
    """Characters of text, function names and arguments a chunk streams."""
    chars = 0
    for choice in chunk.choices:
        delta = choice.delta
        if delta.content:
            chars += len(delta.content)
        if delta.reasoning_content:
            chars += len(delta.reasoning_content)
        for call in delta.tool_calls or ():
            if call.function is not None:
                chars += len(call.function.name or "") + len(call.function.arguments or "")
        if delta.function_call is not None:
            chars += len(delta.function_call.name or "") + len(delta.function_call.arguments or "")
    return chars


class ProviderStream:
    """`batches` (an adapter's chunks, then optionally its `StreamEnd`) under the shared rules."""

    def __init__(
        self,
        batches: AsyncGenerator[Batch, None],
        *,
        request: ChatCompletionRequest,
        budget: OutputBudget,
        vendor: str,
        counted: Callable[[], Usage | None] | None = None,
    ) -> None:
        self._batches = batches
        self._request = request
        self._budget = budget
        self._vendor = vendor
        self._counted = counted  # exact usage so far, where the provider knows it
        self._chars = 0
        self._pieces = 0  # chunks that carried output
        self._yielded = False
        self._end: StreamEnd | None = None
        self._overrun: UpstreamError | None = None  # found in a batch, raised on the next call

    def __aiter__(self) -> ProviderStream:
        return self

    async def __anext__(self) -> Batch:
        """The next non-empty batch; the last one ends with the `StreamEnd`."""
        while True:
            if self._overrun is not None:
                raise self._overrun
            if self._end is not None:
                raise StopAsyncIteration
            try:
                batch = await anext(self._batches)
            except StopAsyncIteration:
                self._end = self.billed()
                return [self._end]
            except UpstreamError as exc:
                if self._yielded:
                    exc.retryable = False
                raise
            accepted = self._accept(batch)
            if accepted:
                self._yielded = True
                return accepted

    def _accept(self, batch: Batch) -> Batch:
        accepted: Batch = []
        for item in batch:
            if isinstance(item, StreamEnd):
                self._end = self._guarded(item)
                accepted.append(self._end)
                break
            chars = delta_chars(item)
            if chars:
                budget = self._budget.tokens
                if self._pieces >= budget or self._chars + chars > budget * MAX_CHARS_PER_TOKEN:
                    # Not handed on, so not billed: the bill is what went through.
                    self._overrun = UpstreamError(
                        502,
                        f"{self._vendor} kept streaming past the output the request allows "
                        f"(about {budget} tokens); the stream was cut",
                        code="upstream_overrun",
                    )
                    break
                self._chars += chars
                self._pieces += 1
            accepted.append(item)
        return accepted

    def _guarded(self, end: StreamEnd) -> StreamEnd:
        """The provider's usage kept within what this stream can have cost (`usage_guard`)."""
        usage, corrected = guard_usage(
            end.usage,
            self._request,
            prompt_chars=prompt_chars(self._request),
            completion_chars=self._chars,
            budget=self._budget,
        )
        return StreamEnd(usage, end.estimated or corrected)

    def billed(self) -> StreamEnd:
        """What to book now: the end's usage, the provider's exact count, or an estimate."""
        if self._end is not None:
            return self._end
        if self._counted is not None:
            exact = self._counted()
            if exact is not None:
                return StreamEnd(exact)
        completion = estimate_tokens(self._chars)
        return StreamEnd(Usage.of(estimate_tokens(prompt_chars(self._request)), completion), True)

    async def aclose(self) -> None:
        await self._batches.aclose()
