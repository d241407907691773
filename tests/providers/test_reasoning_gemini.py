"""Gemini thought parts as `reasoning_content`, and `reasoning_effort` as `thinkingConfig`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelport.providers.base import ProviderDeps
from modelport.providers.gemini.adapter import GeminiProvider
from modelport.providers.gemini.convert import parts_of
from modelport.settings import ChannelConfig
from tests.fakes.server import serve_asgi

from .helpers import chat, collect, streamed_text


@pytest.fixture(scope="module")
def thinking_app() -> Any:
    from tests.fakes.gemini_thinking import create_app

    return create_app()


@pytest.fixture(scope="module")
def channel(thinking_app: Any) -> Iterator[ChannelConfig]:
    with serve_asgi(thinking_app) as url:
        yield ChannelConfig(
            provider="gemini",
            base_url=url,
            api_keys=["g-key"],
            upstream_model="gemini-2.5-flash",
            read_timeout=5,
        )


def thinking_sent(app: Any) -> Any:
    return (app.state.requests[-1].get("generationConfig") or {}).get("thinkingConfig")


async def test_thoughts_relayed_whole(deps: ProviderDeps, channel: ChannelConfig) -> None:
    result = await GeminiProvider(deps).complete(chat("why", reasoning_effort="low"), channel)
    message = result.choices[0].message
    assert message.content == "Answer: why"
    assert message.reasoning_content == "Thinking about why."


async def test_thoughts_relayed_streamed(deps: ProviderDeps, channel: ChannelConfig) -> None:
    request = chat("why", reasoning_effort="high", stream=True)
    chunks = await collect(GeminiProvider(deps).stream(request, channel))
    reasoning = "".join(c.delta.reasoning_content or "" for ch in chunks for c in ch.choices)
    assert reasoning == "Thinking about why."
    assert streamed_text(chunks) == "Answer: why"


@pytest.mark.parametrize(
    ("effort", "config"),
    [
        ("minimal", {"thinkingBudget": 512, "includeThoughts": True}),
        ("low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("medium", {"thinkingBudget": 4096, "includeThoughts": True}),
        ("high", {"thinkingBudget": 16384, "includeThoughts": True}),
        ("xhigh", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("none", {"thinkingBudget": 0}),
        (None, None),
    ],
)
async def test_effort_becomes_thinking_config(
    deps: ProviderDeps,
    channel: ChannelConfig,
    thinking_app: Any,
    effort: str | None,
    config: Any,
) -> None:
    fields = {} if effort is None else {"reasoning_effort": effort}
    result = await GeminiProvider(deps).complete(chat("hi", **fields), channel)
    assert thinking_sent(thinking_app) == config
    if config is None or not config.get("includeThoughts"):
        assert result.choices[0].message.reasoning_content is None


def test_thoughts_left_out_unless_asked() -> None:
    candidate = {"content": {"parts": [{"text": "hmm", "thought": True}, {"text": "yes"}]}}
    assert parts_of(candidate, chat("q"))[:2] == ("yes", "")
    assert parts_of(candidate, chat("q", reasoning_effort="none"))[:2] == ("yes", "")
    assert parts_of(candidate, chat("q", reasoning_effort="low"))[:2] == ("yes", "hmm")
