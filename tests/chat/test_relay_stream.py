"""RelayStream: relayed upstream chunks become the same client stream as ChatStream's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from modelport.chat.relay import RelayStream
from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import Usage
from modelport.providers.errors import UpstreamError
from modelport.providers.openai_relay import RelayChunk, relay_chunk


def read_usage(data: Any) -> Usage | None:
    return Usage.of(data["prompt_tokens"], data["completion_tokens"]) if data else None


def stream_error(error: Any) -> UpstreamError:
    return UpstreamError(502, str(error), retryable=False)


def parsed(data: dict[str, Any]) -> RelayChunk:
    """An upstream event as the relay path reads it."""
    return relay_chunk(json.dumps(data).encode(), "test", read_usage, stream_error)


def upstream_chunk(delta: dict[str, Any], finish: str | None = None) -> RelayChunk:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    data = {"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "up"}
    data["system_fingerprint"] = "fp"
    return parsed({**data, "choices": [choice]})


def usage_chunk(prompt: int, completion: int) -> RelayChunk:
    data = {"id": "up-1", "object": "chat.completion.chunk", "model": "up", "choices": []}
    return parsed({**data, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})


async def batches(*items: list[RelayChunk], fail: bool = False) -> AsyncIterator[list[RelayChunk]]:
    for item in items:
        yield item
    if fail:
        raise UpstreamError(502, "the upstream reset the connection", retryable=False)


def request(**fields: Any) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "12345678"}], "stream": True}
    return ChatCompletionRequest.model_validate({**body, **fields})


class Settled:
    def __init__(self) -> None:
        self.calls: list[tuple[Usage | None, int, str | None, bool]] = []

    async def __call__(self, usage: Usage | None, status: int, code: str | None, est: bool) -> None:
        self.calls.append((usage, status, code, est))


def events(frames: list[bytes]) -> list[Any]:
    text = b"".join(frames).decode()
    assert text.endswith("data: [DONE]\n\n")
    return [json.loads(part[6:]) for part in text.split("\n\n")[:-2]]


async def test_chunks_carry_our_identity_and_the_finish_chunk_the_usage() -> None:
    settled = Settled()
    first = [upstream_chunk({"role": "assistant", "content": ""})]
    source = batches(
        [upstream_chunk({"content": "Hi"})], [upstream_chunk({}, "stop"), usage_chunk(2, 1)]
    )
    stream = RelayStream(
        source,
        first,
        request(stream_options={"include_usage": True}),
        "pub",
        "chatcmpl-x",
        settled,
        8,
    )
    out = events([frame async for frame in stream])
    await stream.aclose()
    assert [e["id"] for e in out] == ["chatcmpl-x"] * 4
    assert {e["model"] for e in out} == {"pub"} and {e["object"] for e in out} == {
        "chat.completion.chunk"
    }
    assert out[0]["choices"][0]["delta"]["role"] == "assistant" and "usage" not in out[1]
    assert out[2]["choices"][0]["finish_reason"] == "stop"
    assert (
        out[2]["usage"]
        == out[3]["usage"]
        == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
    )
    assert out[3]["choices"] == []
    assert settled.calls == [(Usage.of(2, 1), 200, None, False)]


async def test_without_a_report_the_bill_is_an_estimate() -> None:
    settled = Settled()
    source = batches([upstream_chunk({"content": "abcdefgh"}), upstream_chunk({}, "stop")])
    stream = RelayStream(source, None, request(), "pub", "chatcmpl-x", settled, 8)
    out = events([frame async for frame in stream])
    await stream.aclose()
    assert out[-1]["usage"] is None and len(out) == 2
    assert settled.calls == [(Usage.of(2, 2), 200, None, True)]


async def test_a_failure_after_the_first_byte_is_an_event_and_booked() -> None:
    settled = Settled()
    source = batches([upstream_chunk({"content": "Hi"})], fail=True)
    stream = RelayStream(source, None, request(), "pub", "chatcmpl-x", settled, 8)
    out = events([frame async for frame in stream])
    await stream.aclose()
    assert out[-1]["error"]["message"] == "the upstream reset the connection"
    assert [(status, code) for _, status, code, _ in settled.calls] == [(502, "upstream_error")]


async def test_a_client_that_leaves_is_billed_what_it_got() -> None:
    settled = Settled()
    source = batches([upstream_chunk({"content": "abcd"})], [upstream_chunk({"content": "more"})])
    stream = RelayStream(source, None, request(), "pub", "chatcmpl-x", settled, 8)
    await anext(stream)
    await stream.aclose()
    await stream.aclose()  # settles once
    assert settled.calls == [(Usage.of(2, 1), 499, "client_disconnected", True)]
