"""How a stream settles its bill: every ending books a status and an error code."""

from __future__ import annotations

from collections.abc import AsyncIterator

from modelport.chat.stream import ChatStream
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, ChunkChoice, Delta, Usage
from modelport.providers.errors import UpstreamError


async def _failing_after_one_chunk() -> AsyncIterator[ChatCompletionChunk]:
    yield ChatCompletionChunk(
        id="x",
        created=0,
        model="m",
        choices=[ChunkChoice(index=0, delta=Delta(role="assistant", content="Hi"))],
    )
    raise UpstreamError(502, "the upstream reset the connection", retryable=False)


async def test_a_mid_stream_upstream_failure_is_booked_with_a_code() -> None:
    settled: list[tuple[int, str | None]] = []

    async def settle(usage: Usage | None, status: int, code: str | None, estimated: bool) -> None:
        settled.append((status, code))

    request = ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    )
    stream = ChatStream(_failing_after_one_chunk(), None, request, "m", "chatcmpl-1", settle)
    frames = [frame async for frame in stream]
    await stream.aclose()
    assert frames[-1] == b"data: [DONE]\n\n" and b'"error"' in frames[-2]
    assert settled == [(502, "upstream_error")]
