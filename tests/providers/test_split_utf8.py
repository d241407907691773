"""Relayed answers whose UTF-8 bytes arrive cut inside characters (issue 21): the event
parser and the OpenAI-compatible adapter hold a character's first bytes until the rest come,
so no U+FFFD and no broken JSON, sync and stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest

from modelport.providers.base import ProviderDeps
from modelport.providers.http_client import UpstreamBody
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.providers.sse import EventParser
from modelport.settings import ChannelConfig
from tests.fakes.server import serve_asgi
from tests.fakes.split_utf8 import ANSWER, create_app, split_inside_characters

from .helpers import chat, collect_with_end, streamed_text

EVENTS = 'data: {"t": "春天🌸好"}\n\ndata: {"t": "naïve — 晓"}\r\n\r\n'.encode()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("cut", range(1, len(EVENTS)))
def test_event_parser_holds_a_character_cut_between_reads(cut: int) -> None:
    parser = EventParser()
    events = parser.feed(EVENTS[:cut]) + parser.feed(EVENTS[cut:]) + parser.close()
    assert [e.data for e in events] == ['{"t": "春天🌸好"}', '{"t": "naïve — 晓"}']


def test_event_parser_byte_by_byte() -> None:
    parser = EventParser()
    events = [e for i in range(len(EVENTS)) for e in parser.feed(EVENTS[i : i + 1])]
    assert [e.data for e in events + parser.close()] == [
        '{"t": "春天🌸好"}',
        '{"t": "naïve — 晓"}',
    ]


@pytest.fixture(scope="module")
def split_app() -> Any:
    return create_app()


@pytest.fixture(scope="module")
def split_url(split_app: Any) -> Iterator[str]:
    with serve_asgi(split_app) as url:
        yield url + "/v1"


@pytest.fixture
def channel(split_url: str) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat", base_url=split_url, api_keys=["sk-split"], read_timeout=5
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The network reads the adapter gets, recorded (to show the fake really cut them)."""
    seen: list[bytes] = []
    original = UpstreamBody.blocks

    async def recorded(self: UpstreamBody) -> AsyncGenerator[bytes, None]:
        async for block in original(self):
            seen.append(block)
            yield block

    monkeypatch.setattr(UpstreamBody, "blocks", recorded)
    return seen


async def test_relayed_stream_cut_inside_characters(
    deps: ProviderDeps, channel: ChannelConfig, reads: list[bytes]
) -> None:
    chunks, end = await collect_with_end(OpenAICompatProvider(deps).stream(chat("春天"), channel))
    assert sum(not _is_utf8(block) for block in reads) > 3, "reads were not cut mid-character"
    assert streamed_text(chunks) == ANSWER
    assert all("\ufffd" not in (c.delta.content or "") for k in chunks for c in k.choices)
    assert end.usage is not None and end.usage.completion_tokens == 20


async def test_relayed_completion_cut_inside_characters(
    deps: ProviderDeps, channel: ChannelConfig, split_app: Any
) -> None:
    result = await OpenAICompatProvider(deps).complete(chat("春天"), channel)
    assert sum(not _is_utf8(p) for p in split_app.state.pieces) > 3
    assert result.choices[0].message.content == ANSWER


def test_the_fake_cuts_inside_every_multibyte_character() -> None:
    pieces = split_inside_characters("a春🌸b".encode())
    assert pieces == [b"a\xe6", b"\x98\xa5\xf0", b"\x9f\x8c\xb8b"]
