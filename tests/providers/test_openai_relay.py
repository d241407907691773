"""The relay path of the OpenAI-compatible adapter: the upstream's own chunk objects, batched
per read, with the same failures as the model path; and the byte-level SSE splitter."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.openai_compat import OpenAICompatProvider
from modelport.providers.openai_relay import RelayChunk
from modelport.providers.sse import SSEDataSplitter, iter_lines, iter_sse
from modelport.providers.transport import upstream_client
from modelport.settings import ChannelConfig

from .helpers import WEATHER_TOOL, chat


@pytest.fixture(params=["httpx", "http1"])
async def provider(request: Any, deps: ProviderDeps) -> AsyncIterator[OpenAICompatProvider]:
    """Both HTTP clients: the adapters' plain httpx one and the server's own (`http1`)."""
    if request.param == "httpx":
        yield OpenAICompatProvider(deps)
        return
    http = upstream_client()
    try:
        yield OpenAICompatProvider(ProviderDeps(settings=deps.settings, http=http))
    finally:
        await http.aclose()


@pytest.fixture
def channel(openai_url: str) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat",
        base_url=openai_url,
        api_key="sk-test-1",
        upstream_model="gpt-upstream",
        read_timeout=5,
    )


async def relayed(stream: AsyncIterator[list[RelayChunk]]) -> list[RelayChunk]:
    return [chunk async for batch in stream for chunk in batch]


def text_of(chunks: list[RelayChunk], index: int = 0) -> str:
    return "".join(
        c["delta"].get("content") or "" for k in chunks for c in k.choices if c["index"] == index
    )


async def test_text_stream_keeps_the_upstream_objects(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    chunks = await relayed(provider.relay(chat("relay me"), channel))
    assert text_of(chunks) == "Echo: relay me"
    assert sum(k.chars for k in chunks) == len("Echo: relay me")
    assert all(
        k.data["model"] == "gpt-upstream" and "logprobs" in k.choices[0] for k in chunks[:-1]
    )
    assert [k.finished for k in chunks].count(True) == 1
    last = chunks[-1]
    assert last.choices == [] and "usage" not in last.data
    assert last.usage is not None and last.usage.completion_tokens == 3
    assert all(k.usage is None for k in chunks[:-1])


async def test_tool_arguments_and_n_choices(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    chunks = await relayed(provider.relay(chat("call it", tools=[WEATHER_TOOL]), channel))
    arguments = "".join(
        call["function"].get("arguments") or ""
        for k in chunks
        for c in k.choices
        for call in c["delta"].get("tool_calls") or []
    )
    assert json.loads(arguments)["query"] == "call it"
    names = "".join(
        call["function"].get("name") or ""
        for k in chunks
        for c in k.choices
        for call in c["delta"].get("tool_calls") or []
    )
    # What an estimate counts when no usage comes: the names and arguments streamed.
    assert sum(k.chars for k in chunks) == len(names) + len(arguments) > 0
    two = await relayed(provider.relay(chat("x y", n=2), channel))
    assert text_of(two, 0) == text_of(two, 1) == "Echo: x y"


async def test_non_stream_answer_is_the_upstream_object(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    answer = await provider.complete_relay(chat("hello there"), channel)
    assert answer.data["choices"][0]["message"]["content"] == "Echo: hello there"
    assert answer.data["service_tier"] == "default"  # vendor additions pass through
    assert answer.data["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert answer.usage.total_tokens == 5


@pytest.mark.parametrize(
    ("fault", "status", "retryable"),
    [("429", 429, True), ("500", 502, True), ("garbage", 502, False)],
)
async def test_failures_match_the_model_path(
    provider: OpenAICompatProvider,
    channel: ChannelConfig,
    fault: str,
    status: int,
    retryable: bool,
) -> None:
    with pytest.raises(UpstreamError) as info:
        await relayed(provider.relay(chat(f"FAULT:{fault}"), channel))
    # garbage arrives after the role chunk: even in the same read, too late to retry
    assert (info.value.status, info.value.retryable) == (status, retryable)
    with pytest.raises(UpstreamError) as plain:
        await provider.complete_relay(chat(f"FAULT:{fault}"), channel)
    assert plain.value.status == status and plain.value.retryable


@pytest.mark.parametrize("fault", ["truncate", "reset", "midstream-error"])
async def test_broken_streams_hand_on_what_came_first(
    provider: OpenAICompatProvider, channel: ChannelConfig, fault: str
) -> None:
    got: list[RelayChunk] = []
    with pytest.raises(UpstreamError) as info:
        async for batch in provider.relay(chat(f"FAULT:{fault}"), channel):
            got.extend(batch)
    assert info.value.status >= 500 and not info.value.retryable
    assert got and got[0].choices[0]["delta"]["role"] == "assistant"


def split(*reads: bytes) -> list[bytes]:
    splitter = SSEDataSplitter()
    events = [event for read in reads for event in splitter.feed(read)]
    return events + splitter.close()


def test_splitter_line_endings_across_reads() -> None:
    assert split(b"data: a\r", b"\n\r\n", b"data: b\r\rdata: c\n\n") == [b"a", b"b", b"c"]
    assert split(b"data: x\r", b"\ndata: y\r\n\r\n") == [b"x\ny"]  # a CRLF cut in two


def test_splitter_fields_comments_and_an_unterminated_end() -> None:
    reads = (b': keep-alive\n\nevent: delta\nid: 7\ndata:{"a":1}\n', b"\n", b"data\n\ndata: z")
    assert split(*reads) == [b'{"a":1}', b"", b"z"]
    assert split(b"data: one\n", b"data: two\n") == [b"one\ntwo"]


_LINES = st.sampled_from(
    [b"data: {}", b'data: {"a":1}', b"data:x", b"data", b"data: ", b": ping", b"event: e", b""]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_LINES, max_size=12),
    ending=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=5),
)
def test_splitter_agrees_with_the_line_reader(
    lines: list[bytes], ending: bytes, cuts: list[int]
) -> None:
    """Fast path (whole events cut at blank lines) or not, the splitter reads what the
    line-based reader of the model path reads, however the bytes are cut into reads."""
    text = b"".join(line + ending for line in lines)
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    reads = [text[a:b] for a, b in itertools.pairwise(bounds)]

    async def read_back() -> list[bytes]:
        async def blocks() -> AsyncIterator[bytes]:
            for read in reads:
                yield read

        return [e.data.encode() async for e in iter_sse(iter_lines(blocks()))]

    assert split(*reads) == asyncio.run(read_back())


_EVENTS = st.sampled_from(
    [
        b"data: {}\n\n",
        b'data: {"a":"x\\ndata: y"}\n\n',
        b"data: [DONE]\n\n",
        b"data:x\n\n",
        b"data: a\ndata: b\n\n",
        b": ping\n\n",
        b"\n",
        b"data: \n\n",
        b"event: e\ndata: 1\n\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(reads=st.lists(st.lists(_EVENTS, min_size=1, max_size=6), max_size=5))
def test_splitter_on_reads_cut_at_event_ends(reads: list[list[bytes]]) -> None:
    """Reads of whole events, as upstreams mostly send them (the splitter's quick path), read
    the same as the line-by-line rules, including events it must not take the quick way."""
    blocks = [b"".join(events) for events in reads]
    assert split(*blocks) == split(b"".join(blocks)[:1], b"".join(blocks)[1:])
