"""How a stream settles its bill: every ending books a status, an error code and the usage
the provider's stream says was produced (reported, or estimated when it reported none)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

from modelport.chat.stream import ChatStream
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, ChunkChoice, Delta, Usage
from modelport.providers.budget import OutputBudget
from modelport.providers.errors import UpstreamError
from modelport.providers.stream import Batch, ProviderStream, StreamEnd
from modelport.routing.health import CircuitBreaker
from modelport.routing.timeouts import WatchedStream
from modelport.settings import ChannelConfig

Settled = list[tuple[Usage, int, str | None, bool]]


def _chunk(content: str | None = None, finish: str | None = None) -> ChatCompletionChunk:
    delta = Delta(role="assistant", content=content) if content is not None else Delta()
    choice = ChunkChoice(index=0, delta=delta, finish_reason=finish)  # type: ignore[arg-type]
    return ChatCompletionChunk(id="up", created=0, model="up-model", choices=[choice])


def _request(**fields: object) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "stream": True}
    return ChatCompletionRequest.model_validate({**body, **fields})


def _stream(
    items: AsyncGenerator[Batch, None], request: ChatCompletionRequest, settled: Settled
) -> ChatStream:
    async def settle(usage: Usage, status: int, code: str | None, estimated: bool) -> None:
        settled.append((usage, status, code, estimated))

    source = ProviderStream(items, request=request, budget=OutputBudget(100), vendor="fake")
    watched = WatchedStream(source, ChannelConfig(), None, CircuitBreaker(3, 5, 30))
    return ChatStream(watched, None, request, "public", "chatcmpl-1", settle)


def _events(frames: list[bytes]) -> list[object]:
    text = b"".join(frames).decode()
    return [json.loads(line[6:]) for line in text.split("\n\n") if line.startswith("data: {")]


async def test_a_mid_stream_upstream_failure_is_booked_with_a_code() -> None:
    async def items() -> AsyncGenerator[Batch, None]:
        yield [_chunk("Hi there")]
        raise UpstreamError(502, "the upstream reset the connection", retryable=False)

    settled: Settled = []
    stream = _stream(items(), _request(), settled)
    frames = [frame async for frame in stream]
    await stream.aclose()
    assert frames[-1].endswith(b"data: [DONE]\n\n")
    assert _events(frames)[-1] == {
        "error": {
            "message": "the upstream reset the connection",
            "type": "upstream_error",
            "param": None,
            "code": None,
        }
    }
    # "hello" and "Hi there": 5 and 8 characters, about 2 tokens each, estimated
    assert settled == [(Usage.of(2, 2), 502, "upstream_error", True)]


async def test_the_reported_usage_rides_on_the_finish_chunk_and_is_booked() -> None:
    async def items() -> AsyncGenerator[Batch, None]:
        yield [_chunk("Hi")]
        yield [_chunk(finish="stop")]
        yield [StreamEnd(Usage.of(7, 3))]

    settled: Settled = []
    stream = _stream(items(), _request(stream_options={"include_usage": True}), settled)
    frames = [frame async for frame in stream]
    await stream.aclose()
    events = _events(frames)
    assert [e["id"] for e in events] == ["chatcmpl-1"] * 3  # type: ignore[index]
    assert {e["model"] for e in events} == {"public"}  # type: ignore[index]
    assert events[1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}  # type: ignore[index]
    assert events[2]["choices"] == [] and events[2]["usage"]["total_tokens"] == 10  # type: ignore[index]
    assert settled == [(Usage.of(7, 3), 200, None, False)]


async def test_a_stream_without_reported_usage_is_booked_as_an_estimate() -> None:
    async def items() -> AsyncGenerator[Batch, None]:
        yield [_chunk("abcdefghij")]  # 10 characters: 3 tokens
        yield [_chunk(finish="stop")]

    settled: Settled = []
    stream = _stream(items(), _request(), settled)
    frames = [frame async for frame in stream]
    await stream.aclose()
    assert _events(frames)[-1]["usage"]["completion_tokens"] == 3  # type: ignore[index]
    assert settled == [(Usage.of(2, 3), 200, None, True)]


async def test_a_client_that_leaves_is_booked_for_what_went_through() -> None:
    async def items() -> AsyncGenerator[Batch, None]:
        yield [_chunk("abcd")]
        yield [_chunk("efgh")]
        yield [_chunk("never sent")]

    settled: Settled = []
    stream = _stream(items(), _request(), settled)
    await anext(aiter(stream))
    await anext(aiter(stream))
    await stream.aclose()
    assert settled == [(Usage.of(2, 2), 499, "client_disconnected", True)]


async def test_a_runaway_stream_is_cut_and_booked_for_what_was_relayed() -> None:
    async def items() -> AsyncGenerator[Batch, None]:
        while True:
            yield [_chunk("word ")]

    settled: Settled = []
    stream = _stream(items(), _request(max_tokens=4), settled)
    frames = [frame async for frame in stream]
    await stream.aclose()
    events = _events(frames)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1])  # type: ignore[index]
    assert text == "word " * 100  # the budget: OutputBudget(100) pieces, then the cut
    assert events[-1]["error"]["code"] == "upstream_overrun"  # type: ignore[index]
    assert settled == [(Usage.of(2, 125), 502, "upstream_overrun", True)]
