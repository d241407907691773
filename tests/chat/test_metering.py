"""Usage estimates for upstream streams that report none."""

from __future__ import annotations

from collections.abc import AsyncIterator

from modelport.chat.metering import MeteredStream, estimate_tokens, prompt_chars
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, Usage


def chunk(delta: dict[str, object], usage: Usage | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "c",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": delta}] if delta else [],
            "usage": usage.model_dump() if usage else None,
        }
    )


async def source(chunks: list[ChatCompletionChunk]) -> AsyncIterator[ChatCompletionChunk]:
    for item in chunks:
        yield item


def test_estimates_round_up() -> None:
    assert [estimate_tokens(n) for n in (0, 1, 4, 5)] == [0, 1, 1, 2]
    request = ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "system", "content": "ab"}, {"role": "user", "content": "cde"}],
        }
    )
    assert prompt_chars(request) == 5


async def test_counts_text_and_tool_arguments_when_nothing_is_reported() -> None:
    call = {"index": 0, "id": "x", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    chunks = [
        chunk({"content": "Hello"}),
        chunk({"content": " you"}),
        chunk({"tool_calls": [call]}),
    ]
    metered = MeteredStream(source(chunks[1:]), prompt_chars=9)
    metered.count(chunks[0])
    assert [c async for c in metered] == chunks[1:]
    assert metered.usage == Usage.of(3, 3)  # 9 prompt chars; "Hello you" + "f" + "{}" = 12
    assert metered.estimated


async def test_reported_usage_wins() -> None:
    reported = Usage.of(7, 2)
    metered = MeteredStream(source([chunk({"content": "hi"}), chunk({}, reported)]), 100)
    async for _ in metered:
        pass
    assert metered.usage == reported and not metered.estimated
    await metered.aclose()
