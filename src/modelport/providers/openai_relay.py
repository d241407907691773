"""The relay path of OpenAI-compatible channels: the upstream's own JSON goes to the client.

The upstream already speaks the client's protocol, so projecting every stream chunk onto our
wire types and serialising it again (several pydantic passes per chunk) buys nothing but CPU.
Here each chunk is decoded once (orjson), checked for what the gateway acts on (an error,
the choices and whether one finished, usage), and handed on as the upstream's object; the chat
service rewrites only `id`/`model`/`created` (`chat/relay.py`). Events are split from whole
network reads and handed on as one batch per read, so the layers above run once per read,
not once per event. Same failures as the model path: malformed JSON, an `error` event or a
stream that ends unfinished raise `UpstreamError`, and the HTTP plumbing is `providers.http`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import Usage
from ..settings import ChannelConfig
from .errors import UpstreamError
from .http import drain, malformed
from .sse import SSEDataSplitter

# The upstream's reported usage (its `usage` object) → ours, or None when it is not one.
UsageReader = Callable[[Any], Usage | None]
StreamError = Callable[[Any], UpstreamError]


@dataclass(slots=True)
class RelayChunk:
    """One upstream chunk object, `usage` taken out of it (also from inside a choice)."""

    data: dict[str, Any]
    choices: list[dict[str, Any]]
    usage: Usage | None
    finished: bool  # a choice ends in this chunk (it carries a finish_reason)
    chars: int  # text and call characters it carries: an estimate's base when usage is missing


def decode(raw: bytes, vendor: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # undecodable bytes: replaced, as the line-based reader does, then parsed again
        return orjson.loads(raw.decode("utf-8", "replace"))
    except orjson.JSONDecodeError as exc:
        raise malformed(vendor, f"invalid JSON ({exc})") from None


def relay_chunk(
    raw: bytes, vendor: str, read_usage: UsageReader, stream_error: StreamError
) -> RelayChunk:
    # Runs for every event of every relayed stream: one pass over the choices, no helper
    # calls for what most chunks lack (usage, calls).
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = decode(raw, vendor)
    if not isinstance(data, dict):
        raise malformed(vendor, "a stream event is not a JSON object")
    if "error" in data:
        raise stream_error(data["error"])
    choices = data.get("choices")
    if choices is None:
        choices = data["choices"] = []
    elif not isinstance(choices, list):
        raise malformed(vendor, "a stream event's `choices` is not a list")
    reported = data.pop("usage", None)
    try:
        usage = None if reported is None else read_usage(reported)
        finished = False
        chars = 0
        for choice in choices:
            delta = choice.get("delta")
            if delta is not None:
                if not isinstance(delta, dict):
                    raise TypeError("a choice's `delta` is not an object")
                content = delta.get("content")
                if isinstance(content, str):
                    chars += len(content)
                if "tool_calls" in delta or "function_call" in delta:
                    chars += _call_chars(delta)
            if "usage" in choice:  # Moonshot reports usage inside the choice
                usage = read_usage(choice.pop("usage")) or usage
            if choice.get("finish_reason"):
                finished = True
    except (TypeError, ValueError, AttributeError) as exc:
        raise malformed(vendor, f"unexpected shape ({type(exc).__name__}: {exc})") from None
    return RelayChunk(data, choices, usage, finished, chars)


def _text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _call_chars(delta: dict[str, Any]) -> int:
    """Characters of the function names and arguments a delta streams."""
    chars = 0
    for call in delta.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            chars += _text_len(function.get("name")) + _text_len(function.get("arguments"))
    call_delta = delta.get("function_call")
    if isinstance(call_delta, dict):
        chars += _text_len(call_delta.get("name")) + _text_len(call_delta.get("arguments"))
    return chars


async def relay_stream(
    opened: AbstractAsyncContextManager[AsyncIterator[bytes]],
    *,
    choices_wanted: int,
    vendor: str,
    read_usage: UsageReader,
    stream_error: StreamError,
) -> AsyncIterator[list[RelayChunk]]:
    """The chunks of the stream `opened` (an `open_byte_stream(...)`), a list per network read
    that completed at least one event. A failure mid-read first hands on the chunks before it,
    so what reached the client and what is retryable are the same as on the model path."""
    splitter = SSEDataSplitter()
    finished: set[int] = set()
    done = False
    async with opened as blocks:
        ended = False
        while not (done or ended):
            block = await anext(blocks, None)
            if block is None:
                ended, events = True, splitter.close()
            else:
                events = splitter.feed(block)
            batch: list[RelayChunk] = []
            try:
                for raw in events:
                    if raw[:1] != b"{" and raw.strip() == b"[DONE]":
                        done = True
                        break
                    chunk = relay_chunk(raw, vendor, read_usage, stream_error)
                    if chunk.finished:
                        finished.update(_finished_indexes(chunk.choices))
                    batch.append(chunk)
            except UpstreamError:
                if batch:
                    yield batch
                raise
            if batch:
                yield batch
        if done:
            await drain(blocks)  # keeps the connection alive for the next request
    if not done and len(finished) < choices_wanted:
        raise malformed(vendor, "the stream ended before the completion finished")


def _finished_indexes(choices: list[dict[str, Any]]) -> list[int]:
    return [c.get("index", 0) for c in choices if c.get("finish_reason")]


@dataclass(slots=True)
class RelayCompletion:
    """An upstream `chat.completion` object, `usage` normalised (the rest as sent)."""

    data: dict[str, Any]
    usage: Usage


def relay_completion(
    data: Any,
    vendor: str,
    read_usage: UsageReader,
    stream_error: StreamError,
) -> RelayCompletion:
    if not isinstance(data, dict):
        raise malformed(vendor, "the body is not a JSON object")
    if "error" in data and "choices" not in data:
        raise stream_error(data["error"])
    choices = data.get("choices")
    if not isinstance(choices, list) or not all(
        isinstance(c, dict) and isinstance(c.get("message"), dict) for c in choices
    ):
        raise malformed(vendor, "unexpected shape (`choices` with a `message` each)")
    try:
        usage = read_usage(data.get("usage")) or Usage()
    except (TypeError, ValueError) as exc:
        raise malformed(vendor, f"unexpected usage ({type(exc).__name__}: {exc})") from None
    data["usage"] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    return RelayCompletion(data, usage)


@runtime_checkable
class RelayProvider(Protocol):
    """A provider whose upstream speaks the client's protocol, so its answers can be relayed."""

    async def complete_relay(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> RelayCompletion: ...

    def relay(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[list[RelayChunk]]: ...
